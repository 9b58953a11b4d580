/**
 * The whole runtime on onnxruntime-node, through the Engine, against the PyTorch reference
 * of the tiny bundle: every case × (A+V spread, A+V timestamp, V only, A only) gives the
 * same frames, layout, prompt length, intermediate tensors and greedy token ids (PIPELINE §1–§5).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeEngineOver } from '../cli/engine';
import { MemoryMediaSource } from './media/memory-source';
import { stats } from './features/golden.testutil';
import { checkGoldenRun, checkGoldenSetupRun, goldenMedia, goldenOptions, goldenSetupOptions, type Golden, type Stats } from './testing/golden';

const TINY = 'public/bundles/tiny';
const golden = JSON.parse(readFileSync(join(TINY, 'golden.json'), 'utf8')) as Golden;
/** Float noise between ORT's CPU kernels and torch stays far below this logit margin. */
const MARGIN_TOLERANCE = 1e-3;

const engine = nodeEngineOver();

beforeAll(async () => {
  await engine.load(TINY);
});

afterAll(async () => {
  await engine.dispose();
});

function fixtureInputs() {
  const fixture = golden.cases.find((c) => c.source.kind === 'ffmpeg-fixture')!;
  const frames = new Uint8Array(readFileSync(join(TINY, fixture.source.decodedFrames!.path)));
  const raw = readFileSync(join(TINY, fixture.source.decodedAudio!.path));
  const audio = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  return { frames, audio };
}

describe('runtime parity with the PyTorch reference (onnxruntime-node, through the Engine)', () => {
  it('covers both interleave modes and all three modalities', () => {
    const kinds = new Set(golden.cases.flatMap((c) => c.runs.map((r) => `${r.modality}/${r.interleave}`)));
    expect([...kinds].sort()).toEqual(['audio-video/spread', 'audio-video/timestamp', 'audio/any', 'video/any']);
  });

  for (const c of golden.cases) {
    for (const run of c.runs) {
      // A prefill chunk that does not divide the prompt also checks chunked prefill == one pass.
      it(`${c.name}: ${run.modality}/${run.interleave}`, async () => {
        const manifest = engine.loaded!.manifest;
        const { mediaId } = await engine.open(new MemoryMediaSource(goldenMedia(c, manifest.audio.sampleRate, c.source.kind === 'ffmpeg-fixture' ? fixtureInputs() : undefined)));
        const tensors = new Map<string, Stats>();
        const onTensor = (name: string, data: Float32Array, shape: number[]) => tensors.set(name, stats(data, shape));
        const report = await engine.caption(mediaId, goldenOptions(golden, run, manifest, 37), { onTensor });
        await engine.close(mediaId);
        const check = checkGoldenRun(c, run, report, tensors, MARGIN_TOLERANCE);
        expect(check.tensors).toEqual(Object.fromEntries(Object.keys(check.tensors).map((k) => [k, null])));
        expect(check.framesOk).toBe(true);
        expect(check.layoutOk).toBe(true);
        expect(check.promptTokensOk).toBe(true);
        expect(check.comparison, `diverged at step ${check.comparison.divergedAt} where the reference margin was ${check.comparison.referenceMargin}`).toMatchObject({ ok: true, divergedAt: null });
      });
    }
  }
});

describe('the released checkpoint\'s run set-up against the PyTorch reference (setup runs: official prompt, time tokens, max_time, penalty)', () => {
  it('has setup runs for every case', () => {
    expect(golden.cases.every((c) => (c.setupRuns ?? []).length >= 4)).toBe(true);
  });

  for (const c of golden.cases) {
    for (const run of c.setupRuns ?? []) {
      it(`${c.name}: ${run.setup.sampling}/${run.setup.promptVariant}/${run.modality}/${run.interleave} penalty ${run.setup.repetitionPenalty}`, async () => {
        const manifest = engine.loaded!.manifest;
        const input = goldenMedia(c, manifest.audio.sampleRate, c.source.kind === 'ffmpeg-fixture' ? fixtureInputs() : undefined);
        // An audio-only run is an audio-only input (no video track): cut to max_time, not to the video's time.
        const { mediaId } = await engine.open(new MemoryMediaSource(run.audioInput ? { name: input.name, audio: input.audio } : input));
        const tensors = new Map<string, Stats>();
        const onTensor = (name: string, data: Float32Array, shape: number[]) => tensors.set(name, stats(data, shape));
        const report = await engine.caption(mediaId, goldenSetupOptions(golden, run, manifest, 37), { onTensor });
        await engine.close(mediaId);
        const check = checkGoldenSetupRun(c, run, report, tensors, MARGIN_TOLERANCE);
        expect(check.tensors).toEqual(Object.fromEntries(Object.keys(check.tensors).map((k) => [k, null])));
        expect(check.framesOk).toBe(true);
        expect(check.layoutOk).toBe(true);
        expect(check.timeTokensOk).toBe(true);
        expect(check.promptIdsOk).toBe(true);
        expect(check.promptTokensOk).toBe(true);
        expect(check.comparison, `diverged at step ${check.comparison.divergedAt} where the reference margin was ${check.comparison.referenceMargin}`).toMatchObject({ ok: true, divergedAt: null });
        if (run.audioInput) expect(report.audio.samples).toBe(run.audioInput.preparedAudioSamples);
      });
    }
  }
});
