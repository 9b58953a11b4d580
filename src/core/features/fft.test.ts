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

describe('fft', () => {
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
