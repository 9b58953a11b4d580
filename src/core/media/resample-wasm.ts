/**
 * The resampler's dot products in WebAssembly SIMD (f32x4): resample.ts runs every output
 * whose filter window lies inside the buffered input through `fir`, ≈ 4× fewer
 * instructions than the scalar loop (PIPELINE §3: resampling is most of the audio's CPU
 * time). Hand-assembled by resample-wasm.gen.py (the instructions, commented, and the
 * encoder; `python3 src/core/media/resample-wasm.gen.py` prints these bytes):
 *
 *   fir(bank, stride, x, out, count, phase, dBase, dPhase, L)   (i32 byte addresses)
 *     for each of `count` outputs: acc0, acc1 = f32x4 sums of bank row `phase` (stride
 *     floats, a multiple of 8, zero-padded) times the input from x, 8 floats a step;
 *     out[o] = (l0 + l1) + (l2 + l3) of acc0 + acc1; x += 4·dBase; phase += dPhase,
 *     past L: phase −= L, x += 4.
 *
 * Accumulating in f32 moves outputs by ~1e−7 against the f64 loop (the tolerance against
 * ffmpeg is 1e−2 RMS). null where WebAssembly SIMD is missing: the scalar loop runs.
 */
const FIR_WASM =
  'AGFzbQEAAAABDQFgCX9/f39/f39/fwADAgEABQMBAAEHEAIGbWVtb3J5AgADZmlyAAAK+gEB9wECBX8CeyABQQRsIQ0gAyAEQQRsaiEJAkAgAyAJTw0AA0AgACAFIA1saiEKIAogDWohDCACIQv9DAAAAAAAAAAAAAAAAAAAAAAhDv0MAAAAAAAAAAAAAAAAAAAAACEPA0AgDiAK/QAEACAL/QAEAP3mAf3kASEOIA8gCv0ABBAgC/0ABBD95gH95AEhDyALQSBqIQsgCkEgaiIKIAxJDQALIAMgDiAP/eQBIg79HwAgDv0fAZIgDv0fAiAO/R8DkpI4AgAgAiAGQQRsaiECIAUgB2oiBSAITwRAIAUgCGshBSACQQRqIQILIANBBGoiAyAJSQ0ACwsL';

let compiled: WebAssembly.Module | null | undefined;

export interface FirKernel {
  memory: WebAssembly.Memory;
  fir(bank: number, stride: number, x: number, out: number, count: number, phase: number, dBase: number, dPhase: number, L: number): void;
}

/** A fresh instance (its own memory) of the kernel, or null without WebAssembly SIMD. */
export function firKernel(): FirKernel | null {
  if (compiled === undefined) {
    compiled = null;
    try {
      if (typeof WebAssembly !== 'undefined') {
        const bytes = Uint8Array.from(atob(FIR_WASM), (c) => c.charCodeAt(0));
        if (WebAssembly.validate(bytes)) compiled = new WebAssembly.Module(bytes);
      }
    } catch {
      compiled = null;
    }
  }
  if (!compiled) return null;
  const exports = new WebAssembly.Instance(compiled).exports as unknown as FirKernel;
  return exports;
}
