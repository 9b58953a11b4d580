/**
 * The quantised tiny bundles (models/export --dtype q4 | q4f16: MatMulNBits, GroupQueryAttention
 * without position_ids, GatherBlockQuantized embeddings, last-position logits, fp16 activations
 * and KV for q4f16) through the same Engine against their goldens, which the PyTorch reference
 * computed with the bundles' own dequantised weights (PIPELINE §9). q4 computes in float32:
 * every token must match. q4f16 computes in fp16: tokens must match up to the first step where
 * the reference's two best logits are within golden.json's `reference.tieMargin`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeEngineOver } from '../cli/engine';
import { MemoryMediaSource } from './media/memory-source';
import { goldenMedia, goldenOptions, type Golden } from './testing/golden';

for (const dtype of ['q4', 'q4f16'] as const) {
  const DIR = `public/bundles/tiny-${dtype}`;
  describe.skipIf(!existsSync(join(DIR, 'bundle.json')))(`tiny ${dtype} bundle against its dequantised reference`, () => {
    const golden = existsSync(join(DIR, 'golden.json')) ? (JSON.parse(readFileSync(join(DIR, 'golden.json'), 'utf8')) as Golden & { reference?: { tieMargin?: number } }) : null;
    const engine = nodeEngineOver();
    beforeAll(() => engine.load(DIR));
    afterAll(() => engine.dispose());

    it('has the quantised graphs the manifest says', () => {
      const m = engine.loaded!.manifest;
      expect(m.graphs.decoder_model_merged).toMatchObject({ dtype, logits: 'last', kvCache: { dtype: dtype === 'q4f16' ? 'float16' : 'float32' } });
      expect(m.graphs.decoder_model_merged.inputs.position_ids).toBeUndefined();
      expect(golden!.reference?.tieMargin).toBe(dtype === 'q4f16' ? 0.05 : 0);
    });

    for (const c of (golden?.cases ?? []).filter((x) => x.source.kind === 'formula')) {
      for (const run of c.runs) {
        it(`${c.name}: ${run.modality}/${run.interleave}`, async () => {
          const { mediaId } = await engine.open(new MemoryMediaSource(goldenMedia(c, engine.loaded!.manifest.audio.sampleRate)));
          const report = await engine.caption(mediaId, goldenOptions(golden!, run, engine.loaded!.manifest, 37));
          await engine.close(mediaId);
          expect(report.promptTokens).toBe(run.promptLength);
          const tie = golden!.reference?.tieMargin ?? 0;
          const n = run.generated.margins.findIndex((mg) => mg < tie);
          const upTo = n < 0 ? run.generated.ids.length : n;
          expect(report.generatedTokenIds.slice(0, upTo)).toEqual(run.generated.ids.slice(0, upTo));
          if (dtype === 'q4') expect(upTo).toBe(run.generated.ids.length);
        });
      }
    }
  });
}
