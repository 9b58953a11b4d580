/** Session creation's read progress (countingChunks): the bytes onnxruntime slices off the chunks, over all chunks' bytes. */
import { describe, expect, it } from 'vitest';
import { countingChunks, createSession } from './sessions';
import type { Ort, Session } from './ort';

const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 255);

describe('countingChunks', () => {
  it('counts the ranges sliced off each Blob over the bytes of every chunk, and hands the same bytes on', async () => {
    const a = bytes(300, 1);
    const b = bytes(100, 2);
    const c = bytes(200, 3);
    const seen: number[] = [];
    const chunks = countingChunks(
      [
        { path: 'x.onnx_data', data: new Blob([a]) },
        { path: 'x.onnx_data_1', data: new Blob([b]) },
        { path: 'x.onnx_data_2', data: c },
      ],
      (f) => seen.push(f),
    );
    expect(chunks.map((k) => k.path)).toEqual(['x.onnx_data', 'x.onnx_data_1', 'x.onnx_data_2']);
    expect(chunks[2].data).toBe(c); // bytes are not wrapped
    const [ca, cb] = [chunks[0].data as Blob, chunks[1].data as Blob];
    expect(ca).toBeInstanceOf(Blob); // onnxruntime-web's JSPI reader checks `instanceof Blob`
    expect(ca.size).toBe(300);
    // Reads as the JSPI build makes them: one range per tensor. 600 bytes in all (the 200 in memory count as total, never as read).
    expect(new Uint8Array(await ca.slice(0, 120).arrayBuffer())).toEqual(a.subarray(0, 120));
    expect(new Uint8Array(await ca.slice(120, 300).arrayBuffer())).toEqual(a.subarray(120, 300));
    expect(new Uint8Array(await cb.slice(0, 100).arrayBuffer())).toEqual(b);
    expect(seen).toEqual([120 / 600, 300 / 600, 400 / 600]);
    // The whole Blob (the asyncify build reads each chunk at once) is the original bytes.
    expect(new Uint8Array(await ca.arrayBuffer())).toEqual(a);
  });

  it('is what createSession hands onnxruntime when asked for progress, and only then', async () => {
    const handed: unknown[] = [];
    const ort = { InferenceSession: { create: async (_m: unknown, o: { externalData?: { data: Blob }[] }) => {
      handed.push(o.externalData?.[0].data);
      await o.externalData?.[0].data.slice(0, 50).arrayBuffer();
      return { inputNames: [], outputNames: [], release: async () => {} } as unknown as Session;
    } } } as unknown as Ort;
    const blob = new Blob([bytes(100, 4)]);
    const graph = { model: new Uint8Array(4), externalData: [{ path: 'g.onnx_data', data: blob }] };
    const fractions: number[] = [];
    await createSession(ort, 'decoder_model_merged', graph, { order: ['wasm'], reason: null } as never, [], (f) => fractions.push(f));
    expect(fractions).toEqual([0.5]);
    expect(handed[0]).not.toBe(blob);
    await createSession(ort, 'decoder_model_merged', graph, { order: ['wasm'], reason: null } as never);
    expect(handed[1]).toBe(blob);
  });
});
