/**
 * Frame → the bundle's pixel tensor (PIPELINE §1 preprocessing), pure TS: the frames'
 * square model input, their thumbnails and the normalised [F, 3, S, S] tensor.
 *
 * The checkpoint's SigLipImageProcessor calls transformers' `resize(..., resample=BICUBIC)`,
 * which goes through PIL: `Image.resize((w, h), Image.BICUBIC)` on the uint8 RGB frame
 * (separable, antialiased when shrinking — the kernel widens by the scale —, a = −0.5,
 * 22-bit fixed-point weights, each pass rounded and clipped to uint8). `resizeBicubic`
 * reimplements that algorithm (Pillow's libImaging/Resample.c) so the browser and the
 * Node CLI produce the same uint8 image as the reference. Then /255, (x − mean) / std, CHW.
 */
import type { VisionConfig } from '../bundle/manifest';
import type { NativeFrame } from '../media/types';

export interface RgbImage {
  width: number;
  height: number;
  /** Packed RGB, row-major, width·height·3 bytes. */
  data: Uint8Array;
}

import { horizontalPassWasm, verticalPassWasm } from './resize-wasm';

const PRECISION_BITS = 32 - 8 - 2;

function bicubic(x: number): number {
  const a = -0.5;
  if (x < 0) x = -x;
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}

interface Coeffs {
  bounds: Int32Array; // [xmin, xsize] per output pixel
  k: Int32Array; // fixed-point weights, `ksize` per output pixel
  ksize: number;
}

/** Pillow's precompute_coeffs + normalize_coeffs_8bpc for one axis. */
function precompute(inSize: number, outSize: number): Coeffs {
  const support0 = 2; // bicubic
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1);
  const support = support0 * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const k = new Int32Array(outSize * ksize);
  const ss = 1 / filterscale;
  const kk = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const w = bicubic((x + xmin - center + 0.5) * ss);
      kk[x] = w;
      ww += w;
    }
    for (let x = 0; x < xmax; x++) {
      const v = ww !== 0 ? kk[x] / ww : kk[x];
      // Pillow: (int)(0.5 + v * (1 << PRECISION_BITS)) or (int)(-0.5 + …) for negatives
      k[xx * ksize + x] = v < 0 ? Math.trunc(-0.5 + v * (1 << PRECISION_BITS)) : Math.trunc(0.5 + v * (1 << PRECISION_BITS));
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { bounds, k, ksize };
}

/**
 * Resizes packed RGB uint8 to outWidth × outHeight like Pillow's BICUBIC (no crop, no
 * aspect keep: PIPELINE §1 "resize straight to size×size"). Integer arithmetic as
 * Pillow's (sums stay within int32: |k| sums to < 1.3 · 2^22, times 255), each pass
 * rounded (the `half` bias), shifted by PRECISION_BITS and clipped; the vertical pass
 * accumulates whole rows (same order of additions per pixel, sequential reads). Both
 * passes run on WebAssembly SIMD where there is one (resize-wasm.ts, same bytes;
 * `simd = false` forces the scalar passes).
 */
export function resizeBicubic(img: RgbImage, outWidth: number, outHeight: number, simd = true): RgbImage {
  const { width: w, height: h, data } = img;
  if (data.length !== w * h * 3) throw new RangeError(`RGB buffer has ${data.length} bytes, expected ${w * h * 3}`);
  if (w === outWidth && h === outHeight) return { width: w, height: h, data: data.slice() };
  const half = 1 << (PRECISION_BITS - 1);
  // horizontal pass
  let tmp = data;
  let tw = w;
  if (outWidth !== w) {
    const c = precompute(w, outWidth);
    const bounds = c.bounds;
    const k = c.k;
    const ks = c.ksize;
    const fast = simd ? horizontalPassWasm(data, w, h, outWidth, bounds, k, ks) : null;
    tmp = fast ?? new Uint8Array(outWidth * h * 3);
    for (let y = 0; y < h && !fast; y++) {
      const rowIn = y * w * 3;
      let o = y * outWidth * 3;
      for (let xx = 0; xx < outWidth; xx++) {
        const xmax = bounds[xx * 2 + 1];
        const kb = xx * ks;
        let p = rowIn + bounds[xx * 2] * 3;
        let r = half;
        let g = half;
        let b = half;
        for (let x = 0; x < xmax; x++, p += 3) {
          const kv = k[kb + x];
          r += data[p] * kv;
          g += data[p + 1] * kv;
          b += data[p + 2] * kv;
        }
        r >>= PRECISION_BITS;
        g >>= PRECISION_BITS;
        b >>= PRECISION_BITS;
        tmp[o++] = r < 0 ? 0 : r > 255 ? 255 : r;
        tmp[o++] = g < 0 ? 0 : g > 255 ? 255 : g;
        tmp[o++] = b < 0 ? 0 : b > 255 ? 255 : b;
      }
    }
    tw = outWidth;
  }
  if (outHeight === h) return { width: tw, height: h, data: tmp };
  // vertical pass
  const c = precompute(h, outHeight);
  const rowLen = tw * 3;
  const fast = simd ? verticalPassWasm(tmp, rowLen, h, outHeight, c.bounds, c.k, c.ksize) : null;
  if (fast) return { width: tw, height: outHeight, data: fast };
  const out = new Uint8Array(rowLen * outHeight);
  const acc = new Int32Array(rowLen);
  for (let yy = 0; yy < outHeight; yy++) {
    const ymin = c.bounds[yy * 2];
    const ymax = c.bounds[yy * 2 + 1];
    const kb = yy * c.ksize;
    acc.fill(half);
    for (let y = 0; y < ymax; y++) {
      const kv = c.k[kb + y];
      const row = (y + ymin) * rowLen;
      for (let x = 0; x < rowLen; x++) acc[x] += tmp[row + x] * kv;
    }
    const rowOut = yy * rowLen;
    for (let x = 0; x < rowLen; x++) {
      const v = acc[x] >> PRECISION_BITS;
      out[rowOut + x] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
  return { width: tw, height: outHeight, data: out };
}

/** Mean of each factor × factor block (partial blocks at the right / bottom edge: of what they hold), rounded. */
export function reduceBox(img: RgbImage, factor: number): RgbImage {
  const { width: w, height: h, data } = img;
  const ow = Math.ceil(w / factor);
  const oh = Math.ceil(h / factor);
  const out = new Uint8Array(ow * oh * 3);
  const acc = new Uint32Array(ow * 3);
  for (let oy = 0; oy < oh; oy++) {
    acc.fill(0);
    const y1 = Math.min(h, (oy + 1) * factor);
    for (let y = oy * factor; y < y1; y++) {
      let p = y * w * 3;
      for (let x = 0; x < w; x++, p += 3) {
        const o = ((x / factor) | 0) * 3;
        acc[o] += data[p];
        acc[o + 1] += data[p + 1];
        acc[o + 2] += data[p + 2];
      }
    }
    const rows = y1 - oy * factor;
    for (let ox = 0; ox < ow; ox++) {
      const n = rows * (Math.min(w, (ox + 1) * factor) - ox * factor);
      for (let c = 0; c < 3; c++) out[(oy * ow + ox) * 3 + c] = Math.floor((acc[ox * 3 + c] + (n >> 1)) / n);
    }
  }
  return { width: ow, height: oh, data: out };
}

/** RGBA (canvas ImageData) → packed RGB. */
export function rgbaToRgb(rgba: Uint8Array | Uint8ClampedArray, width: number, height: number): RgbImage {
  const n = width * height;
  const data = new Uint8Array(n * 3);
  for (let i = 0, j = 0; i < n; i++, j += 4) {
    data[i * 3] = rgba[j];
    data[i * 3 + 1] = rgba[j + 1];
    data[i * 3 + 2] = rgba[j + 2];
  }
  return { width, height, data };
}

/**
 * Packed RGB uint8 (already size × size) → CHW float32: (x / 255 − mean[c]) / std[c].
 * Several frames can be written into one [F,3,S,S] buffer through `out` / `offset`.
 */
export function toPixelTensor(
  img: RgbImage,
  mean: readonly [number, number, number] | readonly number[],
  std: readonly [number, number, number] | readonly number[],
  out?: Float32Array,
  offset = 0,
): Float32Array {
  const plane = img.width * img.height;
  const dst = out ?? new Float32Array(plane * 3);
  for (let c = 0; c < 3; c++) {
    const m = mean[c];
    const s = std[c];
    const base = offset + c * plane;
    for (let i = 0; i < plane; i++) dst[base + i] = (img.data[i * 3 + c] / 255 - m) / s;
  }
  return dst;
}

/** Mean absolute difference of two same-sized byte images (all channels). */
export function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new RangeError(`sizes differ: ${a.length} vs ${b.length}`);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
}

export interface PreparedFrame {
  index: number;
  timestamp: number;
  /** size × size RGB (PIL-bicubic), what the vision encoder sees before normalisation. */
  pixels: RgbImage;
  /** ~thumbWidth px wide RGB for the UI. */
  thumbnail: RgbImage;
}

/** Native frame → the bundle's square RGB + a small thumbnail. */
export function prepareFrame(frame: NativeFrame, vision: Pick<VisionConfig, 'imageSize'>, thumbWidth = 160): PreparedFrame {
  const size = vision.imageSize;
  const pixels = resizeBicubic(frame.image, size, size);
  return { index: frame.index, timestamp: frame.timestamp, pixels, thumbnail: thumbnailOf(frame.image, thumbWidth) };
}

/**
 * The UI's thumbnail: as Pillow's `Image.thumbnail` (reducing_gap 2), a box reduction by
 * the whole factor that leaves ≥ 2× to go, then bicubic — a 1280 px frame costs a tenth of
 * a straight bicubic to 160 px. (UI only; the model's pixels are `resizeBicubic` of the frame.)
 */
export function thumbnailOf(img: RgbImage, thumbWidth = 160): RgbImage {
  const w = Math.min(thumbWidth, img.width);
  const h = Math.max(1, Math.round((img.height * w) / img.width));
  const factor = Math.min(Math.floor(img.width / w / 2), Math.floor(img.height / h / 2));
  return resizeBicubic(factor > 1 ? reduceBox(img, factor) : img, w, h);
}

/** Frames → one [F, 3, size, size] float tensor with the manifest's mean / std. */
export function framesToTensor(frames: readonly RgbImage[], vision: Pick<VisionConfig, 'imageSize' | 'mean' | 'std'>): Float32Array {
  const s = vision.imageSize;
  const per = 3 * s * s;
  const out = new Float32Array(frames.length * per);
  frames.forEach((f, i) => {
    const img = f.width === s && f.height === s ? f : resizeBicubic(f, s, s);
    toPixelTensor(img, vision.mean, vision.std, out, i * per);
  });
  return out;
}
