/**
 * Test-only page: runs one small ONNX graph (its bytes from the test) on one execution
 * provider, once per set of feeds, and returns every output as plain numbers
 * (e2e/runtime.spec.ts: an operator on WebGPU against WASM).
 */
import type * as OrtWeb from 'onnxruntime-web/webgpu';
import { ortWeb } from '../../src/worker/ort-web';

/** A feed: its values, or (`seed`) deterministic pseudo-random floats in [-2, 2) made here (no large arrays through page.evaluate). */
export interface ProbeFeed { type: 'float32' | 'int64'; dims: number[]; data?: number[]; seed?: number }
export interface ProbeRequest { model: number[]; ep: 'wasm' | 'webgpu'; runs: Record<string, ProbeFeed>[] }
export type ProbeResult = Record<string, { dims: number[]; data: number[] }>[];

declare global {
  interface Window {
    runProbe: (req: ProbeRequest) => Promise<ProbeResult>;
  }
}

/** mulberry32: the same floats for the same seed on every run and backend. */
function randomFloats(seed: number, n: number): Float32Array {
  const out = new Float32Array(n);
  let a = seed >>> 0;
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 2 ** 32) * 4 - 2;
  }
  return out;
}

function tensor(ort: typeof OrtWeb, f: ProbeFeed): OrtWeb.Tensor {
  const data = f.data ?? [];
  if (f.type === 'int64') return new ort.Tensor('int64', BigInt64Array.from(data.map(BigInt)), f.dims);
  return new ort.Tensor('float32', f.seed === undefined ? Float32Array.from(data) : randomFloats(f.seed, f.dims.reduce((a, b) => a * b, 1)), f.dims);
}

window.runProbe = async (req) => {
  const ort = ortWeb() as unknown as typeof OrtWeb;
  const session = await ort.InferenceSession.create(new Uint8Array(req.model), { executionProviders: [req.ep], graphOptimizationLevel: 'all' });
  const results: ProbeResult = [];
  for (const run of req.runs) {
    const out = await session.run(Object.fromEntries(Object.entries(run).map(([name, f]) => [name, tensor(ort, f)])));
    results.push(Object.fromEntries(Object.entries(out).map(([name, t]) => [name, { dims: [...t.dims], data: Array.from(t.data as Float32Array) }])));
  }
  await session.release();
  return results;
};

document.getElementById('status')!.textContent = 'ready';
