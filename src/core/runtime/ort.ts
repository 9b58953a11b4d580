/**
 * The ONNX Runtime module is injected: onnxruntime-web in the browser worker,
 * onnxruntime-node in the CLI. Both share onnxruntime-common's API, typed here, with
 * tensors of the dtypes the bundles use: float32, float16 (quantised bundles' activations
 * and KV cache), int64 (ids, masks, positions), uint8.
 */
import type * as OrtCommon from 'onnxruntime-common';

export type Ort = Pick<typeof OrtCommon, 'InferenceSession' | 'Tensor' | 'env'>;
export type Tensor = OrtCommon.Tensor;
export type Session = OrtCommon.InferenceSession;
export type SessionOptions = OrtCommon.InferenceSession.SessionOptions;
export type Feeds = Record<string, OrtCommon.Tensor>;

/** Backends in the order the runtime tries them. 'cpu' is onnxruntime-node's. */
export type Backend = 'webgpu' | 'wasm' | 'cpu';

/** Float element types of activations and caches. */
export type FloatType = 'float32' | 'float16';

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

const F16 = (globalThis as { Float16Array?: new (n: number | ArrayLike<number>) => ArrayLike<number> & { buffer: ArrayBuffer } }).Float16Array;

// ---- IEEE half <-> single, for platforms without Float16Array (Node 20) ----
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 → binary16 bits, round to nearest even (as a hardware conversion). */
export function toHalfBits(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // Inf / NaN
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow → Inf
  if (e <= 0) {
    if (e < -10) return sign; // underflow → ±0
    mant |= 0x800000; // subnormal half: shift the implicit 1 in
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let m = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    if (rest > half || (rest === half && m & 1)) m++;
    return sign | m;
  }
  let bits = sign | (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && bits & 1)) bits++; // may carry into the exponent: still right
  return bits;
}

/** binary16 bits → float32 value. */
export function fromHalfBits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** The data a float16 tensor takes: Float16Array where the platform has it, else raw bits. */
function halfData(data: Float32Array): ArrayLike<number> {
  if (F16) return new F16(data);
  const out = new Uint16Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = toHalfBits(data[i]);
  return out;
}

/** A float tensor of `type` from float32 values (converted for float16). */
export function floatTensor(ort: Ort, data: Float32Array, dims: readonly number[], type: FloatType = 'float32'): Tensor {
  if (type === 'float32') return new ort.Tensor('float32', data, dims);
  return new ort.Tensor('float16', halfData(data) as Uint16Array, dims);
}

/** Kept for the call sites that only ever build float32 inputs. */
export function float32Tensor(ort: Ort, data: Float32Array, dims: readonly number[]): Tensor {
  return floatTensor(ort, data, dims, 'float32');
}

export function int64Tensor(ort: Ort, values: ArrayLike<number>, dims: readonly number[]): Tensor {
  const out = new BigInt64Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = BigInt(values[i]);
  return new ort.Tensor('int64', out, dims);
}

/** Reads a float tensor as float32 (float16 widened), downloading it from the GPU when it lives there. */
export async function readFloat32(t: Tensor): Promise<Float32Array> {
  const data = t.location === 'cpu' || t.location === 'cpu-pinned' ? t.data : await t.getData();
  if (data instanceof Float32Array) return data;
  if (t.type === 'float16') {
    if (F16 && data instanceof F16) return Float32Array.from(data as ArrayLike<number>);
    if (data instanceof Uint16Array) {
      const out = new Float32Array(data.length);
      for (let i = 0; i < data.length; i++) out[i] = fromHalfBits(data[i]);
      return out;
    }
  }
  throw new Error(`expected a float32 or float16 tensor, got ${t.type}`);
}

/** Monotonic milliseconds on every platform. */
export const now = (): number => (globalThis.performance ?? Date).now();
