import { describe, expect, it } from 'vitest';
import {
  applyRepetitionPenalty,
  argmax,
  generationSettings,
  GREEDY,
  isStopToken,
  makeSampler,
  OFFICIAL_PENALTY_SCOPE,
  RepetitionPenalty,
  sampleToken,
  seededRandom,
  stopIdSet,
} from './sampling.ts';

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

describe('repetition penalty (transformers RepetitionPenaltyLogitsProcessor): hand-worked', () => {
  it('score < 0 → score · p, else score / p, once per id however often it occurs', () => {
    // logits [2, -2, 0.5, -0.5, 3, 0], p = 2, covered ids 0, 1, 1, 3, 5 (1 twice: penalised once)
    //   id 0:  2   / 2 =  1
    //   id 1: -2   · 2 = -4      (not -8: the duplicate does not apply twice)
    //   id 3: -0.5 · 2 = -1
    //   id 5:  0   / 2 =  0      (0 is not < 0)
    //   ids 2, 4 untouched: 0.5, 3
    const l = Float32Array.from([2, -2, 0.5, -0.5, 3, 0]);
    applyRepetitionPenalty(l, [0, 1, 1, 3, 5], 2);
    expect([...l]).toEqual([1, -4, 0.5, -1, 3, 0]);
  });

  it('p = 1.25 can change the greedy choice', () => {
    // [5, 4.5, 1], id 0 seen: 5 / 1.25 = 4 < 4.5 → argmax 0 → 1
    const a = Float32Array.from([5, 4.5, 1]);
    expect(argmax(a)).toBe(0);
    expect(argmax(applyRepetitionPenalty(a, [0], 1.25))).toBe(1);
    expect([...a]).toEqual([4, 4.5, 1]);
    // [-1, -1.2], id 0 seen: -1 · 1.25 = -1.25 < -1.2 → argmax 0 → 1
    const b = Float32Array.from([-1, -1.2]);
    expect(argmax(applyRepetitionPenalty(b, [0], 1.25))).toBe(1);
    expect(b[0]).toBe(-1.25);
  });

  it('computes in float32 as torch: p = 1.1 is cast to float32 (1.10000002384185791015625)', () => {
    const p32 = Math.fround(1.1);
    const l = Float32Array.from([2.2, -3]);
    applyRepetitionPenalty(l, [0, 1], 1.1);
    expect(l[0]).toBe(Math.fround(Math.fround(2.2) / p32));
    expect(l[1]).toBe(Math.fround(-3 * p32));
    // p = 1 leaves everything; p ≤ 0 and ids outside the row are errors
    const same = Float32Array.from([1, -1]);
    expect([...applyRepetitionPenalty(same, [0, 1], 1)]).toEqual([1, -1]);
    expect(() => applyRepetitionPenalty(same, [0], 0)).toThrow(RangeError);
    expect(() => applyRepetitionPenalty(same, [2], 1.1)).toThrow(RangeError);
  });

  it('RepetitionPenalty: the official scope covers only generated ids; prompt+generated adds the prompt text', () => {
    // official inference: generate(inputs_embeds=…) → transformers' input_ids start empty
    const official = new RepetitionPenalty(2);
    expect(official.scope).toBe(OFFICIAL_PENALTY_SCOPE);
    expect(OFFICIAL_PENALTY_SCOPE).toBe('generated');
    const step1 = official.apply(Float32Array.from([4, 2, -2]));
    expect([...step1]).toEqual([4, 2, -2]); // first step: nothing generated yet
    official.observe(0);
    expect([...official.apply(Float32Array.from([4, 2, -2]))]).toEqual([2, 2, -2]);
    const withPrompt = new RepetitionPenalty(2, 'prompt+generated', [2, 2]);
    expect(withPrompt.covered).toEqual([2]);
    expect([...withPrompt.apply(Float32Array.from([4, 2, -2]))]).toEqual([4, 2, -4]);
    withPrompt.observe(1);
    expect([...withPrompt.apply(Float32Array.from([4, 2, -2]))]).toEqual([4, 1, -4]);
  });
});

describe('generation config: eos ids and penalty', () => {
  it('reads generation_config.json (int or list eos, optional penalty)', () => {
    expect(generationSettings({ eos_token_id: [151645, 151643], repetition_penalty: 1.05 })).toEqual({ repetitionPenalty: 1.05, eosTokenIds: [151645, 151643] });
    expect(generationSettings({ eos_token_id: 151645 })).toEqual({ repetitionPenalty: 1, eosTokenIds: [151645] });
    expect(generationSettings(undefined)).toEqual({ repetitionPenalty: 1, eosTokenIds: [] });
    expect(() => generationSettings({ eos_token_id: 'x' })).toThrow(RangeError);
    expect(() => generationSettings({ repetition_penalty: -1 })).toThrow(RangeError);
  });
  it('stop ids: the prompt stop ids ∪ eos ids, unique and sorted', () => {
    expect(stopIdSet([151645], [151645, 151643])).toEqual([151643, 151645]);
    expect(stopIdSet([151645])).toEqual([151645]);
  });
});
