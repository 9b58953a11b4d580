/**
 * The whole runtime on onnxruntime-node against the PyTorch reference of the tiny bundle:
 * every case × (A+V spread, A+V timestamp, V only, A only) gives the same frames, layout,
 * prompt length and greedy token ids (PIPELINE §1–§5).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ortNode from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBundle } from './bundle/load';
import { FsBundleSource } from './bundle/fs-source';
import { captionMedia, disposeModel, loadModel, type CaptionModel } from './caption';
import { MemoryMediaSource } from './media/memory-source';
import type { Ort } from './runtime/ort';
import { expectStatsClose, stats } from './features/golden.testutil';
import { compareTokens, goldenMedia, goldenOptions, type Golden, type Stats } from './testing/golden';

const TINY = 'public/bundles/tiny';
const golden = JSON.parse(readFileSync(join(TINY, 'golden.json'), 'utf8')) as Golden;
const ort = ortNode as unknown as Ort;
/** Float noise between ORT's CPU kernels and torch stays far below this logit margin. */
const MARGIN_TOLERANCE = 1e-3;

let model: CaptionModel;

beforeAll(async () => {
  const bundle = await loadBundle(new FsBundleSource(TINY));
  model = await loadModel(ort, bundle, { prefer: 'auto', platform: 'node', capabilities: { webgpu: null } });
});

afterAll(async () => {
  if (model) await disposeModel(model);
});

function fixtureInputs() {
  const fixture = golden.cases.find((c) => c.source.kind === 'ffmpeg-fixture')!;
  const frames = new Uint8Array(readFileSync(join(TINY, fixture.source.decodedFrames!.path)));
  const raw = readFileSync(join(TINY, fixture.source.decodedAudio!.path));
  const audio = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  return { frames, audio };
}

describe('runtime parity with the PyTorch reference (onnxruntime-node)', () => {
  it('covers both interleave modes and all three modalities', () => {
    const kinds = new Set(golden.cases.flatMap((c) => c.runs.map((r) => `${r.modality}/${r.interleave}`)));
    expect([...kinds].sort()).toEqual(['audio-video/spread', 'audio-video/timestamp', 'audio/any', 'video/any']);
  });

  for (const c of golden.cases) {
    for (const run of c.runs) {
      // A prefill chunk that does not divide the prompt also checks chunked prefill == one pass.
      it(`${c.name}: ${run.modality}/${run.interleave}`, async () => {
        const media = new MemoryMediaSource(goldenMedia(c, model.manifest.audio.sampleRate, c.source.kind === 'ffmpeg-fixture' ? fixtureInputs() : undefined));
        const tensors = new Map<string, Stats>();
        const onTensor = (name: string, data: Float32Array, shape: number[]) => tensors.set(name, stats(data, shape));
        const { report, interrupted } = await captionMedia(model, media, goldenOptions(golden, run, model.manifest, 37), { onTensor });
        // Intermediate tensors of the ONNX graphs against PyTorch (float32 on both sides).
        if (run.modality !== 'audio') expectStatsClose(tensors.get('visionFeatures')!, c.visionFeatures, 1e-4);
        if (run.modality !== 'video') expectStatsClose(tensors.get('audioFeatures')!, c.audioFeatures, 1e-4);
        expectStatsClose(tensors.get('inputsEmbeds')!, run.inputsEmbeds, 1e-4);
        expect(interrupted).toBe(false);
        if (run.modality !== 'audio') {
          expect(report.frames.map((f) => f.index)).toEqual(c.frameIndices);
          expect(report.frames.map((f) => f.timestamp)).toEqual(c.timestamps);
        }
        const layout = report.layout.filter((l) => l.frame !== null);
        const trailing = report.layout.find((l) => l.frame === null)?.audioTokens ?? 0;
        expect(layout).toEqual(run.layout);
        expect(trailing).toBe(run.trailingAudio);
        expect(report.promptTokens).toBe(run.promptLength);
        const cmp = compareTokens(report.generatedTokenIds, run.generated, MARGIN_TOLERANCE);
        expect(cmp, `diverged at step ${cmp.divergedAt} where the reference margin was ${cmp.referenceMargin}`).toMatchObject({ ok: true });
        expect(cmp.divergedAt).toBeNull();
      });
    }
  }
});
