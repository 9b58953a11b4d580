import { describe, expect, it } from 'vitest';
import { planBackends, type RuntimeOptions } from './backend';
import type { GpuAdapterFacts } from './capabilities';

const gpu = (o: Partial<GpuAdapterFacts> = {}): GpuAdapterFacts => ({ vendor: 'v', architecture: 'a', device: '', description: '', isFallback: false, shaderF16: true, maxBufferSize: 2 ** 31, ...o });
const web = (adapter: GpuAdapterFacts | null, prefer: RuntimeOptions['prefer'] = 'auto'): RuntimeOptions => ({ platform: 'web', prefer, adapter });
const g = (dtype: 'fp32' | 'fp16' | 'q4' | 'q4f16' | 'q8', device: 'gpu' | 'cpu' = 'gpu', largestTensorBytes?: number) => ({ dtype, device, largestTensorBytes });

describe('planBackends: the backend of each graph is data (manifest + adapter + choice)', () => {
  it.each([
    // graph,                 options,                                   order,               why
    [g('fp32'), web(gpu()), ['webgpu', 'wasm'], null],
    [g('fp32'), web(null), ['wasm'], /No WebGPU adapter/],
    [g('fp32'), web(gpu(), 'wasm'), ['wasm'], /chosen in the settings/],
    [g('fp32', 'cpu'), web(gpu()), ['wasm'], /places this graph on the CPU/],
    [g('q4f16'), web(gpu({ shaderF16: false })), ['wasm'], /q4f16 and this GPU has no shader-f16/],
    [g('fp16'), web(gpu({ shaderF16: false })), ['wasm'], /fp16/],
    [g('q4'), web(gpu({ shaderF16: false })), ['webgpu', 'wasm'], null],
    [g('fp32', 'gpu', 2 ** 30 + 1), web(gpu({ maxBufferSize: 2 ** 30 })), ['wasm'], /exceeds this GPU's maxBufferSize/],
    [g('fp32', 'gpu', 2 ** 30), web(gpu({ maxBufferSize: 2 ** 30 })), ['webgpu', 'wasm'], null],
    // A software fallback adapter (SwiftShader) is 20–60× slower than WASM: auto passes it over …
    [g('fp32'), web(gpu({ isFallback: true })), ['wasm'], /software fallback/],
    // … unless WebGPU is asked for explicitly (the correctness tests on the software adapter).
    [g('fp32'), web(gpu({ isFallback: true }), 'webgpu'), ['webgpu', 'wasm'], null],
    [g('fp32', 'cpu'), web(gpu(), 'webgpu'), ['wasm'], /places this graph on the CPU/],
    [g('q4f16'), { platform: 'node', prefer: 'auto', adapter: null }, ['cpu'], null],
    // q8 (DynamicQuantizeLinear + MatMulInteger): no WebGPU kernels, so WASM wherever the bundle places it, asked for or not
    [g('q8'), web(gpu()), ['wasm'], /q8 \(DynamicQuantizeLinear \+ MatMulInteger\), which the WebGPU EP has no kernels for/],
    [g('q8'), web(gpu(), 'webgpu'), ['wasm'], /q8/],
    [g('q8', 'cpu'), web(gpu()), ['wasm'], /q8/],
    [g('q8'), web(null), ['wasm'], /No WebGPU adapter/],
    [g('q8'), { platform: 'node', prefer: 'auto', adapter: null }, ['cpu'], null],
  ] as const)('%j on %j → %j', (graph, opts, order, why) => {
    const plan = planBackends(graph, opts as RuntimeOptions);
    expect(plan.order).toEqual(order);
    if (why === null) expect(plan.reason).toBeNull();
    else expect(plan.reason).toMatch(why);
  });
});
