/**
 * The cap on rows per decoder run (WEBGPU_GQA_MAX_ROWS, an onnxruntime-web WebGPU bug
 * worked around: models/README.md "Quantised bundles"): which decoders get it, and that a
 * capped prefill runs in pieces of at most the cap and gives the uncapped tokens
 * (the tiny q4 bundle, onnxruntime-node).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeEngineOver } from '../../cli/engine';
import { Decoder, maxRowsPerRun, WEBGPU_GQA_MAX_ROWS } from './decoder';

describe('rows per decoder run', () => {
  it('caps only a GroupQueryAttention decoder (no position_ids input) on WebGPU', () => {
    const gqa = { inputs: { inputs_embeds: 'inputs_embeds', attention_mask: 'attention_mask' } };
    const torch = { inputs: { ...gqa.inputs, position_ids: 'position_ids' } };
    expect(WEBGPU_GQA_MAX_ROWS).toBe(31);
    expect(maxRowsPerRun('webgpu', gqa)).toBe(31);
    expect(maxRowsPerRun('wasm', gqa)).toBe(Infinity);
    expect(maxRowsPerRun('cpu', gqa)).toBe(Infinity);
    expect(maxRowsPerRun('webgpu', torch)).toBe(Infinity);
  });

  describe('a capped prefill (tiny q4)', () => {
    const engine = nodeEngineOver({ warmUp: false });
    beforeAll(() => engine.load('public/bundles/tiny-q4'));
    afterAll(() => engine.dispose());

    async function run(maxRows: number) {
      const model = engine.loaded!;
      const m = model.manifest;
      const session = model.sessions.decoder_model_merged;
      const rows: number[] = [];
      const recording = new Proxy(session, {
        get: (t, k) => (k === 'run' ? (feeds: Record<string, { dims: readonly number[] }>) => (rows.push(feeds.inputs_embeds.dims[1]), t.run(feeds as never)) : Reflect.get(t, k)),
      });
      const d = new Decoder(model.ort, { embed: { session: model.sessions.embed_tokens, entry: m.graphs.embed_tokens }, decoder: { session: recording, entry: m.graphs.decoder_model_merged } }, m.llm, maxRows);
      const ids = Array.from({ length: 70 }, (_, i) => 1000 + 37 * i);
      const argmax = (l: Float32Array) => l.reduce((best, v, i) => (v > l[best] ? i : best), 0);
      const r = await d.generate(await d.embed(ids), { maxNewTokens: 4, stopTokenIds: [], pickToken: argmax, prefillChunk: 64 });
      await d.feed(await d.embed(ids.slice(0, 40)), 64);
      d.dispose();
      return { rows, tokens: r.tokenIds };
    }

    it('runs of at most the cap, the uncapped tokens', async () => {
      const capped = await run(WEBGPU_GQA_MAX_ROWS);
      const free = await run(Infinity);
      expect(capped.rows).toEqual([31, 31, 8, 1, 1, 1, 31, 9]);
      expect(free.rows).toEqual([64, 6, 1, 1, 1, 40]);
      expect(capped.tokens).toHaveLength(4);
      expect(capped.tokens).toEqual(free.tokens);
    });
  });
});
