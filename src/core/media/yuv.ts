/**
 * Raw decoded YUV → RGB, done in TS so the browser produces the pixels the checkpoint's
 * decoder (decord → ffmpeg swscale) produced: BT.601 for untagged video (Chromium's
 * canvas would assume BT.709 and clip, ~8 /255 off on saturated colours), the tagged
 * matrix otherwise, limited or full range, chroma taken from the 2×2 block it covers
 * (swscale's unscaled yuv420p → rgb24 path). Then rotation. Pure functions.
 */
import type { RgbImage } from '../features/pixels';
import type { Rotation } from './types';

export interface PlaneLayoutLike {
  offset: number;
  stride: number;
}

export type YuvMatrix = 'bt601' | 'bt709' | 'bt2020';

const KR_KB: Record<YuvMatrix, [number, number]> = {
  bt601: [0.299, 0.114],
  bt709: [0.2126, 0.0722],
  bt2020: [0.2627, 0.0593],
};

/** WebCodecs VideoColorSpace.matrix → our matrix; unknown / missing → BT.601 (as ffmpeg). */
export function matrixFromColorSpace(matrix: string | null | undefined): YuvMatrix {
  if (matrix === 'bt709') return 'bt709';
  if (matrix === 'bt2020-ncl') return 'bt2020';
  return 'bt601';
}

/**
 * 8-bit 4:2:0 YUV (I420: separate U and V planes; NV12: interleaved UV) → packed RGB.
 * `width` × `height` is the visible size, the layouts come from VideoFrame.copyTo.
 */
export function yuv420ToRgb(
  data: Uint8Array,
  layout: readonly PlaneLayoutLike[],
  width: number,
  height: number,
  format: 'I420' | 'NV12',
  matrix: YuvMatrix,
  fullRange: boolean,
): RgbImage {
  const [kr, kb] = KR_KB[matrix];
  const kg = 1 - kr - kb;
  const ys = fullRange ? 1 : 255 / 219;
  const cs = fullRange ? 255 / 255 : 255 / 224;
  const yOff = fullRange ? 0 : 16;
  const crv = 2 * (1 - kr) * cs;
  const cbu = 2 * (1 - kb) * cs;
  const cgu = ((2 * kb * (1 - kb)) / kg) * cs;
  const cgv = ((2 * kr * (1 - kr)) / kg) * cs;
  const t = tablesFor(matrix, fullRange, yOff, ys, crv, cgu, cgv, cbu);
  const { yT, guT, gvT, rT, bT } = t;
  const out = new Uint8Array(width * height * 3);
  const Y = layout[0];
  const U = layout[1];
  const V = format === 'I420' ? layout[2] : layout[1];
  const cstep = format === 'I420' ? 1 : 2;
  const vAdd = format === 'I420' ? 0 : 1;
  let o = 0;
  for (let y = 0; y < height; y++) {
    const yRow = Y.offset + y * Y.stride;
    const uRow = U.offset + (y >> 1) * U.stride;
    const vRow = V.offset + (y >> 1) * V.stride + vAdd;
    for (let x = 0; x < width; x++) {
      const Yv = data[yRow + x];
      const cx = (x >> 1) * cstep;
      const u = data[uRow + cx];
      const v = data[vRow + cx];
      const g = Math.round(yT[Yv] - guT[u] - gvT[v]);
      out[o++] = rT[(Yv << 8) | v];
      out[o++] = g < 0 ? 0 : g > 255 ? 255 : g;
      out[o++] = bT[(Yv << 8) | u];
    }
  }
  return { width, height, data: out };
}

interface YuvTables {
  yT: Float64Array;
  guT: Float64Array;
  gvT: Float64Array;
  /** clip(round(y + crv·v)) and clip(round(y + cbu·u)) for every (Y, V) / (Y, U): R and B need one lookup. */
  rT: Uint8Array;
  bT: Uint8Array;
}

const tableCache = new Map<string, YuvTables>();

/** Per-value products (the same doubles as computing them per pixel, added in the same order: the same bytes). */
function tablesFor(matrix: YuvMatrix, fullRange: boolean, yOff: number, ys: number, crv: number, cgu: number, cgv: number, cbu: number): YuvTables {
  const key = `${matrix}/${fullRange}`;
  let t = tableCache.get(key);
  if (t) return t;
  const yT = new Float64Array(256);
  const rv = new Float64Array(256);
  const guT = new Float64Array(256);
  const gvT = new Float64Array(256);
  const bu = new Float64Array(256);
  for (let i = 0; i < 256; i++) {
    yT[i] = (i - yOff) * ys;
    rv[i] = crv * (i - 128);
    guT[i] = cgu * (i - 128);
    gvT[i] = cgv * (i - 128);
    bu[i] = cbu * (i - 128);
  }
  const rT = new Uint8Array(65536);
  const bT = new Uint8Array(65536);
  for (let a = 0; a < 256; a++) {
    for (let c = 0; c < 256; c++) {
      const r = Math.round(yT[a] + rv[c]);
      const b = Math.round(yT[a] + bu[c]);
      rT[(a << 8) | c] = r < 0 ? 0 : r > 255 ? 255 : r;
      bT[(a << 8) | c] = b < 0 ? 0 : b > 255 ? 255 : b;
    }
  }
  t = { yT, guT, gvT, rT, bT };
  tableCache.set(key, t);
  return t;
}

/** Rotates packed RGB clockwise by 0/90/180/270 degrees. */
export function rotateRgb(img: RgbImage, rotation: Rotation): RgbImage {
  if (rotation === 0) return img;
  const { width: w, height: h, data } = img;
  const ow = rotation === 180 ? w : h;
  const oh = rotation === 180 ? h : w;
  const out = new Uint8Array(data.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let nx: number;
      let ny: number;
      if (rotation === 90) {
        nx = h - 1 - y;
        ny = x;
      } else if (rotation === 180) {
        nx = w - 1 - x;
        ny = h - 1 - y;
      } else {
        nx = y;
        ny = w - 1 - x;
      }
      const si = (y * w + x) * 3;
      const di = (ny * ow + nx) * 3;
      out[di] = data[si];
      out[di + 1] = data[si + 1];
      out[di + 2] = data[si + 2];
    }
  }
  return { width: ow, height: oh, data: out };
}
