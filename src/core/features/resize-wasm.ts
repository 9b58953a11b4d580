/**
 * The two passes of `resizeBicubic` (Pillow's ImagingResampleHorizontal_8bpc / Vertical_8bpc,
 * PIPELINE §1) in WebAssembly SIMD: horizontally one i32x4 accumulator holds R, G, B of an
 * output pixel; vertically four hold 16 consecutive bytes of an output row. Integer
 * arithmetic as Pillow's, so the bytes are the scalar passes' (media.test.ts compares them).
 * Hand-assembled by resize-wasm.gen.py (instructions and encoder; `python3
 * src/core/features/resize-wasm.gen.py` prints these bytes). null without WebAssembly SIMD.
 */
const RESIZE_WASM =
  'AGFzbQEAAAABDAFgCH9/f39/f39/AAMDAgAABQMBAAEHGgMGbWVtb3J5AgAFaHBhc3MAAAV2cGFzcwABCtMEApACAgl/AXsgByEOQQAhCAJAIAggAk8NAANAIAAgCCABbEEDbGohD0EAIQkgBCEQIAUhDQNAIA8gECgCAEEDbGohDCAQKAIEIQtBgICAAf0RIRFBACEKAkAgC0UNAANAIBEgDP1cAAD9iQH9qQEgDSAKQQRsaigCAP0R/bUB/a4BIREgDEEDaiEMIApBAWoiCiALSQ0ACwsgDiARQRb9rAFBAP0R/bgBQf8B/RH9tgH9DAAAAAAAAAAAAAAAAAAAAAD9hQH9DAAAAAAAAAAAAAAAAAAAAAD9Zv0bADYAACAOQQNqIQ4gEEEIaiEQIA0gBkEEbGohDSAJQQFqIgkgA0kNAAsgCEEBaiIIIAJJDQALCwu+AgIJfwZ7QQAhCAJAIAggA08NAANAIAAgBCAIQQhsaigCACABbGohDiAEIAhBCGxqKAIEIQsgBSAIIAZsQQRsaiEQIAcgCCABbGohD0EAIQkDQEGAgIAB/REiESISIhMhFCAOIAlqIQwgECENQQAhCgJAIAtFDQADQCANKAIA/REhFiAM/QAAACEVIBX9iQH9qQEgFv21ASAR/a4BIREgFf2JAf2qASAW/bUBIBL9rgEhEiAV/YoB/akBIBb9tQEgE/2uASETIBX9igH9qgEgFv21ASAU/a4BIRQgDCABaiEMIA1BBGohDSAKQQFqIgogC0kNAAsLIA8gCWogEUEW/awBIBJBFv2sAf2FASATQRb9rAEgFEEW/awB/YUB/Wb9CwAAIAlBEGoiCSABSQ0ACyAIQQFqIgggA0kNAAsLCw==';

interface ResizeExports {
  memory: WebAssembly.Memory;
  hpass(src: number, w: number, h: number, outW: number, bounds: number, k: number, ks: number, dst: number): void;
  vpass(src: number, rowLen: number, h: number, outH: number, bounds: number, k: number, ks: number, dst: number): void;
}

let instance: ResizeExports | null | undefined;

function kernel(): ResizeExports | null {
  if (instance === undefined) {
    instance = null;
    try {
      if (typeof WebAssembly !== 'undefined') {
        const bytes = Uint8Array.from(atob(RESIZE_WASM), (c) => c.charCodeAt(0));
        if (WebAssembly.validate(bytes)) instance = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports as unknown as ResizeExports;
      }
    } catch {
      instance = null;
    }
  }
  return instance;
}

/** Horizontal pass of packed RGB (w × h) to outW columns with Pillow's fixed-point weights; null without SIMD. */
export function horizontalPassWasm(data: Uint8Array, w: number, h: number, outW: number, bounds: Int32Array, k: Int32Array, ks: number): Uint8Array | null {
  const kx = kernel();
  if (!kx) return null;
  // 4 spare bytes: the last pixel's 4-byte load and store
  const at = stage(kx, data, bounds, k, outW * h * 3, 4);
  kx.hpass(at.src, w, h, outW, at.bounds, at.k, ks, at.dst);
  return at.output();
}

/**
 * Lays out a pass's input, bounds and weights in the kernel's memory (16-byte aligned, grown
 * as needed) with `spare` bytes after the input and the `outBytes` output, where a pass's
 * last load or store may run past them; `output()` copies the result out.
 */
function stage(kx: ResizeExports, data: Uint8Array, bounds: Int32Array, k: Int32Array, outBytes: number, spare: number) {
  const align = (n: number) => (n + 15) & ~15;
  const src = 0;
  const bp = align(src + data.length + spare);
  const kp = align(bp + bounds.byteLength);
  const dst = align(kp + k.byteLength);
  const end = dst + outBytes + spare;
  const mem = kx.memory;
  if (end > mem.buffer.byteLength) mem.grow(Math.ceil((end - mem.buffer.byteLength) / 65536));
  new Uint8Array(mem.buffer).set(data, src);
  new Int32Array(mem.buffer, bp, bounds.length).set(bounds);
  new Int32Array(mem.buffer, kp, k.length).set(k);
  return { src, bounds: bp, k: kp, dst, output: () => new Uint8Array(mem.buffer).slice(dst, dst + outBytes) };
}

/**
 * Vertical pass of packed rows (h rows of rowLen bytes) to outH rows with Pillow's fixed-point
 * weights; null without SIMD. 16 spare bytes after the input and the output: the last
 * 16-byte load and store of a row may run past it.
 */
export function verticalPassWasm(data: Uint8Array, rowLen: number, h: number, outH: number, bounds: Int32Array, k: Int32Array, ks: number): Uint8Array | null {
  const kx = kernel();
  if (!kx) return null;
  const at = stage(kx, data, bounds, k, rowLen * outH, 16);
  kx.vpass(at.src, rowLen, h, outH, at.bounds, at.k, ks, at.dst);
  return at.output();
}
