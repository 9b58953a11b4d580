/**
 * Choosing the next token from a logits row (PIPELINE §5): greedy by default (the
 * checkpoint decodes greedily with 1 beam); optional temperature + top-p (nucleus)
 * sampling driven by a seeded PRNG, so a given seed always gives the same caption.
 */

export type Logits = ArrayLike<number>;

/** Index of the largest finite logit (the first one on ties, as torch.argmax). */
export function argmax(logits: Logits): number {
  let best = -1;
  let bestValue = -Infinity;
  for (let i = 0; i < logits.length; i++) {
    const v = logits[i];
    if (v > bestValue) {
      bestValue = v;
      best = i;
    }
  }
  if (best < 0) throw new RangeError('logits row has no finite value');
  return best;
}

/** mulberry32: a small, fast 32-bit PRNG; returns floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SamplingOptions {
  /** 0 (or less) means greedy. */
  temperature: number;
  /** Nucleus mass in (0, 1]; 1 keeps every token. */
  topP: number;
}

export const GREEDY: SamplingOptions = { temperature: 0, topP: 1 };

/** Tokens whose probability is below e^(−CUTOFF) of the best one are never kept (mass < V·e^−CUTOFF). */
const CUTOFF = 40;

/**
 * Samples one id: softmax(logits / T), keep the smallest set of most likely tokens whose
 * mass reaches topP, renormalise, draw with `random()`.
 */
export function sampleToken(logits: Logits, options: SamplingOptions, random: () => number): number {
  if (!(options.temperature > 0)) return argmax(logits);
  const best = argmax(logits);
  const maxScaled = logits[best] / options.temperature;
  const ids: number[] = [];
  const weights: number[] = [];
  for (let i = 0; i < logits.length; i++) {
    const z = logits[i] / options.temperature - maxScaled;
    if (z > -CUTOFF) {
      ids.push(i);
      weights.push(Math.exp(z));
    }
  }
  const order = ids.map((_, k) => k).sort((x, y) => weights[y] - weights[x] || ids[x] - ids[y]);
  const total = weights.reduce((s, w) => s + w, 0);
  const topP = Math.min(Math.max(options.topP, 0), 1);
  let kept = 0;
  let mass = 0;
  while (kept < order.length && (kept === 0 || mass < topP * total)) mass += weights[order[kept++]];
  let r = random() * mass;
  for (let k = 0; k < kept; k++) {
    r -= weights[order[k]];
    if (r < 0) return ids[order[k]];
  }
  return ids[order[kept - 1]];
}

/** A decoder's token chooser: greedy, or seeded sampling. */
export function makeSampler(options: SamplingOptions = GREEDY, seed = 0): (logits: Logits) => number {
  const random = seededRandom(seed);
  return (logits) => sampleToken(logits, options, random);
}

export function isStopToken(id: number, stopTokenIds: readonly number[]): boolean {
  return stopTokenIds.includes(id);
}
