/**
 * Mixed-radix complex FFT (decimation in time, after KISS FFT) for any length; used by
 * the Whisper log-mel (n_fft = 400 = 4·4·5·5, which radix-2 cannot do). Lengths with
 * a large prime factor still work (generic butterfly), only slower.
 */

export interface FftPlan {
  n: number;
  /** [radix, remaining length] pairs, outermost stage first. */
  factors: number[];
  /** e^(−2πik/n), k = 0…n−1. */
  twRe: Float64Array;
  twIm: Float64Array;
  scratchRe: Float64Array;
  scratchIm: Float64Array;
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
  const twRe = new Float64Array(n);
  const twIm = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const phase = (-2 * Math.PI * k) / n;
    twRe[k] = Math.cos(phase);
    twIm[k] = Math.sin(phase);
  }
  const factors = factorize(n);
  let maxRadix = 1;
  for (let i = 0; i < factors.length; i += 2) maxRadix = Math.max(maxRadix, factors[i]);
  return { n, factors, twRe, twIm, scratchRe: new Float64Array(maxRadix), scratchIm: new Float64Array(maxRadix) };
}

/** Forward DFT X[k] = Σ x[t]·e^(−2πikt/n) of (inRe, inIm) into (outRe, outIm). */
export function fft(plan: FftPlan, inRe: Float64Array, inIm: Float64Array, outRe: Float64Array, outIm: Float64Array): void {
  work(plan, outRe, outIm, 0, inRe, inIm, 0, 1, 0);
}

function work(
  plan: FftPlan,
  oRe: Float64Array, oIm: Float64Array, oOff: number,
  iRe: Float64Array, iIm: Float64Array, iOff: number,
  fstride: number, fi: number,
): void {
  const p = plan.factors[fi];
  const m = plan.factors[fi + 1];
  if (m === 1) {
    for (let q = 0; q < p; q++) {
      oRe[oOff + q] = iRe[iOff + q * fstride];
      oIm[oOff + q] = iIm[iOff + q * fstride];
    }
  } else {
    for (let q = 0; q < p; q++) {
      work(plan, oRe, oIm, oOff + q * m, iRe, iIm, iOff + q * fstride, fstride * p, fi + 2);
    }
  }
  butterfly(plan, oRe, oIm, oOff, fstride, p, m);
}

/** Combines p interleaved sub-transforms of length m into one of length p·m. */
function butterfly(plan: FftPlan, re: Float64Array, im: Float64Array, off: number, fstride: number, p: number, m: number): void {
  const { n, twRe, twIm, scratchRe: sRe, scratchIm: sIm } = plan;
  for (let u = 0; u < m; u++) {
    // Twiddle each input, then a p-point DFT across them.
    for (let q = 0; q < p; q++) {
      const k = off + u + q * m;
      const t = (fstride * q * u) % n;
      const xr = re[k];
      const xi = im[k];
      sRe[q] = xr * twRe[t] - xi * twIm[t];
      sIm[q] = xr * twIm[t] + xi * twRe[t];
    }
    const step = fstride * m; // n / p: the p-th roots of unity
    for (let q1 = 0; q1 < p; q1++) {
      let accRe = sRe[0];
      let accIm = sIm[0];
      let t = 0;
      const dt = (step * q1) % n;
      for (let q = 1; q < p; q++) {
        t += dt;
        if (t >= n) t -= n;
        accRe += sRe[q] * twRe[t] - sIm[q] * twIm[t];
        accIm += sRe[q] * twIm[t] + sIm[q] * twRe[t];
      }
      re[off + u + q1 * m] = accRe;
      im[off + u + q1 * m] = accIm;
    }
  }
}
