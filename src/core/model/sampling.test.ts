import { describe, expect, it } from 'vitest';
import { argmax, GREEDY, isStopToken, makeSampler, sampleToken, seededRandom } from './sampling.ts';

describe('argmax', () => {
  it('returns the first index of the maximum, ignoring NaN', () => {
    expect(argmax(Float32Array.from([0.1, 3, -2, 3, 1]))).toBe(1);
    expect(argmax([NaN, -5, NaN, -4])).toBe(3);
    expect(argmax([-Infinity, 2])).toBe(1);
    expect(() => argmax([NaN, -Infinity])).toThrow();
  });
});

describe('seededRandom', () => {
  it('is deterministic per seed, differs across seeds, stays in [0, 1)', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const c = seededRandom(43);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(Array.from({ length: 1000 }, () => b())).toEqual(xs);
    expect(c()).not.toBe(xs[0]);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean).toBeGreaterThan(0.45);
    expect(mean).toBeLessThan(0.55);
  });
});

describe('sampleToken', () => {
  const logits = [Math.log(0.5), Math.log(0.3), Math.log(0.15), Math.log(0.05)];

  it('is greedy at temperature 0', () => {
    const s = makeSampler(GREEDY, 1);
    expect(s([1, 5, 2])).toBe(1);
  });

  it('with top-p 0.75 keeps only {0, 1} (0.5 + 0.3 ≥ 0.75) and draws them 5 : 3', () => {
    const random = seededRandom(7);
    const counts = [0, 0, 0, 0];
    const n = 20000;
    for (let i = 0; i < n; i++) counts[sampleToken(logits, { temperature: 1, topP: 0.75 }, random)]++;
    expect(counts[2] + counts[3]).toBe(0);
    expect(counts[0] / n).toBeCloseTo(0.625, 1.5);
  });

  it('follows the softmax at top-p 1, and temperature sharpens it', () => {
    const random = seededRandom(11);
    const n = 40000;
    const freq = (temperature: number) => {
      const counts = [0, 0, 0, 0];
      for (let i = 0; i < n; i++) counts[sampleToken(logits, { temperature, topP: 1 }, random)]++;
      return counts.map((c) => c / n);
    };
    const f1 = freq(1);
    [0.5, 0.3, 0.15, 0.05].forEach((p, i) => expect(Math.abs(f1[i] - p)).toBeLessThan(0.01));
    // T = 0.5 squares the probabilities: 0.25, 0.09, 0.0225, 0.0025 over 0.365.
    const f05 = freq(0.5);
    expect(Math.abs(f05[0] - 0.25 / 0.365)).toBeLessThan(0.01);
  });

  it('gives the same sequence for the same seed', () => {
    const opts = { temperature: 0.8, topP: 0.9 };
    const run = (seed: number) => {
      const s = makeSampler(opts, seed);
      return Array.from({ length: 50 }, () => s(logits));
    };
    expect(run(3)).toEqual(run(3));
    expect(run(3)).not.toEqual(run(4));
  });
});

describe('isStopToken', () => {
  it('matches any listed stop id', () => {
    expect(isStopToken(151645, [151645, 151643])).toBe(true);
    expect(isStopToken(198, [151645])).toBe(false);
  });
});
