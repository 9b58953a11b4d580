/**
 * ONNX sessions, one per graph, created one after another (WebGPU sessions must not be
 * created concurrently, ENVIRONMENT.md) on the first backend of the graph's plan that
 * accepts it; each checked against the I/O names its manifest entry declares.
 */
import type { GraphData } from '../bundle/load';
import type { GraphEntry } from '../bundle/manifest';
import { CaptionError } from '../errors';
import type { BackendPlan } from './backend';
import type { Backend, Ort, Session, SessionOptions } from './ort';

export interface CreatedSession {
  session: Session;
  backend: Backend;
  /** Why a better backend was not used, when one was skipped or failed. */
  fallbackReason: string | null;
}

/** Port pattern ("present.{i}.key") → every concrete name for `layers` layers. */
export function expandPort(pattern: string, layers: number): string[] {
  return pattern.includes('{i}') ? Array.from({ length: layers }, (_, i) => pattern.replaceAll('{i}', String(i))) : [pattern];
}

/**
 * Throws `bundle/graph-contract` naming the graph and the first difference between the I/O
 * the manifest declares and the I/O the graph itself has.
 */
export function checkContract(role: string, entry: Pick<GraphEntry, 'inputs' | 'outputs'>, session: Pick<Session, 'inputNames' | 'outputNames'>, layers: number): void {
  for (const [side, ports, actual] of [
    ['input', entry.inputs, session.inputNames],
    ['output', entry.outputs, session.outputNames],
  ] as const) {
    for (const [port, pattern] of Object.entries(ports)) {
      const missing = expandPort(pattern, layers).find((n) => !actual.includes(n));
      if (missing !== undefined) {
        throw new CaptionError(
          'bundle/graph-contract',
          `The graph "${role}" has no ${side} "${missing}" (port ${port}), which bundle.json declares; its ${side}s are ${actual.slice(0, 8).join(', ')}${actual.length > 8 ? ', …' : ''}. The bundle's graphs and manifest do not belong together: re-export or download it again.`,
          { graph: role, side, port, missing, actual: [...actual] },
        );
      }
    }
  }
}

/**
 * Creates a session on the first backend of the plan that accepts the graph: its bytes, or
 * (onnxruntime-node) the path of its proto on local disk, whose external data ORT then maps.
 */
export async function createSession(ort: Ort, role: string, graph: GraphData | string, plan: BackendPlan, gpuOutputs: string[] = [], onRead?: (fraction: number) => void): Promise<CreatedSession> {
  const errors: string[] = [];
  for (const backend of plan.order) {
    const options: SessionOptions = { executionProviders: [backend], graphOptimizationLevel: 'all' };
    // CPU threads sleep between parallel sections instead of spinning: spinning ones took the
    // cores the JS side of the loop and the media decoding need (bench/README.md, decode step).
    if (backend !== 'webgpu') options.extra = { session: { intra_op: { allow_spinning: '0' } } };
    if (typeof graph !== 'string' && graph.externalData.length) options.externalData = onRead ? countingChunks(graph.externalData, onRead) : graph.externalData;
    if (backend === 'webgpu' && gpuOutputs.length) {
      options.preferredOutputLocation = Object.fromEntries(gpuOutputs.map((o) => [o, 'gpu-buffer' as const]));
    }
    try {
      const session = typeof graph === 'string' ? await ort.InferenceSession.create(graph, options) : await ort.InferenceSession.create(graph.model, options);
      return { session, backend, fallbackReason: [plan.reason, ...errors].filter(Boolean).join('; ') || null };
    } catch (e) {
      errors.push(`${backend}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  throw new CaptionError('runtime/session-create', `The model graph "${role}" could not be loaded on any backend (${errors.join('; ')}). The file may be corrupt or not an ONNX model: delete the cached bundle and load it again.`, { graph: role, errors });
}

/**
 * The chunks with each Blob wrapped (a reference, no copy) to count the bytes onnxruntime
 * slices off it: the JSPI build reads every tensor's range on demand while it creates the
 * session, so the bytes sliced so far over all chunks' bytes is that creation's progress
 * (a multi-GB decoder takes tens of seconds). Bytes chunks are handed over as they are.
 */
export function countingChunks(chunks: GraphData['externalData'], onRead: (fraction: number) => void): GraphData['externalData'] {
  const total = chunks.reduce((n, c) => n + (c.data instanceof Uint8Array ? c.data.byteLength : c.data.size), 0);
  let read = 0;
  const count = (bytes: number) => {
    read += bytes;
    onRead(total ? Math.min(1, read / total) : 1);
  };
  return chunks.map((c) => (c.data instanceof Uint8Array ? c : { path: c.path, data: countedBlob(c.data, count) }));
}

function countedBlob(blob: Blob, onSlice: (bytes: number) => void): Blob {
  class Counted extends Blob {
    override slice(start?: number, end?: number, type?: string): Blob {
      const part = blob.slice(start, end, type);
      onSlice(part.size);
      return part;
    }
  }
  return new Counted([blob]);
}
