/**
 * Mixed-radix complex FFT (decimation in time, after KISS FFT) for any length; used by
 * the Whisper log-mel (n_fft = 400 = 4·4·5·5, which radix-2 cannot do). Lengths with
 * a large prime factor still work (generic butterfly), only slower.
 *
 * The plan unrolls KISS FFT's recursion: the input is gathered once in digit-reversed
 * order, then each stage (innermost radix first) combines its blocks in place with its
 * twiddles and p-th roots read from flat precomputed tables. Every output is the same
 * sequence of float64 operations as the recursive form (twiddle each input, then
 * acc = s₀ + s₁·w + s₂·w² + … left to right), so the results are bit-identical to it.
 */

export interface FftPlan {
  n: number;
  /** [radix, remaining length] pairs, outermost stage first. */
  factors: number[];
  /** Output position → input index (the recursion's leaf copies). */
  order: Int32Array;
  /** Innermost stage first. */
  stages: FftStage[];
  scratchRe: Float64Array;
  scratchIm: Float64Array;
}

/** One stage: blocks of p·m points, each p interleaved sub-transforms of length m. */
interface FftStage {
  p: number;
  m: number;
  /** Input twiddles, [u·p + q] = e^(−2πi·fstride·q·u/n). */
  twRe: Float64Array;
  twIm: Float64Array;
  /** p-point DFT roots, [q1·p + q] = e^(−2πi·q·q1/p) as the table entry KISS FFT reads. */
  rootRe: Float64Array;
  rootIm: Float64Array;
}

function factorize(n: number): number[] {
  const out: number[] = [];
  let rest = n;
  let p = 4;
  while (rest > 1) {
    while (rest % p !== 0) {
      p = p === 4 ? 2 : p === 2 ? 3 : p + 2;
      if (p * p > rest) p = rest;
    }
    rest /= p;
    out.push(p, rest);
  }
  return out;
}

export function makeFftPlan(n: number): FftPlan {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`FFT length must be a positive integer, got ${n}`);
  const cos = new Float64Array(n);
  const sin = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const phase = (-2 * Math.PI * k) / n;
    cos[k] = Math.cos(phase);
    sin[k] = Math.sin(phase);
  }
  const factors = factorize(n);
  const stages: FftStage[] = [];
  let fstride = 1;
  let maxRadix = 1;
  for (let fi = 0; fi < factors.length; fi += 2) {
    const p = factors[fi];
    const m = factors[fi + 1];
    maxRadix = Math.max(maxRadix, p);
    const twRe = new Float64Array(m * p);
    const twIm = new Float64Array(m * p);
    for (let u = 0; u < m; u++) {
      for (let q = 0; q < p; q++) {
        const t = (fstride * q * u) % n;
        twRe[u * p + q] = cos[t];
        twIm[u * p + q] = sin[t];
      }
    }
    const rootRe = new Float64Array(p * p);
    const rootIm = new Float64Array(p * p);
    const step = fstride * m; // n / p: the p-th roots of unity
    for (let q1 = 0; q1 < p; q1++) {
      const dt = (step * q1) % n;
      let t = 0;
      for (let q = 1; q < p; q++) {
        t += dt;
        if (t >= n) t -= n;
        rootRe[q1 * p + q] = cos[t];
        rootIm[q1 * p + q] = sin[t];
      }
    }
    stages.unshift({ p, m, twRe, twIm, rootRe, rootIm });
    fstride *= p;
  }
  return { n, factors, order: digitReversal(n, factors), stages, scratchRe: new Float64Array(maxRadix), scratchIm: new Float64Array(maxRadix) };
}

/** Where the recursion's leaves read: output o ← input order[o]. */
function digitReversal(n: number, factors: number[]): Int32Array {
  const order = new Int32Array(n);
  const walk = (oOff: number, iOff: number, fstride: number, fi: number) => {
    const p = factors[fi];
    const m = factors[fi + 1];
    for (let q = 0; q < p; q++) {
      if (m === 1) order[oOff + q] = iOff + q * fstride;
      else walk(oOff + q * m, iOff + q * fstride, fstride * p, fi + 2);
    }
  };
  if (n > 1) walk(0, 0, 1, 0);
  return order;
}

/** Forward DFT X[k] = Σ x[t]·e^(−2πikt/n) of (inRe, inIm) into (outRe, outIm). */
export function fft(plan: FftPlan, inRe: Float64Array, inIm: Float64Array, outRe: Float64Array, outIm: Float64Array): void {
  const { n, order, stages } = plan;
  for (let o = 0; o < n; o++) {
    outRe[o] = inRe[order[o]];
    outIm[o] = inIm[order[o]];
  }
  for (const stage of stages) {
    const span = stage.p * stage.m;
    for (let off = 0; off < n; off += span) {
      if (stage.p === 4) butterfly4(stage, outRe, outIm, off);
      else if (stage.p === 5) butterfly5(stage, outRe, outIm, off);
      else butterfly(plan, stage, outRe, outIm, off);
    }
  }
}

/** Combines p interleaved sub-transforms of length m into one of length p·m: twiddle each input, then a p-point DFT across them. */
function butterfly(plan: FftPlan, stage: FftStage, re: Float64Array, im: Float64Array, off: number): void {
  const { p, m, twRe, twIm, rootRe, rootIm } = stage;
  const { scratchRe: sRe, scratchIm: sIm } = plan;
  for (let u = 0; u < m; u++) {
    for (let q = 0; q < p; q++) {
      const k = off + u + q * m;
      const xr = re[k];
      const xi = im[k];
      sRe[q] = xr * twRe[u * p + q] - xi * twIm[u * p + q];
      sIm[q] = xr * twIm[u * p + q] + xi * twRe[u * p + q];
    }
    for (let q1 = 0; q1 < p; q1++) {
      let accRe = sRe[0];
      let accIm = sIm[0];
      for (let q = 1; q < p; q++) {
        const wr = rootRe[q1 * p + q];
        const wi = rootIm[q1 * p + q];
        accRe += sRe[q] * wr - sIm[q] * wi;
        accIm += sRe[q] * wi + sIm[q] * wr;
      }
      re[off + u + q1 * m] = accRe;
      im[off + u + q1 * m] = accIm;
    }
  }
}

/** `butterfly` for p = 4 with the scratch in locals (the same operations in the same order). */
function butterfly4(stage: FftStage, re: Float64Array, im: Float64Array, off: number): void {
  const { m, twRe: tr, twIm: ti, rootRe: rr, rootIm: ri } = stage;
  for (let u = 0; u < m; u++) {
    const k0 = off + u, k1 = k0 + m, k2 = k1 + m, k3 = k2 + m;
    const w = u * 4;
    const s0r = re[k0] * tr[w] - im[k0] * ti[w], s0i = re[k0] * ti[w] + im[k0] * tr[w];
    const s1r = re[k1] * tr[w + 1] - im[k1] * ti[w + 1], s1i = re[k1] * ti[w + 1] + im[k1] * tr[w + 1];
    const s2r = re[k2] * tr[w + 2] - im[k2] * ti[w + 2], s2i = re[k2] * ti[w + 2] + im[k2] * tr[w + 2];
    const s3r = re[k3] * tr[w + 3] - im[k3] * ti[w + 3], s3i = re[k3] * ti[w + 3] + im[k3] * tr[w + 3];
    for (let q1 = 0, k = k0; q1 < 4; q1++, k += m) {
      const r = q1 * 4;
      re[k] = s0r + (s1r * rr[r + 1] - s1i * ri[r + 1]) + (s2r * rr[r + 2] - s2i * ri[r + 2]) + (s3r * rr[r + 3] - s3i * ri[r + 3]);
      im[k] = s0i + (s1r * ri[r + 1] + s1i * rr[r + 1]) + (s2r * ri[r + 2] + s2i * rr[r + 2]) + (s3r * ri[r + 3] + s3i * rr[r + 3]);
    }
  }
}

/** `butterfly` for p = 5 with the scratch in locals (the same operations in the same order). */
function butterfly5(stage: FftStage, re: Float64Array, im: Float64Array, off: number): void {
  const { m, twRe: tr, twIm: ti, rootRe: rr, rootIm: ri } = stage;
  for (let u = 0; u < m; u++) {
    const k0 = off + u, k1 = k0 + m, k2 = k1 + m, k3 = k2 + m, k4 = k3 + m;
    const w = u * 5;
    const s0r = re[k0] * tr[w] - im[k0] * ti[w], s0i = re[k0] * ti[w] + im[k0] * tr[w];
    const s1r = re[k1] * tr[w + 1] - im[k1] * ti[w + 1], s1i = re[k1] * ti[w + 1] + im[k1] * tr[w + 1];
    const s2r = re[k2] * tr[w + 2] - im[k2] * ti[w + 2], s2i = re[k2] * ti[w + 2] + im[k2] * tr[w + 2];
    const s3r = re[k3] * tr[w + 3] - im[k3] * ti[w + 3], s3i = re[k3] * ti[w + 3] + im[k3] * tr[w + 3];
    const s4r = re[k4] * tr[w + 4] - im[k4] * ti[w + 4], s4i = re[k4] * ti[w + 4] + im[k4] * tr[w + 4];
    for (let q1 = 0, k = k0; q1 < 5; q1++, k += m) {
      const r = q1 * 5;
      re[k] = s0r + (s1r * rr[r + 1] - s1i * ri[r + 1]) + (s2r * rr[r + 2] - s2i * ri[r + 2]) + (s3r * rr[r + 3] - s3i * ri[r + 3]) + (s4r * rr[r + 4] - s4i * ri[r + 4]);
      im[k] = s0i + (s1r * ri[r + 1] + s1i * rr[r + 1]) + (s2r * ri[r + 2] + s2i * rr[r + 2]) + (s3r * ri[r + 3] + s3i * rr[r + 3]) + (s4r * ri[r + 4] + s4i * rr[r + 4]);
    }
  }
}
