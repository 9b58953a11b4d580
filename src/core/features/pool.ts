/**
 * Bilinear resize of a square grid of feature rows, as PyTorch's
 * `F.interpolate(x, size=[out, out], mode="bilinear")` (align_corners=False, no antialias):
 * source coordinate (o + 0.5)·(in/out) − 0.5, clamped at 0; neighbours i0 and min(i0+1, in−1).
 * LLaVA-OneVision pools every video frame's 27×27 projected features to ceil(27/2) = 14×14
 * this way (transformers, models/llava_onevision/modeling_llava_onevision.py, `apply_pooling`).
 */

interface Taps {
  i0: Int32Array;
  i1: Int32Array;
  w1: Float32Array;
}

function taps(inSize: number, outSize: number): Taps {
  const scale = inSize / outSize; // area_pixel_compute_scale without align_corners
  const i0 = new Int32Array(outSize);
  const i1 = new Int32Array(outSize);
  const w1 = new Float32Array(outSize);
  for (let o = 0; o < outSize; o++) {
    const src = Math.max((o + 0.5) * scale - 0.5, 0);
    const a = Math.min(Math.floor(src), inSize - 1);
    i0[o] = a;
    i1[o] = Math.min(a + 1, inSize - 1);
    w1[o] = src - a;
  }
  return { i0, i1, w1 };
}

/**
 * `features` holds `frames` × grid² rows of `dim` values (row-major grid, y then x);
 * returns `frames` × out² rows.
 */
export function bilinearPoolGrid(features: Float32Array, frames: number, grid: number, out: number, dim: number): Float32Array {
  if (features.length !== frames * grid * grid * dim) {
    throw new RangeError(`bilinearPoolGrid: ${features.length} values are not ${frames} frames of ${grid}×${grid} rows of ${dim}`);
  }
  const t = taps(grid, out);
  const result = new Float32Array(frames * out * out * dim);
  for (let f = 0; f < frames; f++) {
    const base = f * grid * grid * dim;
    for (let oy = 0; oy < out; oy++) {
      const wy = t.w1[oy];
      const r0 = base + t.i0[oy] * grid * dim;
      const r1 = base + t.i1[oy] * grid * dim;
      for (let ox = 0; ox < out; ox++) {
        const wx = t.w1[ox];
        const c0 = t.i0[ox] * dim;
        const c1 = t.i1[ox] * dim;
        const dst = ((f * out + oy) * out + ox) * dim;
        for (let d = 0; d < dim; d++) {
          const top = features[r0 + c0 + d] * (1 - wx) + features[r0 + c1 + d] * wx;
          const bottom = features[r1 + c0 + d] * (1 - wx) + features[r1 + c1 + d] * wx;
          result[dst + d] = top * (1 - wy) + bottom * wy;
        }
      }
    }
  }
  return result;
}
