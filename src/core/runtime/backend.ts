/**
 * Which backend each graph runs on, decided from data: the manifest's device preference and
 * dtype, the adapter's facts (shader-f16, maxBufferSize, software fallback) and the user's
 * choice. onnxruntime-node has only 'cpu' here.
 */
import type { LowMemorySetting } from '../bundle/memory';
import type { GraphEntry } from '../bundle/manifest';
import type { GpuAdapterFacts } from './capabilities';
import type { Backend } from './ort';

/** 'auto': the GPU where it helps; 'wasm': never the GPU; 'webgpu': the GPU even when it is a software fallback. */
export type Prefer = 'auto' | 'wasm' | 'webgpu';

export interface RuntimeOptions {
  prefer: Prefer;
  platform: 'web' | 'node';
  /** The adapter WebGPU offers, or null. */
  adapter: GpuAdapterFacts | null;
  /** Low-memory mode (bundle/memory.ts; default 'auto'). */
  lowMemory?: LowMemorySetting;
}

export interface BackendPlan {
  /** Backends to try, best first. */
  order: Backend[];
  /** Why the GPU is not first, in words for the page (null when it is, or on Node). */
  reason: string | null;
}

const wasm = (reason: string): BackendPlan => ({ order: ['wasm'], reason });

/**
 * A q8 graph (onnxruntime's dynamic int8: DynamicQuantizeLinear + MatMulInteger) runs on WASM:
 * onnxruntime-web 1.30's WebGPU EP registers neither kernel (onnxruntime
 * core/providers/webgpu/webgpu_execution_provider.cc has QuantizeLinear / DequantizeLinear only,
 * contrib_ops/webgpu/quantization has MatMulNBits, GatherBlockQuantized, MatMulBnb4; the JSEP
 * table js/web/docs/webgpu-operators.md lists neither; the 1.30 .wasm builds name no webgpu or
 * js source for them), so on WebGPU every int8 MatMul would fall back to the CPU node by node,
 * with a GPU↔CPU copy around each.
 */
export const Q8_ON_WASM = 'The graph is q8 (DynamicQuantizeLinear + MatMulInteger), which the WebGPU EP has no kernels for.';

/** The backends one graph may use, best first, and why the GPU was passed over. */
export function planBackends(graph: Pick<GraphEntry, 'dtype' | 'device' | 'largestTensorBytes'>, opts: RuntimeOptions): BackendPlan {
  if (opts.platform === 'node') return { order: ['cpu'], reason: null };
  const gpu = opts.adapter;
  if (opts.prefer === 'wasm') return wasm('WASM was chosen in the settings.');
  if (!gpu) return wasm('No WebGPU adapter is available.');
  if (graph.dtype === 'q8') return wasm(Q8_ON_WASM);
  if (graph.device === 'cpu') return wasm('The bundle places this graph on the CPU.');
  if ((graph.dtype === 'fp16' || graph.dtype === 'q4f16') && !gpu.shaderF16) {
    return wasm(`The graph is ${graph.dtype} and this GPU has no shader-f16.`);
  }
  if (graph.largestTensorBytes !== undefined && graph.largestTensorBytes > gpu.maxBufferSize) {
    return wasm(`Its largest tensor (${graph.largestTensorBytes} bytes) exceeds this GPU's maxBufferSize (${gpu.maxBufferSize} bytes).`);
  }
  if (gpu.isFallback && opts.prefer !== 'webgpu') {
    return wasm('The only WebGPU adapter is a software fallback (no real GPU), 20–60× slower than WASM.');
  }
  return { order: ['webgpu', 'wasm'], reason: null };
}
