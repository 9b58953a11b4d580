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

// ---------------------------------------------------------------------------------------
// The checkpoint's generation config (PIPELINE §5): repetition penalty and eos ids.

/**
 * transformers' RepetitionPenaltyLogitsProcessor (generation/logits_process.py): for each
 * id it covers, once however often it occurs (gather/scatter of the same value),
 * score < 0 ? score · p : score / p. Computed as torch does on float32 logits with a Python
 * float penalty: the penalty is cast to float32 and each result rounded to float32.
 * Modifies `logits` in place and returns it. p = 1 changes nothing.
 */
export function applyRepetitionPenalty<T extends { [i: number]: number; length: number }>(logits: T, ids: Iterable<number>, penalty: number): T {
  if (!(penalty > 0)) throw new RangeError(`repetition penalty ${penalty} must be > 0`);
  if (penalty === 1) return logits;
  const p = Math.fround(penalty);
  const seen = new Set<number>();
  for (const id of ids) {
    if (seen.has(id)) continue;
    seen.add(id);
    if (!(id >= 0 && id < logits.length)) throw new RangeError(`token id ${id} is outside the logits row (${logits.length})`);
    const s = logits[id];
    logits[id] = Math.fround(s < 0 ? s * p : s / p);
  }
  return logits;
}

/**
 * Which ids the penalty covers. transformers penalises the `input_ids` it carries: the
 * prompt ids plus the generated ones when generate() gets input_ids, but only the generated
 * ones when it gets inputs_embeds alone — as the checkpoint's inference does
 * (video_salmonn_2.py:631-635 passes inputs_embeds, no input_ids; transformers 4.39's
 * _maybe_initialize_input_ids_for_generation then starts input_ids empty, [B, 0]).
 */
export type PenaltyScope = 'generated' | 'prompt+generated';
export const OFFICIAL_PENALTY_SCOPE: PenaltyScope = 'generated';

/**
 * A stateful repetition-penalty processor for one generation: `apply` before choosing
 * each token, `observe` the chosen one. With scope 'prompt+generated' the prompt's text
 * ids are covered from the first step (the AV block has no ids).
 */
export class RepetitionPenalty {
  private readonly ids = new Set<number>();

  constructor(
    readonly penalty: number,
    readonly scope: PenaltyScope = OFFICIAL_PENALTY_SCOPE,
    promptIds: Iterable<number> = [],
  ) {
    if (!(penalty > 0)) throw new RangeError(`repetition penalty ${penalty} must be > 0`);
    if (scope === 'prompt+generated') for (const id of promptIds) this.ids.add(id);
  }

  /** The ids covered now, in first-seen order. */
  get covered(): number[] {
    return [...this.ids];
  }

  observe(id: number): void {
    this.ids.add(id);
  }

  apply<T extends { [i: number]: number; length: number }>(logits: T): T {
    return applyRepetitionPenalty(logits, this.ids, this.penalty);
  }
}

/** The decoding numbers of a checkpoint's generation_config.json that greedy decoding uses. */
export interface GenerationSettings {
  /** 1 = none. */
  repetitionPenalty: number;
  /** generation_config's eos_token_id (int or list), as a list; [] when absent. */
  eosTokenIds: number[];
}

/** Reads transformers' generation_config.json (snake_case keys) into GenerationSettings. */
export function generationSettings(config: { repetition_penalty?: unknown; eos_token_id?: unknown } | null | undefined): GenerationSettings {
  const rp = config?.repetition_penalty;
  const eos = config?.eos_token_id;
  const list = eos === undefined || eos === null ? [] : Array.isArray(eos) ? eos : [eos];
  if (!list.every((v) => Number.isInteger(v) && (v as number) >= 0)) throw new RangeError(`eos_token_id ${JSON.stringify(eos)} is not a token id or a list of them`);
  if (rp !== undefined && rp !== null && !(typeof rp === 'number' && rp > 0)) throw new RangeError(`repetition_penalty ${JSON.stringify(rp)} is not a positive number`);
  return { repetitionPenalty: typeof rp === 'number' ? rp : 1, eosTokenIds: list as number[] };
}

/**
 * Every id that ends generation: the prompt's stop ids (<|im_end|>, the checkpoint's
 * KeywordsStoppingCriteria, mm_utils.py:367-400) and the generation config's eos ids.
 * Sorted, unique.
 */
export function stopIdSet(stopTokenIds: readonly number[], eosTokenIds: readonly number[] = []): number[] {
  return [...new Set([...stopTokenIds, ...eosTokenIds])].sort((a, b) => a - b);
}
