/**
 * Low-memory mode (bundle/memory.ts, families/stages.ts) on the tiny bundle with
 * onnxruntime-node: the golden tokens are unchanged, the encoders' sessions are released
 * before the first LLM session is created and never more than one stage's sessions are
 * live, and follow-up questions and text-only turns answer as in the normal mode.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ortNode } from '../cli/ort-node';
import { FsBundleSource } from './bundle/fs-source';
import { stats } from './features/golden.testutil';
import { InProcessEngine } from './engine';
import { MemoryMediaSource } from './media/memory-source';
import type { MediaSource } from './media/types';
import type { CaptionRequest } from './options';
import type { Ort, Session } from './runtime/ort';
import { checkGoldenRun, goldenMedia, goldenOptions, type Golden, type Stats } from './testing/golden';

const TINY = 'public/bundles/tiny';
const golden = JSON.parse(readFileSync(join(TINY, 'golden.json'), 'utf8')) as Golden;
const manifest = JSON.parse(readFileSync(join(TINY, 'bundle.json'), 'utf8')) as { graphs: Record<string, { path: string }> };
const ort = ortNode();
const ENCODERS = ['vision_encoder', 'audio_encoder', 'audio_aligner'];
const LLM = ['embed_tokens', 'decoder_model_merged'];

/** onnxruntime-node whose sessions log their creation and release by role, and keep the set of live ones. */
function loggingOrt(log: string[], live: Set<string>, peaks: number[]): Ort {
  const roleOf = (path: string) => Object.entries(manifest.graphs).find(([, g]) => resolve(TINY, g.path) === path)![0];
  const create = (async (path: string, options: unknown) => {
    const role = roleOf(path);
    const session = (await (ort.InferenceSession.create as (...a: unknown[]) => Promise<Session>)(path, options)) as Session;
    log.push(`create ${role}`);
    live.add(role);
    peaks.push(live.size);
    const release = session.release.bind(session);
    (session as { release: Session['release'] }).release = async () => {
      log.push(`release ${role}`);
      live.delete(role);
      await release();
    };
    return session;
  }) as unknown as Ort['InferenceSession']['create'];
  return { ...ort, InferenceSession: { create } as unknown as Ort['InferenceSession'] };
}

function engineOn(ort: Ort): InProcessEngine<string, MediaSource> {
  return new InProcessEngine<string, MediaSource>({ ort, platform: 'node', source: (dir) => new FsBundleSource(resolve(dir)), openMedia: async (m) => m, adapter: async () => null, warmUp: false });
}

const log: string[] = [];
const live = new Set<string>();
const peaks: number[] = [];
const low = engineOn(loggingOrt(log, live, peaks));
const normal = engineOn(ort);

beforeAll(async () => {
  await low.load(TINY, { lowMemory: 'on' });
  await normal.load(TINY, { lowMemory: 'off' });
});

afterAll(async () => {
  await low.dispose();
  await normal.dispose();
});

const greedy = (r: CaptionRequest): CaptionRequest => ({ decoding: { kind: 'greedy' }, maxNewTokens: 8, ...r });
const media = (name: string) => new MemoryMediaSource(goldenMedia(golden.cases.find((c) => c.name === name)!, 16000));

describe('low-memory mode on the tiny bundle (onnxruntime-node)', () => {
  it('is reported with its setting and reason, and loads only the encoders', async () => {
    const info = await low.load(TINY, { lowMemory: 'on' });
    expect(info.memory).toEqual({ lowMemory: true, setting: 'on', reason: 'Low-memory mode is on in the settings: the encoders are released before the LLM is loaded.' });
    expect(log.slice(-3)).toEqual(ENCODERS.map((r) => `create ${r}`));
    expect([...live].sort()).toEqual([...ENCODERS].sort());
    const off = await normal.load(TINY, { lowMemory: 'off' });
    expect(off.memory).toMatchObject({ lowMemory: false, setting: 'off' });
    expect(low.loaded!.stages!.current).toBe('encoders');
  });

  // The formula cases (the ffmpeg fixture's decoded inputs are caption.golden.test.ts's), A+V: every encoder runs.
  for (const c of golden.cases.filter((g) => g.source.kind === 'formula')) {
    for (const run of c.runs.filter((r) => r.modality === 'audio-video')) {
      it(`keeps the golden tokens: ${c.name} ${run.modality}/${run.interleave}`, async () => {
        const { mediaId } = await low.open(new MemoryMediaSource(goldenMedia(c, 16000)));
        const tensors = new Map<string, Stats>();
        const at = log.length;
        const progress: [string, number, string | undefined][] = [];
        const report = await low.caption(mediaId, goldenOptions(golden, run, low.loaded!.manifest, 37), { onTensor: (n, d, s) => tensors.set(n, stats(d, s)), onProgress: (stage, fraction, detail) => progress.push([stage, fraction, detail]) });
        await low.close(mediaId);
        const check = checkGoldenRun(c, run, report, tensors, 1e-3);
        expect(check.comparison).toMatchObject({ ok: true, divergedAt: null });
        expect(check.tensors).toEqual(Object.fromEntries(Object.keys(check.tensors).map((k) => [k, null])));
        expect(report.memory).toMatchObject({ lowMemory: true });
        // This caption's session events: the LLM (if live) released, the encoders created and run,
        // every encoder released, and only then the first LLM session created.
        const events = log.slice(at);
        const firstLlm = events.indexOf(`create ${LLM[0]}`);
        expect(firstLlm).toBeGreaterThan(-1);
        for (const r of ENCODERS) expect(events.indexOf(`release ${r}`)).toBeGreaterThan(-1);
        for (const r of ENCODERS) expect(events.indexOf(`release ${r}`)).toBeLessThan(firstLlm);
        expect(events.slice(firstLlm)).toEqual(LLM.map((r) => `create ${r}`));
        expect([...live].sort()).toEqual([...LLM].sort());
        // The LLM's creation is reported (stage "session", role by role) before the prefill starts.
        const llmSetup = progress.filter(([s, , d]) => s === 'session' && LLM.includes(d!));
        expect([...new Set(llmSetup.map(([, , d]) => d))]).toEqual(LLM);
        const lastSetup = progress.findLastIndex(([s]) => s === 'session');
        expect(progress[lastSetup]).toEqual(['session', 1, undefined]);
        expect(lastSetup).toBeLessThan(progress.findIndex(([s]) => s === 'prefill'));
      });
    }
  }

  it('never holds more than one stage\'s sessions', () => {
    expect(peaks.length).toBeGreaterThan(ENCODERS.length + LLM.length);
    expect(Math.max(...peaks)).toBe(Math.max(ENCODERS.length, LLM.length));
  });

  it('answers follow-up questions and text-only turns as the normal mode does, also after another video ran its encoders', async () => {
    const [a, b] = ['synthetic_4.5s', 'synthetic_6.5s'];
    const lowA = await low.open(media(a));
    const normalA = await normal.open(media(a));
    const captions = [await low.caption(lowA.mediaId, greedy({})), await normal.caption(normalA.mediaId, greedy({}))];
    expect(captions[0].generatedTokenIds).toEqual(captions[1].generatedTokenIds);
    const q1 = [await low.ask(lowA.mediaId, 'What is the sound?', greedy({})), await normal.ask(normalA.mediaId, 'What is the sound?', greedy({}))];
    expect(q1[0].generatedTokenIds).toEqual(q1[1].generatedTokenIds);
    expect(q1[0].reusedTokens).toBe(q1[1].reusedTokens); // the LLM stayed loaded: the cache was reused

    // Another video: the LLM is released for its encoders, then loaded again.
    const lowB = await low.open(media(b));
    const at = log.length;
    await low.caption(lowB.mediaId, greedy({}));
    expect(log.slice(at)).toEqual([...LLM.map((r) => `release ${r}`), ...ENCODERS.map((r) => `create ${r}`), ...ENCODERS.map((r) => `release ${r}`), ...LLM.map((r) => `create ${r}`)]);
    // Back to the first video: its conversation is replayed on the new LLM sessions, same answer.
    const q2 = [await low.ask(lowA.mediaId, 'And the colours?', greedy({})), await normal.ask(normalA.mediaId, 'And the colours?', greedy({}))];
    expect(q2[0].generatedTokenIds).toEqual(q2[1].generatedTokenIds);
    expect(q2[0].reusedTokens).toBe(0);
    expect(q2[0].prefillTokens).toBe(q2[1].reusedTokens + q2[1].prefillTokens);

    const done = [await low.complete('Hello world', greedy({})), await normal.complete('Hello world', greedy({}))];
    expect(done[0].generatedTokenIds).toEqual(done[1].generatedTokenIds);
    for (const id of [lowA.mediaId, lowB.mediaId]) await low.close(id);
    await normal.close(normalA.mediaId);
  });
});
