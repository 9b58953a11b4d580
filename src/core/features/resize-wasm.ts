/**
 * The horizontal pass of `resizeBicubic` (Pillow's ImagingResampleHorizontal_8bpc, PIPELINE §1)
 * in WebAssembly SIMD: one i32x4 accumulator holds R, G, B of an output pixel; integer
 * arithmetic as Pillow's, so the bytes are the scalar pass's (resize.ts compares them in
 * its tests). Hand-assembled by resize-wasm.gen.py (instructions and encoder; `python3
 * src/core/features/resize-wasm.gen.py` prints these bytes). null without WebAssembly SIMD.
 */
const HPASS_WASM =
  'AGFzbQEAAAABDAFgCH9/f39/f39/AAMCAQAFAwEAAQcSAgZtZW1vcnkCAAVocGFzcwAACpMCAZACAgl/AXsgByEOQQAhCAJAIAggAk8NAANAIAAgCCABbEEDbGohD0EAIQkgBCEQIAUhDQNAIA8gECgCAEEDbGohDCAQKAIEIQtBgICAAf0RIRFBACEKAkAgC0UNAANAIBEgDP1cAAD9iQH9qQEgDSAKQQRsaigCAP0R/bUB/a4BIREgDEEDaiEMIApBAWoiCiALSQ0ACwsgDiARQRb9rAFBAP0R/bgBQf8B/RH9tgH9DAAAAAAAAAAAAAAAAAAAAAD9hQH9DAAAAAAAAAAAAAAAAAAAAAD9Zv0bADYAACAOQQNqIQ4gEEEIaiEQIA0gBkEEbGohDSAJQQFqIgkgA0kNAAsgCEEBaiIIIAJJDQALCws=';

interface HpassExports {
  memory: WebAssembly.Memory;
  hpass(src: number, w: number, h: number, outW: number, bounds: number, k: number, ks: number, dst: number): void;
}

let instance: HpassExports | null | undefined;

function kernel(): HpassExports | null {
  if (instance === undefined) {
    instance = null;
    try {
      if (typeof WebAssembly !== 'undefined') {
        const bytes = Uint8Array.from(atob(HPASS_WASM), (c) => c.charCodeAt(0));
        if (WebAssembly.validate(bytes)) instance = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports as unknown as HpassExports;
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
  const align = (n: number) => (n + 15) & ~15;
  const src = 0;
  const bp = align(src + data.length + 4); // + 4: the last pixel's 4-byte load
  const kp = align(bp + bounds.byteLength);
  const dst = align(kp + k.byteLength);
  const end = dst + outW * h * 3 + 4; // + 4: the last pixel's 4-byte store
  const mem = kx.memory;
  if (end > mem.buffer.byteLength) mem.grow(Math.ceil((end - mem.buffer.byteLength) / 65536));
  const heap = new Uint8Array(mem.buffer);
  heap.set(data, src);
  new Int32Array(mem.buffer, bp, bounds.length).set(bounds);
  new Int32Array(mem.buffer, kp, k.length).set(k);
  kx.hpass(src, w, h, outW, bp, kp, ks, dst);
  return heap.slice(dst, dst + outW * h * 3);
}
