/**
 * One generation turn on a decoder (PIPELINE §5): sampler, repetition penalty, streamed
 * text deltas and progress. Shared by the caption session (captions, follow-up questions)
 * and the text-only completion (complete.ts), so every turn decodes by the same rules.
 */
import { toCaptionError } from './errors';
import type { LoadedModel } from './families/types';
import type { Decoder, GenerateResult } from './model/decoder';
import { StreamingDetokenizer } from './model/prompt';
import { makeSampler, RepetitionPenalty } from './model/sampling';
import type { ResolvedOptions } from './options';
import type { ProgressFn } from './families/types';
import { now } from './runtime/ort';

export interface TurnEvents {
  onProgress?: ProgressFn;
  onToken?: (delta: string, id: number, tokensPerSecond: number) => void;
}

export interface TurnOutput {
  result: GenerateResult;
  text: string;
  tokensPerSecond: number;
}

/**
 * Prefills `prompt` (embedding rows) and generates; an interrupt returns normally with
 * stopReason 'interrupted'. A failure throws a CaptionError whose `details.partialCaption`
 * holds the text so far.
 */
export async function generateTurn(model: LoadedModel, decoder: Decoder, prompt: Float32Array, options: ResolvedOptions, promptIds: readonly number[], events: TurnEvents, signal?: AbortSignal): Promise<TurnOutput> {
  const stops = model.manifest.generation.stopTokenIds;
  const detok = new StreamingDetokenizer(model.tokenizer);
  const sample = makeSampler(options.decoding.kind === 'greedy' ? undefined : { temperature: options.decoding.temperature, topP: options.decoding.topP }, options.decoding.kind === 'greedy' ? 0 : options.decoding.seed);
  // The official inference passes inputs_embeds only, so transformers' penalty covers the generated ids (model/sampling.ts).
  const penalty = options.repetitionPenalty === 1 ? null : new RepetitionPenalty(options.repetitionPenalty, 'generated', promptIds);
  // Greedy without a penalty: the decoder's own argmax (one pass with the margin). The penalty
  // changes the row in place: the decoder has read its margin already and reads it no further.
  const pickToken = options.decoding.kind === 'greedy' && !penalty ? undefined : (logits: Float32Array) => sample(penalty ? penalty.apply(logits) : logits);
  let firstTokenAt = 0;
  let result: GenerateResult;
  try {
    result = await decoder.generate(prompt, {
      maxNewTokens: options.maxNewTokens,
      stopTokenIds: stops,
      pickToken,
      prefillChunk: options.prefillChunk,
      signal,
      onPrefill: (done, total) => events.onProgress?.('prefill', done / total),
      onToken: (id, step) => {
        penalty?.observe(id);
        if (step === 0) firstTokenAt = now();
        const delta = stops.includes(id) ? detok.flush() : detok.push(id);
        const elapsed = (now() - firstTokenAt) / 1000;
        events.onToken?.(delta, id, step > 0 && elapsed > 0 ? step / elapsed : 0);
        events.onProgress?.('generate', (step + 1) / options.maxNewTokens);
      },
    });
  } catch (e) {
    const err = toCaptionError(e);
    err.details.partialCaption ??= detok.text;
    throw err;
  }
  detok.flush();
  const tokensPerSecond = result.decodeMs > 0 ? (result.tokenIds.length / result.decodeMs) * 1000 : 0;
  return { result, text: detok.text, tokensPerSecond };
}
