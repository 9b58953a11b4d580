/**
 * The ONNX Runtime module is injected: onnxruntime-web in the browser worker,
 * onnxruntime-node in the CLI. Both share onnxruntime-common's API, typed here.
 */
import type * as OrtCommon from 'onnxruntime-common';

export type Ort = Pick<typeof OrtCommon, 'InferenceSession' | 'Tensor' | 'env'>;
export type Tensor = OrtCommon.Tensor;
export type Session = OrtCommon.InferenceSession;
export type SessionOptions = OrtCommon.InferenceSession.SessionOptions;
export type Feeds = Record<string, OrtCommon.Tensor>;

/** Backends in the order the runtime tries them. 'cpu' is onnxruntime-node's. */
export type Backend = 'webgpu' | 'wasm' | 'cpu';

/** Frees every tensor of a result (GPU buffers are not freed otherwise). */
export function disposeAll(tensors: Iterable<Tensor | undefined>): void {
  for (const t of tensors) {
    try {
      t?.dispose();
    } catch {
      // a tensor already disposed or not owned: nothing to free
    }
  }
}

/** Reads a float32 tensor, downloading it from the GPU when it lives there. */
export async function readFloat32(t: Tensor): Promise<Float32Array> {
  const data = t.location === 'cpu' || t.location === 'cpu-pinned' ? t.data : await t.getData();
  if (data instanceof Float32Array) return data;
  throw new Error(`expected a float32 tensor, got ${t.type}`);
}

export function int64Tensor(ort: Ort, values: ArrayLike<number>, dims: readonly number[]): Tensor {
  return new ort.Tensor('int64', BigInt64Array.from(Array.from(values, (v) => BigInt(v))), dims);
}

export function float32Tensor(ort: Ort, data: Float32Array, dims: readonly number[]): Tensor {
  return new ort.Tensor('float32', data, dims);
}
