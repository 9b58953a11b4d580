/**
 * The Qwen2 decode loop over the transformers.js graph layout (PIPELINE §5):
 * `embed_tokens` (input_ids → inputs_embeds) and `decoder_model_merged`
 * (inputs_embeds, attention_mask, position_ids, past_key_values.{i}.key|value →
 * logits, present.{i}.key|value). The prompt's embeddings are prefilled in chunks (the
 * logits of a 5 k-token prefill in one piece would take gigabytes), then one token per
 * step. On WebGPU the KV cache stays on the GPU: `present.*` come back as GPU buffers and
 * go straight in as the next step's `past_key_values.*`.
 */
import type { LlmConfig } from '../bundle/manifest';
import { disposeAll, float32Tensor, int64Tensor, readFloat32, type Feeds, type Ort, type Session, type Tensor } from '../runtime/ort';

export interface DecoderSessions {
  embedTokens: Session;
  decoder: Session;
}

export type StopReason = 'stop-token' | 'max-new-tokens' | 'interrupted';

export interface GenerateOptions {
  maxNewTokens: number;
  stopTokenIds: readonly number[];
  /** Picks the next token from one row of logits (greedy or sampling). */
  pickToken: (logits: Float32Array) => number;
  /** Prompt tokens per prefill run. */
  prefillChunk: number;
  signal?: AbortSignal;
  onPrefill?: (done: number, total: number) => void;
  /** Called for every generated token, the stop token included. */
  onToken?: (id: number, step: number) => void;
}

export interface GenerateResult {
  tokenIds: number[];
  stopReason: StopReason;
  /** top-1 minus top-2 logit at each step: how robust each greedy choice was. */
  margins: number[];
  prefillMs: number;
  decodeMs: number;
}

/** Self-attention KV cache keyed by the decoder's past input names. */
class KvCache {
  private tensors: Feeds;
  length = 0;

  constructor(ort: Ort, private readonly llm: LlmConfig) {
    this.tensors = {};
    for (let i = 0; i < llm.layers; i++) {
      for (const kind of ['key', 'value']) {
        this.tensors[`past_key_values.${i}.${kind}`] = new ort.Tensor('float32', new Float32Array(0), [1, llm.kvHeads, 0, llm.headDim]);
      }
    }
  }

  feeds(): Feeds {
    return this.tensors;
  }

  /** Takes the step's `present.*` outputs as the new past, freeing the old past. */
  advance(outputs: Record<string, Tensor>, added: number): void {
    const next: Feeds = {};
    for (let i = 0; i < this.llm.layers; i++) {
      for (const kind of ['key', 'value']) {
        const present = outputs[`present.${i}.${kind}`];
        if (!present) throw new Error(`decoder output present.${i}.${kind} is missing`);
        next[`past_key_values.${i}.${kind}`] = present;
      }
    }
    disposeAll(Object.values(this.tensors));
    this.tensors = next;
    this.length += added;
  }

  dispose(): void {
    disposeAll(Object.values(this.tensors));
    this.tensors = {};
  }
}

/** Runs the decoder on `count` new embeddings; returns the logits row of the last one. */
async function step(ort: Ort, s: DecoderSessions, cache: KvCache, embeds: Float32Array, count: number, hidden: number, vocab: number): Promise<Float32Array> {
  const total = cache.length + count;
  const feeds: Feeds = {
    inputs_embeds: float32Tensor(ort, embeds, [1, count, hidden]),
    attention_mask: int64Tensor(ort, new Array(total).fill(1), [1, total]),
    position_ids: int64Tensor(ort, Array.from({ length: count }, (_, i) => cache.length + i), [1, count]),
    ...cache.feeds(),
  };
  const outputs = await s.decoder.run(feeds);
  const logits = outputs.logits;
  const all = await readFloat32(logits);
  const last = all.slice((count - 1) * vocab, count * vocab);
  disposeAll([logits]);
  cache.advance(outputs, count);
  return last;
}

/** Embeds token ids with the `embed_tokens` graph: [n] → Float32Array [n, H]. */
export async function embedTokens(ort: Ort, s: Pick<DecoderSessions, 'embedTokens'>, ids: readonly number[]): Promise<Float32Array> {
  const out = await s.embedTokens.run({ input_ids: int64Tensor(ort, ids, [1, ids.length]) });
  const data = (await readFloat32(out.inputs_embeds)).slice();
  disposeAll(Object.values(out));
  return data;
}

export function topTwoMargin(logits: Float32Array): number {
  let a = -Infinity;
  let b = -Infinity;
  for (let i = 0; i < logits.length; i++) {
    const v = logits[i];
    if (v > a) {
      b = a;
      a = v;
    } else if (v > b) b = v;
  }
  return a - b;
}

const now = () => (globalThis.performance ?? Date).now();

let channel: MessageChannel | null = null;
const waiting: (() => void)[] = [];

/**
 * Lets the event loop run queued tasks (a worker's `interrupt` message) before the next
 * model run. Needed because onnxruntime-web's WASM `session.run` settles through
 * microtasks only: a loop of awaited runs never returns to the event loop, so an
 * AbortSignal set by a message handler was never seen until the loop ended (an interrupt
 * during decoding ran on to maxNewTokens; e2e/robustness.spec.ts). A MessageChannel
 * round trip (browsers) or setImmediate (Node) costs microseconds; setTimeout(0) would be
 * clamped to 4 ms per step.
 */
export function yieldToEventLoop(): Promise<void> {
  if (typeof setImmediate === 'function') return new Promise((r) => setImmediate(r));
  if (typeof MessageChannel === 'function') {
    if (!channel) {
      channel = new MessageChannel();
      channel.port1.onmessage = () => waiting.shift()?.();
    }
    return new Promise((r) => {
      waiting.push(r);
      channel!.port2.postMessage(null);
    });
  }
  return new Promise((r) => setTimeout(r, 0));
}

/** Prefills `prompt` ([L, H] embeddings) and generates until a stop token, the limit or an interrupt. */
export async function generate(ort: Ort, s: DecoderSessions, llm: LlmConfig, prompt: Float32Array, opts: GenerateOptions): Promise<GenerateResult> {
  const H = llm.hidden;
  const L = prompt.length / H;
  if (!Number.isInteger(L) || L < 1) throw new Error(`prompt embeddings of length ${prompt.length} are not a whole number of ${H}-wide rows`);
  const cache = new KvCache(ort, llm);
  const tokenIds: number[] = [];
  const margins: number[] = [];
  const t0 = now();
  let stopReason: StopReason = 'max-new-tokens';
  try {
    let logits: Float32Array | null = null;
    for (let at = 0; at < L; at += opts.prefillChunk) {
      await yieldToEventLoop();
      if (opts.signal?.aborted) return { tokenIds, stopReason: 'interrupted', margins, prefillMs: now() - t0, decodeMs: 0 };
      const n = Math.min(opts.prefillChunk, L - at);
      logits = await step(ort, s, cache, prompt.subarray(at * H, (at + n) * H), n, H, llm.vocab);
      opts.onPrefill?.(at + n, L);
    }
    const decodeStart = now();
    for (let i = 0; i < opts.maxNewTokens; i++) {
      await yieldToEventLoop();
      if (opts.signal?.aborted) {
        stopReason = 'interrupted';
        break;
      }
      const id = opts.pickToken(logits!);
      margins.push(topTwoMargin(logits!));
      tokenIds.push(id);
      opts.onToken?.(id, i);
      if (opts.stopTokenIds.includes(id)) {
        stopReason = 'stop-token';
        break;
      }
      if (i === opts.maxNewTokens - 1) break;
      const embeds = await embedTokens(ort, s, [id]);
      logits = await step(ort, s, cache, embeds, 1, H, llm.vocab);
    }
    return { tokenIds, stopReason, margins, prefillMs: decodeStart - t0, decodeMs: now() - decodeStart };
  } finally {
    cache.dispose();
  }
}
