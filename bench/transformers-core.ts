/**
 * The comparison of bench/transformers-generate.ts, shared by its Node run and its Chromium
 * worker (bench/transformers-worker.ts): our `Decoder.generate` and transformers.js' `generate`
 * on the same embed_tokens + decoder_model_merged, greedy, the same prompt ids and the same
 * number of new tokens, one warm-up each, then alternating; medians and whether the ids agree.
 */
import type { PreTrainedModel, Tensor } from '@huggingface/transformers';
import { LITE_ROLES } from '../src/core/families/lite';
import { decoderOf } from '../src/core/families/salmonn';
import type { LoadedModel } from '../src/core/families/types';
import { argmax } from '../src/core/model/sampling';
import { now } from '../src/core/runtime/ort';

export interface CompareConfig {
  promptTokens: number;
  newTokens: number;
  reps: number;
}

export interface CompareResult extends CompareConfig {
  sameIds: boolean;
  oursMs: number;
  theirsMs: number;
  oursIds: number[];
  theirsIds: number[];
}

type TensorClass = new (type: 'int64', data: BigInt64Array, dims: number[]) => Tensor;

/**
 * transformers.js (addPastKeyValues) sizes its empty KV cache from the decoder's declared
 * symbolic dims and knows only "batch_size": any other name becomes 0 and the first run fails.
 */
export function checkBatchDim(model: LoadedModel): void {
  const session = model.sessions[LITE_ROLES.decoder] as Partial<LoadedModel['sessions'][string]>;
  const meta = session.inputMetadata?.find((m) => m.name.startsWith('past_key_values.'));
  const dim = meta && 'shape' in meta ? meta.shape[0] : undefined;
  if (typeof dim === 'string' && dim !== 'batch_size') {
    throw new Error(`the decoder names its batch dim "${dim}"; transformers.js sizes its empty KV cache from dims named "batch_size" (others become 0): rename the dim_param in the graph for this bench (bench/README.md)`);
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function compareGenerate(model: LoadedModel, hf: PreTrainedModel, TensorCtor: TensorClass, c: CompareConfig): Promise<CompareResult> {
  checkBatchDim(model);
  // ordinary text ids (the fixture's embedding favours 220 + 60k), the same for both sides
  const prompt = Array.from({ length: c.promptTokens }, (_, i) => 220 + ((i * 7) % 64) * 60);
  const ours = async () => {
    const decoder = decoderOf(model, LITE_ROLES.embed, LITE_ROLES.decoder);
    try {
      const t0 = now();
      const r = await decoder.generate(await decoder.embed(prompt), { maxNewTokens: c.newTokens, stopTokenIds: [], pickToken: (l) => argmax(l), prefillChunk: c.promptTokens });
      return { ms: now() - t0, ids: r.tokenIds };
    } finally {
      decoder.dispose();
    }
  };
  const theirs = async () => {
    const input_ids = new TensorCtor('int64', BigInt64Array.from(prompt, BigInt), [1, c.promptTokens]);
    const attention_mask = new TensorCtor('int64', new BigInt64Array(c.promptTokens).fill(1n), [1, c.promptTokens]);
    const t0 = now();
    const out = (await hf.generate({ input_ids, attention_mask, max_new_tokens: c.newTokens, min_new_tokens: c.newTokens, do_sample: false } as never)) as Tensor;
    const ms = now() - t0;
    return { ms, ids: Array.from(out.data as BigInt64Array, Number).slice(c.promptTokens) };
  };
  const a0 = await ours();
  const b0 = await theirs();
  const times = { ours: [] as number[], theirs: [] as number[] };
  for (let r = 0; r < c.reps; r++) {
    times.ours.push((await ours()).ms);
    times.theirs.push((await theirs()).ms);
  }
  const sameIds = a0.ids.length === b0.ids.length && a0.ids.every((id, i) => id === b0.ids[i]);
  return { ...c, sameIds, oursMs: median(times.ours), theirsMs: median(times.theirs), oursIds: a0.ids, theirsIds: b0.ids };
}

export function report(where: string, r: CompareResult): string {
  return [
    `${where}: ${r.promptTokens} prompt tokens + ${r.newTokens} new, greedy, median of ${r.reps} (alternating)`,
    `  same token ids: ${r.sameIds ? 'yes' : `NO (ours ${r.oursIds.slice(0, 8).join(' ')} …, transformers.js ${r.theirsIds.slice(0, 8).join(' ')} …)`}`,
    `  ours (Decoder.generate)          ${r.oursMs.toFixed(1)} ms  (${(r.oursMs / r.newTokens).toFixed(2)} ms/token incl. prefill)`,
    `  transformers.js generate          ${r.theirsMs.toFixed(1)} ms  (${(r.theirsMs / r.newTokens).toFixed(2)} ms/token incl. prefill)`,
    `  ratio ours / transformers.js      ${(r.oursMs / r.theirsMs).toFixed(2)}`,
  ].join('\n');
}
