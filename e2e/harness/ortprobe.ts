/**
 * Test-only page: runs one small ONNX graph (its bytes from the test) on one execution
 * provider, once per set of feeds, and returns every output as plain numbers
 * (e2e/runtime.spec.ts: an operator on WebGPU against WASM).
 */
import type * as OrtWeb from 'onnxruntime-web/webgpu';
import { ortWeb } from '../../src/worker/ort-web';

export interface ProbeFeed { type: 'float32' | 'int64'; dims: number[]; data: number[] }
export interface ProbeRequest { model: number[]; ep: 'wasm' | 'webgpu'; runs: Record<string, ProbeFeed>[] }
export type ProbeResult = Record<string, { dims: number[]; data: number[] }>[];

declare global {
  interface Window {
    runProbe: (req: ProbeRequest) => Promise<ProbeResult>;
  }
}

function tensor(ort: typeof OrtWeb, f: ProbeFeed): OrtWeb.Tensor {
  return f.type === 'float32' ? new ort.Tensor('float32', Float32Array.from(f.data), f.dims) : new ort.Tensor('int64', BigInt64Array.from(f.data.map(BigInt)), f.dims);
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
