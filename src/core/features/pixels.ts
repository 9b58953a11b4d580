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

function clip8(v: number): number {
  // v is the accumulated fixed-point sum; Pillow shifts right by PRECISION_BITS then clips.
  const s = Math.floor(v / (1 << PRECISION_BITS));
  return s < 0 ? 0 : s > 255 ? 255 : s;
}

/**
 * Resizes packed RGB uint8 to outWidth × outHeight like Pillow's BICUBIC (no crop, no
 * aspect keep: PIPELINE §1 "resize straight to size×size").
 */
export function resizeBicubic(img: RgbImage, outWidth: number, outHeight: number): RgbImage {
  const { width: w, height: h, data } = img;
  if (data.length !== w * h * 3) throw new RangeError(`RGB buffer has ${data.length} bytes, expected ${w * h * 3}`);
  if (w === outWidth && h === outHeight) return { width: w, height: h, data: data.slice() };
  const half = 1 << (PRECISION_BITS - 1);
  // horizontal pass
  let tmp = data;
  let tw = w;
  if (outWidth !== w) {
    const c = precompute(w, outWidth);
    tmp = new Uint8Array(outWidth * h * 3);
    for (let y = 0; y < h; y++) {
      const rowIn = y * w * 3;
      const rowOut = y * outWidth * 3;
      for (let xx = 0; xx < outWidth; xx++) {
        const xmin = c.bounds[xx * 2];
        const xmax = c.bounds[xx * 2 + 1];
        const kb = xx * c.ksize;
        let r = half;
        let g = half;
        let b = half;
        for (let x = 0; x < xmax; x++) {
          const kv = c.k[kb + x];
          const p = rowIn + (x + xmin) * 3;
          r += data[p] * kv;
          g += data[p + 1] * kv;
          b += data[p + 2] * kv;
        }
        tmp[rowOut + xx * 3] = clip8(r);
        tmp[rowOut + xx * 3 + 1] = clip8(g);
        tmp[rowOut + xx * 3 + 2] = clip8(b);
      }
    }
    tw = outWidth;
  }
  if (outHeight === h) return { width: tw, height: h, data: tmp };
  // vertical pass
  const c = precompute(h, outHeight);
  const out = new Uint8Array(tw * outHeight * 3);
  for (let yy = 0; yy < outHeight; yy++) {
    const ymin = c.bounds[yy * 2];
    const ymax = c.bounds[yy * 2 + 1];
    const kb = yy * c.ksize;
    const rowOut = yy * tw * 3;
    for (let x = 0; x < tw * 3; x++) {
      let acc = half;
      for (let y = 0; y < ymax; y++) acc += tmp[(y + ymin) * tw * 3 + x] * c.k[kb + y];
      out[rowOut + x] = clip8(acc);
    }
  }
  return { width: tw, height: outHeight, data: out };
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

export function thumbnailOf(img: RgbImage, thumbWidth = 160): RgbImage {
  const w = Math.min(thumbWidth, img.width);
  const h = Math.max(1, Math.round((img.height * w) / img.width));
  return resizeBicubic(img, w, h);
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
