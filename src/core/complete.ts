/**
 * A text-only turn (PIPELINE §10, the long caption's merge): the family's chat template
 * around the user's text with no media block, the bundle's system prompt, generation
 * settings resolved from the manifest as for captions, on a fresh decoder (no conversation
 * is touched). Interrupt: `runtime/interrupted` with stage 'prefill' or 'generate'; from
 * the generation on `details.report` / `details.partialCaption` hold what was made.
 */
import { CaptionError, checkAborted, interruptedError } from './errors';
import { decoderOf } from './families/salmonn';
import { enterStage } from './families/stages';
import type { LoadedModel } from './families/types';
import { generateTurn, type TurnEvents } from './generate';
import { resolveOptions, type CaptionRequest } from './options';
import type { CompletionReport } from './report';

/** The prompt ids of a text-only turn under the request's settings (its prompt variant). */
export function completionIds(model: LoadedModel, prompt: string, request: CaptionRequest = {}): number[] {
  return model.family.textPromptIds(model, prompt, resolveOptions(model.manifest, request));
}

export async function completeText(model: LoadedModel, prompt: string, request: CaptionRequest = {}, events: TurnEvents = {}, signal?: AbortSignal): Promise<CompletionReport> {
  if (!prompt.trim()) throw new CaptionError('runtime/internal', 'A text-only request needs a prompt: got an empty one.');
  const options = resolveOptions(model.manifest, request);
  const ids = model.family.textPromptIds(model, prompt, options);
  checkAborted(signal, 'prefill');
  await enterStage(model, 'llm', events.onProgress);
  const decoder = decoderOf(model);
  try {
    const { result, text, tokensPerSecond } = await generateTurn(model, decoder, await decoder.embed(ids), options, ids, events, signal);
    const report: CompletionReport = {
      prompt,
      answer: text,
      promptTokenIds: ids,
      generatedTokenIds: result.tokenIds,
      margins: result.margins,
      stopReason: result.stopReason,
      timings: { prefill: result.prefillMs, generate: result.decodeMs },
      tokensPerSecond,
    };
    if (result.stopReason === 'interrupted') throw interruptedError(result.tokenIds.length ? 'generate' : 'prefill', { partialCaption: text, report });
    return report;
  } finally {
    decoder.dispose();
  }
}
