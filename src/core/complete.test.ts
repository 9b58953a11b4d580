/**
 * Engine.complete, the text-only turn (the long caption's merge), on the tiny bundle
 * (onnxruntime-node): its exact token layout (ChatML, no media block, the prompt variant
 * as for captions), greedy parity with the Decoder fed the same ids, and the interrupt
 * outcome at prefill and generation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeEngineOver } from '../cli/engine';
import { CaptionError } from './errors';
import { decoderOf } from './families/salmonn';
import type { CompletionReport } from './report';

const TINY = 'public/bundles/tiny';

// Qwen2's ids, by hand: <|im_start|> 151644, <|im_end|> 151645, "system" 8948, "user" 872,
// "assistant" 77091, "\n" 198, "You are a helpful assistant." 2610 525 264 10950 17847 13,
// "Hello world" 9707 1879.
const SYSTEM = [151644, 8948, 198, 2610, 525, 264, 10950, 17847, 13];
const TRAINING_IDS = [...SYSTEM, 151645, 198, 151644, 872, 198, 9707, 1879, 151645, 198, 151644, 77091, 198];
/** The official variant drops every <|im_end|> of the prompt (PIPELINE §5), text-only turns included. */
const OFFICIAL_IDS = [...SYSTEM, 198, 151644, 872, 198, 9707, 1879, 198, 151644, 77091, 198];
const TEXT = '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHello world<|im_end|>\n<|im_start|>assistant\n';

const greedy = { decoding: { kind: 'greedy' as const }, maxNewTokens: 10 };

describe('Engine.complete: a text-only turn', () => {
  const engine = nodeEngineOver({ warmUp: false });
  beforeAll(() => engine.load(TINY));
  afterAll(() => engine.dispose());

  it('lays out the ChatML turn with no media block: the hand-written ids for both prompt variants', async () => {
    const tok = engine.loaded!.tokenizer;
    const training = await engine.complete(' Hello world ', { ...greedy, maxNewTokens: 1, promptVariant: 'training' });
    expect(training.promptTokenIds).toEqual(TRAINING_IDS);
    expect(tok.decode(training.promptTokenIds, { skip_special_tokens: false })).toBe(TEXT);
    const official = await engine.complete('Hello world', { ...greedy, maxNewTokens: 1 });
    expect(official.promptTokenIds).toEqual(OFFICIAL_IDS);
    expect(engine.completionTokens('Hello world')).toBe(OFFICIAL_IDS.length);
    expect(engine.completionTokens('Hello world', { promptVariant: 'training' })).toBe(TRAINING_IDS.length);
  });

  it('greedy: the tokens equal the Decoder fed the same prompt ids (replay), streamed as the answer', async () => {
    const deltas: string[] = [];
    const r = await engine.complete('Hello world', greedy, { onToken: (d) => deltas.push(d) });
    const model = engine.loaded!;
    const decoder = decoderOf(model);
    const argmax = (l: Float32Array) => l.reduce((best, v, i) => (v > l[best] ? i : best), 0);
    const replay = await decoder.generate(await decoder.embed(OFFICIAL_IDS), { maxNewTokens: 10, stopTokenIds: model.manifest.generation.stopTokenIds, pickToken: argmax, prefillChunk: 512 });
    decoder.dispose();
    expect(r.generatedTokenIds).toEqual(replay.tokenIds);
    expect(r.generatedTokenIds).toHaveLength(replay.stopReason === 'stop-token' ? replay.tokenIds.length : 10);
    expect(r.stopReason).toBe(replay.stopReason);
    const text = model.tokenizer.decode(r.generatedTokenIds.filter((id) => !model.manifest.generation.stopTokenIds.includes(id)), { skip_special_tokens: true });
    expect(r.answer).toBe(text);
    expect(deltas.join('')).toBe(text);
    // A caption's conversation is untouched by a completion: none was started.
    expect(r.timings.prefill).toBeGreaterThanOrEqual(0);
  });

  for (const stage of ['prefill', 'generate'] as const) {
    it(`an interrupt during ${stage} rejects with runtime/interrupted naming the stage; the next request works`, async () => {
      let tokens = 0;
      const err = await engine
        .complete('Hello world', { ...greedy, maxNewTokens: 200, prefillChunk: 4 }, { onProgress: (s) => s === stage && engine.interrupt(), onToken: () => tokens++ })
        .then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(CaptionError);
      expect((err as CaptionError).code).toBe('runtime/interrupted');
      expect((err as CaptionError).details.stage).toBe(stage);
      const partial = (err as CaptionError).details.report as CompletionReport;
      expect(partial.stopReason).toBe('interrupted');
      expect(partial.generatedTokenIds).toHaveLength(tokens);
      if (stage === 'prefill') expect(tokens).toBe(0);
      else expect(tokens).toBeGreaterThanOrEqual(1);
      const next = await engine.complete('Hello world', { ...greedy, maxNewTokens: 3 });
      expect(next.generatedTokenIds.length).toBeGreaterThan(0);
    });
  }

  it('an empty prompt is refused with a clear message', async () => {
    await expect(engine.complete('   ')).rejects.toThrow('A text-only request needs a prompt');
  });
});
