/**
 * CaptionSession and the in-process Engine on the tiny bundle (onnxruntime-node): cached
 * features on a second request, text pieces in the interleave, follow-up questions on the
 * kept KV cache, and the one interrupt outcome at every stage (engine.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeEngineOver } from '../cli/engine';
import { FsBundleSource } from './bundle/fs-source';
import { loadBundle } from './bundle/load';
import { CaptionError } from './errors';
import { InProcessEngine } from './engine';
import { MemoryMediaSource } from './media/memory-source';
import type { MediaSource } from './media/types';
import type { CaptionRequest } from './options';
import type { CaptionReport } from './report';
import { countingOrt } from './caption.test';
import { goldenMedia, type Golden } from './testing/golden';

const TINY = 'public/bundles/tiny';
const golden = JSON.parse(readFileSync(join(TINY, 'golden.json'), 'utf8')) as Golden;
const c31 = golden.cases.find((c) => c.name === 'synthetic_31s')!;

/** The 31 s synthetic case with call counters on the media side. */
function countedMedia(counts: { frames: number; audio: number }): MediaSource {
  const inner = new MemoryMediaSource(goldenMedia(c31, 16000));
  return {
    info: inner.info,
    frames: (plan) => {
      counts.frames++;
      return inner.frames(plan);
    },
    audioWindows: (plan, o) => {
      counts.audio++;
      return inner.audioWindows(plan, o);
    },
    close: () => inner.close(),
  };
}

const greedy = (r: CaptionRequest): CaptionRequest => ({ decoding: { kind: 'greedy' }, maxNewTokens: 12, ...r });

describe('a second caption on an open session', () => {
  it('decodes nothing and runs no encoder again, and gives the tokens of a fresh run', async () => {
    const runs: number[] = [];
    const bundle = await loadBundle(new FsBundleSource(TINY));
    expect(bundle.manifest.family).toBe('video-salmonn-2');
    const engine = new InProcessEngine<string, MediaSource>({ ort: countingOrt(runs), platform: 'node', source: (d) => new FsBundleSource(d), openMedia: async (m) => m, adapter: async () => null, warmUp: false });
    await engine.load(TINY);
    const roles = Object.keys(engine.loaded!.sessions);
    const runsOf = (role: string) => runs[roles.indexOf(role)];
    const media = { frames: 0, audio: 0 };
    const { mediaId } = await engine.open(countedMedia(media));
    await engine.caption(mediaId, greedy({ interleave: 'spread' }));
    const encoders = ['vision_encoder', 'audio_encoder', 'audio_aligner'].map(runsOf);
    expect(encoders.every((n) => n > 0)).toBe(true);
    expect(media).toEqual({ frames: 1, audio: 1 });

    // Other interleave mode and prompt: the frames and audio features are the cached ones.
    const second = await engine.caption(mediaId, greedy({ interleave: 'timestamp', prompt: 'What happens?' }));
    expect(media).toEqual({ frames: 1, audio: 1 });
    expect(['vision_encoder', 'audio_encoder', 'audio_aligner'].map(runsOf)).toEqual(encoders);
    expect(engine.session(mediaId).counters).toEqual({ frameDecodes: 1, visionRuns: 1, audioRuns: 1 });

    // A fresh engine and session, same request: same tokens.
    const fresh = nodeEngineOver({ warmUp: false });
    await fresh.load(TINY);
    const other = await fresh.open(new MemoryMediaSource(goldenMedia(c31, 16000)));
    const ref = await fresh.caption(other.mediaId, greedy({ interleave: 'timestamp', prompt: 'What happens?' }));
    expect(second.generatedTokenIds).toEqual(ref.generatedTokenIds);
    expect(second.promptTokens).toBe(ref.promptTokens);

    // Changing the sampling decodes and encodes the frames again (a new plan), not the audio.
    await engine.caption(mediaId, greedy({ maxFrames: 3 }));
    expect(media).toEqual({ frames: 2, audio: 1 });
    await Promise.all([engine.dispose(), fresh.dispose()]);
  });
});

describe('text pieces in the interleave', () => {
  const engine = nodeEngineOver({ warmUp: false });
  beforeAll(() => engine.load(TINY));
  afterAll(() => engine.dispose());

  it('places embedded text between frames in time order, rows equal to embed_tokens of its ids', async () => {
    const c = golden.cases.find((x) => x.name === 'synthetic_6.5s')!;
    const m = engine.loaded!.manifest;
    const H = m.llm.hidden;
    const capture = () => {
      const got: { embeds?: Float32Array } = {};
      return { got, onTensor: (name: string, data: Float32Array) => name === 'inputsEmbeds' && (got.embeds = data.slice()) };
    };
    const plain = capture();
    const { mediaId } = await engine.open(new MemoryMediaSource(goldenMedia(c, 16000)));
    const base = await engine.caption(mediaId, greedy({ modality: 'v', timeTokens: false, promptVariant: 'training' }), { onTensor: plain.onTensor });
    // Frames are at 0, 1, 2, … s: a note at 1.5 s goes after frame 1, one at 0 s after frame 0.
    const text = ' a dog barks';
    const noted = capture();
    const report = await engine.caption(mediaId, greedy({ modality: 'v', timeTokens: false, promptVariant: 'training', textPieces: [{ time: 1.5, text }, { time: 0, text: '!' }] }), { onTensor: noted.onTensor });
    const ids = engine.loaded!.tokenizer.encode(text, { add_special_tokens: false }).ids;
    const bang = engine.loaded!.tokenizer.encode('!', { add_special_tokens: false }).ids;
    expect(ids.length).toBeGreaterThan(1);
    expect(report.layout[0].textTokens).toEqual({ note: bang.length });
    expect(report.layout[1].textTokens).toEqual({ note: ids.length });
    expect(report.layout.slice(2).every((e) => e.textTokens === undefined)).toBe(true);
    expect(report.promptTokens).toBe(base.promptTokens + ids.length + bang.length);

    // Row by row: the noted sequence is the plain one with the embedded ids spliced in.
    const embedded = await embedIds(engine, ids);
    const embeddedBang = await embedIds(engine, bang);
    const P = m.vision.tokensPerFrame;
    const before = base.promptTokens - base.layout.length * P - promptAfterLength(base);
    const a = plain.got.embeds!;
    const b = noted.got.embeds!;
    const cut1 = before + P; // after frame 0
    const cut2 = cut1 + bang.length + P; // after frame 1 (in the noted sequence)
    expect(b.subarray(0, cut1 * H)).toEqual(a.subarray(0, cut1 * H));
    expect(b.subarray(cut1 * H, (cut1 + bang.length) * H)).toEqual(embeddedBang);
    expect(b.subarray((cut1 + bang.length) * H, cut2 * H)).toEqual(a.subarray(cut1 * H, (cut1 + P) * H));
    expect(b.subarray(cut2 * H, (cut2 + ids.length) * H)).toEqual(embedded);
    expect(b.subarray((cut2 + ids.length) * H)).toEqual(a.subarray((cut1 + P) * H));
    expect(report.generatedTokenIds).toHaveLength(12);
    await engine.close(mediaId);
  });
});

async function embedIds(engine: ReturnType<typeof nodeEngineOver>, ids: number[]): Promise<Float32Array> {
  const { decoderOf } = await import('./families/salmonn');
  const d = decoderOf(engine.loaded!);
  try {
    return await d.embed(ids);
  } finally {
    d.dispose();
  }
}

/** Rows after the block: "\n" + tokens("\n" + question + "<|im_end|>\n<|im_start|>assistant\n"). */
function promptAfterLength(r: CaptionReport): number {
  return golden.prompt.afterIds.length + (r.options.prompt === golden.prompt.question ? 0 : NaN);
}

describe('follow-up questions on the kept KV cache', () => {
  const engine = nodeEngineOver({ warmUp: false });
  beforeAll(() => engine.load(TINY));
  afterAll(() => engine.dispose());

  it('prefill only the new turn, reuse prompt + answer, and answer as a replay of the whole conversation does', async () => {
    const { mediaId } = await engine.open(new MemoryMediaSource(goldenMedia(c31, 16000)));
    const first = await engine.caption(mediaId, greedy({ prompt: golden.prompt.question }));
    const q1 = await engine.ask(mediaId, 'What is the sound?', greedy({ maxNewTokens: 6 }));
    expect(q1.reusedTokens).toBe(first.promptTokens + first.generatedTokenIds.length + (first.stopReason === 'stop-token' ? 0 : 1));
    const turnIds = engine.loaded!.tokenizer.encode('\n<|im_start|>user\nWhat is the sound?<|im_end|>\n<|im_start|>assistant\n', { add_special_tokens: false }).ids;
    expect(q1.prefillTokens).toBe(turnIds.length);
    const q2 = await engine.ask(mediaId, 'And the colours?', greedy({ maxNewTokens: 5 }));
    expect(q2.reusedTokens).toBe(q1.reusedTokens + q1.prefillTokens + q1.generatedTokenIds.length + (q1.stopReason === 'stop-token' ? 0 : 1));

    // The same conversation replayed without the cache.
    const replayed = await engine.open(new MemoryMediaSource(goldenMedia(c31, 16000)));
    await engine.caption(replayed.mediaId, greedy({ prompt: golden.prompt.question }));
    const session = engine.session(replayed.mediaId);
    const r1 = await session.ask('What is the sound?', greedy({ maxNewTokens: 6 }), {}, undefined, false);
    const r2 = await session.ask('And the colours?', greedy({ maxNewTokens: 5 }), {}, undefined, false);
    expect(r1.reusedTokens).toBe(0);
    expect(r1.prefillTokens).toBe(q1.reusedTokens + q1.prefillTokens);
    expect(r1.generatedTokenIds).toEqual(q1.generatedTokenIds);
    expect(r2.generatedTokenIds).toEqual(q2.generatedTokenIds);
    expect(session.turns.map((t) => t.question)).toEqual(['What is the sound?', 'And the colours?']);

    // Reset forgets the conversation; a question then has nothing to continue.
    await engine.reset(mediaId);
    await expect(engine.ask(mediaId, 'Again?')).rejects.toMatchObject({ code: 'runtime/no-conversation' });
  });
});

describe('the vision encoder on the first frames while later ones are decoded (PIPELINE §2)', () => {
  const engine = nodeEngineOver({ warmUp: false });
  beforeAll(() => engine.load(TINY));
  afterAll(() => engine.dispose());

  it('encodes frames 0–3 before frame 4 is decoded, with the features and tokens of decoding every frame first', async () => {
    const order: string[] = [];
    let visionRan = () => {};
    const firstVisionRun = new Promise<void>((r) => (visionRan = r));
    const vision = engine.loaded!.sessions.vision_encoder;
    const run = vision.run.bind(vision);
    (vision as { run: unknown }).run = (...a: Parameters<typeof run>) => {
      order.push('vision');
      visionRan();
      return run(...a);
    };
    /** The 31 s case; `allFirst`: every frame decoded before the first is handed out, else frame 4 waits for a vision run. */
    const media = (allFirst: boolean): MediaSource => {
      const inner = new MemoryMediaSource(goldenMedia(c31, 16000));
      return {
        info: inner.info,
        frames: async function* (plan) {
          const frames = [];
          for await (const f of inner.frames(plan)) {
            if (!allFirst && frames.length === 4) await firstVisionRun;
            frames.push(f);
            if (!allFirst) yield (order.push(`frame ${frames.length - 1}`), f);
          }
          if (allFirst) yield* frames;
        },
        audioWindows: (plan, o) => inner.audioWindows(plan, o),
        close: () => inner.close(),
      };
    };
    const caption = async (allFirst: boolean) => {
      const { mediaId } = await engine.open(media(allFirst));
      let visual = new Float32Array(0);
      const report = await engine.caption(mediaId, greedy({}), { onTensor: (name, data) => name === 'visionFeatures' && (visual = data.slice()) });
      await engine.close(mediaId);
      return { visual, tokens: report.generatedTokenIds, frames: report.frames.length };
    };
    const overlapped = await caption(false);
    expect(order.slice(0, 6)).toEqual(['frame 0', 'frame 1', 'frame 2', 'frame 3', 'vision', 'frame 4']);
    const sequential = await caption(true);
    const { tokensPerFrame } = engine.loaded!.manifest.vision;
    expect(overlapped.frames).toBeGreaterThan(8); // three batches at least
    expect(overlapped.visual.length).toBe(overlapped.frames * tokensPerFrame * engine.loaded!.manifest.llm.hidden);
    expect(overlapped.visual).toEqual(sequential.visual);
    expect(overlapped.tokens).toEqual(sequential.tokens);
  });
});

describe('interrupt: one outcome at every stage', () => {
  const engine = nodeEngineOver({ warmUp: false });
  beforeAll(() => engine.load(TINY));
  afterAll(() => engine.dispose());

  for (const stage of ['decode', 'vision', 'audio', 'prefill', 'generate'] as const) {
    it(`during ${stage}: rejects with runtime/interrupted naming the stage; the next request works`, async () => {
      const { mediaId } = await engine.open(new MemoryMediaSource(goldenMedia(c31, 16000)));
      let tokens = 0;
      const err = await engine
        .caption(mediaId, greedy({ maxNewTokens: 200, prefillChunk: 16 }), {
          onProgress: (s) => s === stage && engine.interrupt(),
          onToken: () => tokens++,
        })
        .then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(CaptionError);
      expect((err as CaptionError).code).toBe('runtime/interrupted');
      expect((err as CaptionError).details.stage).toBe(stage);
      if (stage === 'generate') {
        const partial = (err as CaptionError).details.report as CaptionReport;
        expect(partial.stopReason).toBe('interrupted');
        expect(partial.generatedTokenIds.length).toBe(tokens);
        expect(tokens).toBeLessThanOrEqual(2); // the interrupt is seen before the next step
        expect((err as CaptionError).details.partialCaption).toBe(partial.caption);
      } else expect(tokens).toBe(0);
      const next = await engine.caption(mediaId, greedy({ maxNewTokens: 3 }));
      expect(next.generatedTokenIds).toHaveLength(3);
      await engine.close(mediaId);
    });
  }
});

describe('local captions: a time range planned as a video of its own', () => {
  const engine = nodeEngineOver({ warmUp: false });
  beforeAll(() => engine.load(TINY));
  afterAll(() => engine.dispose());

  it('10–20 s of the 31 s case equals captioning the cut-out 10 s clip: frames inside the range, audio from its start', async () => {
    const full = goldenMedia(c31, 16000); // 62 frames at 2 fps, 496 000 samples
    const { mediaId } = await engine.open(new MemoryMediaSource(full));
    const tensors = new Map<string, Float32Array>();
    const ranged = await engine.caption(mediaId, greedy({ interleave: 'timestamp', range: { start: 10, end: 20 } }), { onTensor: (n, d) => tensors.set(n, d.slice()) });
    // By hand: frames at t = i/2 in [10, 20) are 20…39; the checkpoint rule's step round(2 fps / 1) = 2 → 20, 22, …, 38 at 10, 11, …, 19 s.
    expect(ranged.range).toEqual({ start: 10, end: 20 });
    expect(ranged.frames.map((f) => f.index)).toEqual([20, 22, 24, 26, 28, 30, 32, 34, 36, 38]);
    expect(ranged.frames.map((f) => f.timestamp)).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    expect(ranged.audio).toMatchObject({ samples: 160_000, windows: 1 }); // 10 s from the range start
    const cut = new MemoryMediaSource({
      name: 'cut',
      video: { ...full.video!, frameCount: 20, frame: (i) => full.video!.frame(i + 20) },
      audio: { sampleRate: 16000, samples: full.audio!.samples.slice(160_000, 320_000) },
    });
    const other = await engine.open(cut);
    const ref = new Map<string, Float32Array>();
    const whole = await engine.caption(other.mediaId, greedy({ interleave: 'timestamp' }), { onTensor: (n, d) => ref.set(n, d.slice()) });
    expect(whole.frames.map((f) => f.index)).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
    expect(ranged.layout).toEqual(whole.layout);
    expect(tensors.get('audioFeatures')).toEqual(ref.get('audioFeatures'));
    expect(tensors.get('inputsEmbeds')).toEqual(ref.get('inputsEmbeds'));
    expect(ranged.generatedTokenIds).toEqual(whole.generatedTokenIds);
    await expect(engine.caption(mediaId, greedy({ range: { start: 40, end: 50 } }))).rejects.toMatchObject({ code: 'media/bad-range' });
  });
});
