import { describe, expect, it } from 'vitest';
import { fft, makeFftPlan } from './fft.ts';

/** Naive O(n²) DFT, the textbook definition. */
function naiveDft(re: Float64Array, im: Float64Array): [Float64Array, Float64Array] {
  const n = re.length;
  const oRe = new Float64Array(n);
  const oIm = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    for (let t = 0; t < n; t++) {
      const a = (-2 * Math.PI * k * t) / n;
      oRe[k] += re[t] * Math.cos(a) - im[t] * Math.sin(a);
      oIm[k] += re[t] * Math.sin(a) + im[t] * Math.cos(a);
    }
  }
  return [oRe, oIm];
}

/**
 * KISS FFT's recursive decimation in time with the generic butterfly, written out plainly:
 * the plan's unrolled stages must give the same float64 bits (the log-mel's bytes depend on it).
 */
function recursiveFft(n: number, re: Float64Array, im: Float64Array): [Float64Array, Float64Array] {
  const { factors } = makeFftPlan(n);
  const w = (t: number): [number, number] => [Math.cos((-2 * Math.PI * t) / n), Math.sin((-2 * Math.PI * t) / n)];
  const oRe = new Float64Array(n);
  const oIm = new Float64Array(n);
  const work = (oOff: number, iOff: number, fstride: number, fi: number) => {
    const [p, m] = [factors[fi], factors[fi + 1]];
    for (let q = 0; q < p; q++) {
      if (m === 1) [oRe[oOff + q], oIm[oOff + q]] = [re[iOff + q * fstride], im[iOff + q * fstride]];
      else work(oOff + q * m, iOff + q * fstride, fstride * p, fi + 2);
    }
    for (let u = 0; u < m; u++) {
      const s = Array.from({ length: p }, (_, q) => {
        const [c, d] = w((fstride * q * u) % n);
        const k = oOff + u + q * m;
        return [oRe[k] * c - oIm[k] * d, oRe[k] * d + oIm[k] * c];
      });
      for (let q1 = 0; q1 < p; q1++) {
        let [accRe, accIm] = s[0];
        for (let q = 1, t = 0; q < p; q++) {
          t = (t + ((fstride * m * q1) % n)) % n;
          const [c, d] = w(t);
          accRe += s[q][0] * c - s[q][1] * d;
          accIm += s[q][0] * d + s[q][1] * c;
        }
        [oRe[oOff + u + q1 * m], oIm[oOff + u + q1 * m]] = [accRe, accIm];
      }
    }
  };
  work(0, 0, 1, 0);
  return [oRe, oIm];
}

describe('fft', () => {
  it.each([2, 3, 4, 5, 6, 8, 12, 25, 49, 97, 100, 400, 512])('equals the recursive KISS FFT bit for bit for n = %i', (n) => {
    const re = Float64Array.from({ length: n }, (_, i) => Math.sin(i * 2.1) * 0.7 + 0.01 * i);
    const im = Float64Array.from({ length: n }, (_, i) => (i % 3) - Math.cos(i * 0.3));
    const oRe = new Float64Array(n);
    const oIm = new Float64Array(n);
    fft(makeFftPlan(n), re, im, oRe, oIm);
    const [eRe, eIm] = recursiveFft(n, re, im);
    expect([...oRe]).toEqual([...eRe]);
    expect([...oIm]).toEqual([...eIm]);
  });

  it.each([2, 3, 4, 5, 8, 12, 16, 25, 30, 49, 97, 100, 400, 512])('matches the naive DFT for n = %i', (n) => {
    const re = Float64Array.from({ length: n }, (_, i) => Math.sin(i * 1.3) + 0.1 * i);
    const im = Float64Array.from({ length: n }, (_, i) => Math.cos(i * 0.7) - 0.05 * i);
    const plan = makeFftPlan(n);
    const oRe = new Float64Array(n);
    const oIm = new Float64Array(n);
    fft(plan, re, im, oRe, oIm);
    const [eRe, eIm] = naiveDft(re, im);
    for (let k = 0; k < n; k++) {
      expect(oRe[k]).toBeCloseTo(eRe[k], 8);
      expect(oIm[k]).toBeCloseTo(eIm[k], 8);
    }
  });

  it('puts a unit impulse at every bin and a constant in bin 0', () => {
    const n = 400;
    const plan = makeFftPlan(n);
    const oRe = new Float64Array(n);
    const oIm = new Float64Array(n);
    const impulse = new Float64Array(n);
    impulse[0] = 1;
    fft(plan, impulse, new Float64Array(n), oRe, oIm);
    expect([...oRe].every((v) => Math.abs(v - 1) < 1e-12)).toBe(true);
    fft(plan, new Float64Array(n).fill(1), new Float64Array(n), oRe, oIm);
    expect(oRe[0]).toBeCloseTo(n, 9);
    expect(Math.max(...[...oRe.subarray(1)].map(Math.abs))).toBeLessThan(1e-9);
  });
});
