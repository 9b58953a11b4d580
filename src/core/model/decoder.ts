/**
 * The LLM decode loop (PIPELINE §5) over two graphs whose I/O names come from the
 * manifest's ports: `embed_tokens` (input_ids → inputs_embeds) and the decoder
 * (inputs_embeds, attention_mask, position_ids?, past_key/past_value per layer → logits,
 * present_key/present_value per layer). The KV cache lives in the Decoder and is kept
 * between turns: a follow-up question prefills only its own tokens. Prompts are prefilled
 * in chunks (logits of a 5 k-token prefill in one piece would take gigabytes). On WebGPU
 * the cache stays on the GPU: `present.*` come back as GPU buffers and go straight in as
 * the next step's past.
 */
import type { GraphEntry, LlmConfig } from '../bundle/manifest';
import { CaptionError } from '../errors';
import { disposeAll, floatTensor, int64Tensor, now, readFloat32, type Feeds, type FloatType, type Ort, type Session, type Tensor } from '../runtime/ort';
import { expandPort } from '../runtime/sessions';

export type StopReason = 'stop-token' | 'max-new-tokens' | 'interrupted';

export interface GenerateOptions {
  maxNewTokens: number;
  stopTokenIds: readonly number[];
  /** Picks the next token from one row of logits, given the ids generated so far (greedy, sampling, penalties). */
  pickToken: (logits: Float32Array, generated: readonly number[]) => number;
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
  /** Rows prefilled by this call, and rows that were already in the cache. */
  prefillTokens: number;
  reusedTokens: number;
  /** Generated ids whose rows are not in the cache yet (the last one, unless interrupted): the next turn feeds them first. */
  unfed: number[];
}

/** Parts of a decode step (bench/decode-split.ts): the embedding of the picked token, the feeds, the decoder run, the logits read, the cache swap. */
export type StepPart = 'embed' | 'feeds' | 'run' | 'logits' | 'cache';

/** The two graphs of the decode loop with their manifest entries. */
export interface DecoderGraphs {
  embed: { session: Session; entry: Pick<GraphEntry, 'inputs' | 'outputs'> };
  decoder: { session: Session; entry: Pick<GraphEntry, 'inputs' | 'outputs' | 'dtype' | 'kvCache'> };
}

/** Element type a session declares for one of its inputs (metadata), else the dtype's rule. */
function inputType(session: Session, name: string, fallback: FloatType): FloatType {
  const meta = (session as Partial<Pick<Session, 'inputMetadata'>>).inputMetadata?.find((m) => m.name === name);
  const type = meta && 'type' in meta ? meta.type : undefined;
  return type === 'float16' || type === 'float32' ? type : fallback;
}

/** Self-attention KV cache keyed by the decoder's past input names. */
class KvCache {
  private tensors: Feeds = {};
  length = 0;
  private readonly past: [string, string][];
  private readonly present: [string, string][];

  constructor(
    private readonly ort: Ort,
    private readonly llm: LlmConfig,
    entry: DecoderGraphs['decoder']['entry'],
    private readonly type: FloatType,
  ) {
    const pk = expandPort(entry.inputs.past_key, llm.layers);
    const pv = expandPort(entry.inputs.past_value, llm.layers);
    const ok = expandPort(entry.outputs.present_key, llm.layers);
    const ov = expandPort(entry.outputs.present_value, llm.layers);
    this.past = pk.flatMap((k, i) => [[k, ok[i]], [pv[i], ov[i]]] as [string, string][]);
    this.present = this.past.map(([p, o]) => [o, p]);
    this.clear();
  }

  feeds(): Feeds {
    return this.tensors;
  }

  /** Takes the step's present outputs as the new past, freeing the old past. */
  advance(outputs: Record<string, Tensor>, added: number): void {
    const next: Feeds = {};
    for (const [out, past] of this.present) {
      const t = outputs[out];
      if (!t) throw new CaptionError('bundle/graph-contract', `The decoder returned no "${out}" output.`, { output: out });
      next[past] = t;
    }
    disposeAll(Object.values(this.tensors));
    this.tensors = next;
    this.length += added;
  }

  /** Empties the cache (zero-length past tensors). */
  clear(): void {
    disposeAll(Object.values(this.tensors));
    const empty = () => new this.ort.Tensor(this.type, this.type === 'float16' ? new Uint16Array(0) : new Float32Array(0), [1, this.llm.kvHeads, 0, this.llm.headDim]);
    this.tensors = Object.fromEntries(this.past.map(([p]) => [p, empty()]));
    this.length = 0;
  }

  dispose(): void {
    disposeAll(Object.values(this.tensors));
    this.tensors = {};
  }
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

let channel: MessageChannel | null = null;
const waiting: (() => void)[] = [];

/**
 * Lets the event loop run queued tasks (a worker's `interrupt` message) before the next
 * model run. Needed because onnxruntime-web's WASM `session.run` settles through
 * microtasks only: a loop of awaited runs never returns to the event loop, so an
 * AbortSignal set by a message handler was never seen until the loop ended
 * (e2e/robustness.spec.ts). A MessageChannel round trip (browsers) or setImmediate (Node)
 * costs microseconds; setTimeout(0) would be clamped to 4 ms per step.
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

/**
 * Rows per run of a GroupQueryAttention decoder (the exporter's, no position_ids input) on
 * WebGPU: onnxruntime-web 1.30's WebGPU flash-attention prefill gives wrong attention rows
 * for 32 or more query rows per run on the software adapter (exact up to 31, with any past:
 * e2e/runtime.spec.ts "GroupQueryAttention", models/README.md "Quantised bundles").
 */
export const WEBGPU_GQA_MAX_ROWS = 31;

/** The most prompt rows one decoder run may take on this backend (Infinity: no limit). */
export function maxRowsPerRun(backend: string | undefined, entry: Pick<GraphEntry, 'inputs'>): number {
  return backend === 'webgpu' && entry.inputs.position_ids === undefined ? WEBGPU_GQA_MAX_ROWS : Infinity;
}

/** The decoder with its KV cache: prefill, generate, keep the cache for the next turn, reset. */
export class Decoder {
  private readonly cache: KvCache;
  private readonly embedsType: FloatType;
  private readonly ports: { embeds: string; mask: string; positions?: string; logits: string; ids: string; embedOut: string };
  /** Rows of single generated tokens already embedded: a table lookup instead of an embed_tokens run (the row of a token is the same in any batch). */
  private readonly rows = new Map<number, Float32Array>();
  /** All-ones attention mask, grown as the cache grows; each step feeds a prefix of it. */
  private ones = new BigInt64Array(0);
  /** Bench-only: called with each part's milliseconds (StepPart); null costs nothing. */
  trace: ((part: StepPart, ms: number) => void) | null = null;

  constructor(
    private readonly ort: Ort,
    private readonly graphs: DecoderGraphs,
    private readonly llm: LlmConfig,
    /** The most rows per decoder run (maxRowsPerRun): prefill and feed chunks are capped to it. */
    private readonly maxRows = Infinity,
  ) {
    const { decoder, embed } = graphs;
    const half = decoder.entry.dtype === 'q4f16';
    this.ports = {
      embeds: decoder.entry.inputs.inputs_embeds,
      mask: decoder.entry.inputs.attention_mask,
      positions: decoder.entry.inputs.position_ids,
      logits: decoder.entry.outputs.logits,
      ids: embed.entry.inputs.input_ids,
      embedOut: embed.entry.outputs.inputs_embeds,
    };
    this.embedsType = inputType(decoder.session, this.ports.embeds, half ? 'float16' : 'float32');
    const kvType: FloatType = decoder.entry.kvCache?.dtype ?? this.embedsType;
    this.cache = new KvCache(ort, llm, decoder.entry, kvType);
  }

  /** Rows in the KV cache. */
  get length(): number {
    return this.cache.length;
  }

  /** Embeds token ids with the embedding graph: [n] → Float32Array [n, H]. */
  async embed(ids: readonly number[]): Promise<Float32Array> {
    if (ids.length === 0) return new Float32Array(0);
    const out = await this.graphs.embed.session.run({ [this.ports.ids]: int64Tensor(this.ort, ids, [1, ids.length]) });
    const data = (await readFloat32(out[this.ports.embedOut])).slice();
    disposeAll(Object.values(out));
    return data;
  }

  /** One generated token's embedding row, [H]: from the rows seen before, else through embed_tokens. */
  private async embedToken(id: number): Promise<Float32Array> {
    const t = this.trace ? now() : 0;
    let row = this.rows.get(id);
    if (!row) {
      row = await this.embed([id]);
      if (this.rows.size < 4096) this.rows.set(id, row); // ≤ 4096 rows: 58 MB at a 7B's hidden 3584
    }
    this.trace?.('embed', now() - t);
    return row;
  }

  /** The attention mask for `total` positions: all ones (no per-element BigInt conversion, no allocation per step). */
  private mask(total: number): Tensor {
    if (this.ones.length < total) this.ones = new BigInt64Array(Math.max(total, 2 * this.ones.length, 256)).fill(1n);
    return new this.ort.Tensor('int64', this.ones.subarray(0, total), [1, total]);
  }

  /** Runs the decoder on `count` new embeddings after the cache; returns the last position's logits. */
  private async step(embeds: Float32Array, count: number): Promise<Float32Array> {
    const { hidden, vocab } = this.llm;
    const trace = this.trace;
    let t = trace ? now() : 0;
    const lap = (part: StepPart) => {
      if (!trace) return;
      const n = now();
      trace(part, n - t);
      t = n;
    };
    const past = this.cache.length;
    const total = past + count;
    const feeds: Feeds = {
      [this.ports.embeds]: floatTensor(this.ort, embeds, [1, count, hidden], this.embedsType),
      [this.ports.mask]: this.mask(total),
      ...this.cache.feeds(),
    };
    if (this.ports.positions) feeds[this.ports.positions] = int64Tensor(this.ort, Array.from({ length: count }, (_, i) => past + i), [1, count]);
    lap('feeds');
    const outputs = await this.graphs.decoder.session.run(feeds);
    lap('run');
    const logits = outputs[this.ports.logits];
    const all = await readFloat32(logits);
    // [1, S, V] or [1, 1, V] (manifest logits: 'last'). One row is kept as it is (ORT hands out a
    // fresh array); of a prefill's S rows only the last is copied, so the rest can be freed.
    const last = all.length === vocab ? all : all.slice(all.length - vocab);
    disposeAll([logits]);
    lap('logits');
    this.cache.advance(outputs, count);
    lap('cache');
    return last;
  }

  /**
   * Prefills `prompt` ([L, H] embeddings, appended after whatever the cache holds) and
   * generates until a stop token, the limit or an interrupt. The generated tokens' own
   * rows are in the cache afterwards except the last one, which the next turn must feed.
   */
  async generate(prompt: Float32Array, opts: GenerateOptions): Promise<GenerateResult> {
    const H = this.llm.hidden;
    const L = prompt.length / H;
    if (!Number.isInteger(L) || L < 1) throw new Error(`prompt embeddings of length ${prompt.length} are not a whole number of ${H}-wide rows`);
    const reusedTokens = this.cache.length;
    const tokenIds: number[] = [];
    const margins: number[] = [];
    const t0 = now();
    const result = (stopReason: StopReason, decodeStart: number): GenerateResult => ({
      tokenIds,
      stopReason,
      margins,
      prefillMs: decodeStart - t0,
      decodeMs: now() - decodeStart,
      prefillTokens: L,
      reusedTokens,
      unfed: stopReason === 'interrupted' ? [] : tokenIds.slice(-1),
    });
    let logits: Float32Array | null = null;
    const chunk = Math.min(opts.prefillChunk, this.maxRows);
    for (let at = 0; at < L; at += chunk) {
      await yieldToEventLoop();
      if (opts.signal?.aborted) return { ...result('interrupted', now()), decodeMs: 0 };
      const n = Math.min(chunk, L - at);
      logits = await this.step(prompt.subarray(at * H, (at + n) * H), n);
      opts.onPrefill?.(at + n, L);
    }
    const decodeStart = now();
    for (let i = 0; i < opts.maxNewTokens; i++) {
      await yieldToEventLoop();
      if (opts.signal?.aborted) return result('interrupted', decodeStart);
      const id = opts.pickToken(logits!, tokenIds);
      margins.push(topTwoMargin(logits!));
      tokenIds.push(id);
      opts.onToken?.(id, i);
      if (opts.stopTokenIds.includes(id)) return result('stop-token', decodeStart);
      if (i === opts.maxNewTokens - 1) break;
      logits = await this.step(await this.embedToken(id), 1);
    }
    return result('max-new-tokens', decodeStart);
  }

  /** Appends rows to the cache without generating (the tail of an answer before the next turn). */
  async feed(embeds: Float32Array, chunk: number): Promise<void> {
    const H = this.llm.hidden;
    const L = embeds.length / H;
    const rows = Math.min(chunk, this.maxRows);
    for (let at = 0; at < L; at += rows) {
      const n = Math.min(rows, L - at);
      await this.step(embeds.subarray(at * H, (at + n) * H), n);
    }
  }

  /** Forgets the conversation. */
  reset(): void {
    this.cache.clear();
  }

  dispose(): void {
    this.cache.dispose();
  }
}
