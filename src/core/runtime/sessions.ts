/**
 * One ONNX session per graph of the bundle, each on the best execution provider it can
 * use: WebGPU first, WASM as the fallback (onnxruntime-node: CPU). fp16 graphs need
 * shader-f16; the token-embedding table stays on WASM (a huge gather gains nothing on the
 * GPU and can exceed the adapter's buffer limit, ENVIRONMENT.md).
 */
import { CaptionError } from '../errors';
import type { GraphEntry, GraphName } from '../bundle/manifest';
import type { Capabilities } from './capabilities';
import type { Backend, Ort, Session, SessionOptions } from './ort';

export interface GraphBytes {
  model: Uint8Array;
  externalData: { path: string; data: Uint8Array }[];
}

export interface SessionPlan {
  /** Backends to try, best first. */
  order: Backend[];
  /** Outputs that stay on the GPU between runs (the decoder's KV cache). */
  gpuOutputs?: string[];
}

export interface RuntimeOptions {
  /** 'auto' tries WebGPU first; 'wasm' never touches the GPU. */
  prefer: 'auto' | 'wasm';
  /** Node: onnxruntime-node, whose only backend here is 'cpu'. */
  platform: 'web' | 'node';
  capabilities: Pick<Capabilities, 'webgpu'>;
}

/** Which backends one graph may use, best first. */
export function planBackends(name: GraphName, graph: Pick<GraphEntry, 'dtype'>, opts: RuntimeOptions): Backend[] {
  if (opts.platform === 'node') return ['cpu'];
  const gpu = opts.capabilities.webgpu;
  const needsF16 = graph.dtype === 'fp16' || graph.dtype === 'q4f16';
  const gpuOk = opts.prefer === 'auto' && gpu !== null && (!needsF16 || gpu.shaderF16) && name !== 'embed_tokens';
  return gpuOk ? ['webgpu', 'wasm'] : ['wasm'];
}

export interface CreatedSession {
  session: Session;
  backend: Backend;
  /** Why a better backend was not used, when one was skipped. */
  fallbackReason: string | null;
}

/** Creates a session on the first backend of the plan that accepts the graph. */
export async function createSession(ort: Ort, name: string, bytes: GraphBytes, plan: SessionPlan): Promise<CreatedSession> {
  const errors: string[] = [];
  for (const backend of plan.order) {
    const options: SessionOptions = {
      executionProviders: [backend],
      graphOptimizationLevel: 'all',
    };
    if (bytes.externalData.length) options.externalData = bytes.externalData;
    if (backend === 'webgpu' && plan.gpuOutputs?.length) {
      options.preferredOutputLocation = Object.fromEntries(plan.gpuOutputs.map((o) => [o, 'gpu-buffer' as const]));
    }
    try {
      const session = await ort.InferenceSession.create(bytes.model, options);
      return { session, backend, fallbackReason: errors.length ? errors.join('; ') : null };
    } catch (e) {
      errors.push(`${backend}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  throw new CaptionError('runtime/session-create', `The model graph "${name}" could not be loaded on any backend (${errors.join('; ')}). The file may be corrupt or not an ONNX model: delete the cached bundle and load it again.`, { graph: name, errors });
}
