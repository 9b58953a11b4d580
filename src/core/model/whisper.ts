/**
 * Whisper speech recognition with timestamps over the public transformers.js / optimum
 * export layout: `encoder_model` (input_features → last_hidden_state) and the merged
 * `decoder_model_merged` (input_ids, encoder_hidden_states, past_key_values.{i}.decoder|encoder
 * .key|value, use_cache_branch → logits, present.{i}.decoder|encoder.key|value). One greedy
 * loop, on the same onnxruntime as the rest of the app:
 *
 *  - prompt: <|startoftranscript|> <|lang|> <|transcribe|> (no <|notimestamps|>), as
 *    transformers.js WhisperForConditionalGeneration._retrieve_init_tokens;
 *  - step 0 feeds empty past tensors and use_cache_branch = false; later steps feed the
 *    decoder's own presents and the encoder presents of step 0 (the merged graph's encoder
 *    presents are constants on the cached branch; transformers.js getPastKeyValues keeps
 *    the previous ones, as optimum does);
 *  - logits rules of transformers' WhisperTimeStampLogitsProcessor (generation/logits_process):
 *    suppress <|notimestamps|>, first token a timestamp (≤ max_initial_timestamp_index),
 *    timestamps in pairs, never decreasing, and a timestamp whenever their total
 *    probability beats the best text token; plus suppress_tokens / begin_suppress_tokens.
 */
import { CaptionError } from '../errors';
import { disposeAll, floatTensor, int64Tensor, readFloat32, type Feeds, type FloatType, type Ort, type Session, type Tensor } from '../runtime/ort';
import { expandPort } from '../runtime/sessions';

/** Token ids and limits of the recogniser (generation_config.json of the export). */
export interface WhisperTokens {
  /** <|startoftranscript|> <|lang|> <|task|>. */
  prompt: number[];
  eos: number;
  noTimestamps: number;
  /** Id of <|0.00|> (no_timestamps_token_id + 1). */
  timestampBegin: number;
  /** Seconds per timestamp step (0.02). */
  timeStep: number;
  maxInitialTimestampIndex: number | null;
  suppress: number[];
  beginSuppress: number[];
  maxNewTokens: number;
}

export interface TranscriptSegment {
  /** Seconds from the start of the window. */
  start: number;
  end: number;
  ids: number[];
}

function logSoftmaxAt(logits: Float32Array): { logZ: number } {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] > max) max = logits[i];
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i] - max);
  return { logZ: max + Math.log(sum) };
}

/** Applies the suppression and timestamp rules in place; `generated` excludes the prompt. */
export function applyWhisperRules(logits: Float32Array, generated: readonly number[], t: WhisperTokens): Float32Array {
  const tb = t.timestampBegin;
  for (const id of t.suppress) if (id < logits.length) logits[id] = -Infinity;
  if (generated.length === 0) for (const id of t.beginSuppress) if (id < logits.length) logits[id] = -Infinity;
  logits[t.noTimestamps] = -Infinity;
  if (generated.length === 0) {
    logits.fill(-Infinity, 0, tb);
    if (t.maxInitialTimestampIndex !== null) logits.fill(-Infinity, tb + t.maxInitialTimestampIndex + 1);
    return logits;
  }
  const n = generated.length;
  const lastTs = generated[n - 1] >= tb;
  const penultimateTs = n < 2 || generated[n - 2] >= tb;
  if (lastTs) {
    if (penultimateTs) logits.fill(-Infinity, tb); // has to be text
    else logits.fill(-Infinity, 0, t.eos); // cannot be text
  }
  // timestamps never decrease (transformers' python processor)
  const stamps = generated.filter((id) => id >= tb);
  if (stamps.length) {
    const last = stamps[stamps.length - 1];
    const floor = lastTs && !penultimateTs ? last : last + 1;
    logits.fill(-Infinity, tb, Math.min(floor, logits.length));
  }
  const { logZ } = logSoftmaxAt(logits);
  let tsMass = 0;
  for (let i = tb; i < logits.length; i++) tsMass += Math.exp(logits[i] - logZ);
  let bestText = -Infinity;
  for (let i = 0; i < tb; i++) if (logits[i] > bestText) bestText = logits[i];
  if (Math.log(tsMass) > bestText - logZ) logits.fill(-Infinity, 0, tb);
  return logits;
}

/**
 * Generated ids → segments: text between a start and an end timestamp; a pair of equal
 * timestamps closes one segment and opens the next (`<|a|> text <|b|><|b|> text <|c|>`).
 */
export function segmentsFromIds(ids: readonly number[], t: WhisperTokens, windowSeconds: number): TranscriptSegment[] {
  const out: TranscriptSegment[] = [];
  let start: number | null = null;
  let text: number[] = [];
  for (const id of ids) {
    if (id === t.eos) break;
    if (id >= t.timestampBegin) {
      const time = (id - t.timestampBegin) * t.timeStep;
      if (text.length) {
        out.push({ start: start ?? time, end: time, ids: text });
        text = [];
        start = null;
      } else start = time;
    } else if (id < t.eos) text.push(id); // other special tokens carry no text
  }
  if (text.length) out.push({ start: start ?? 0, end: windowSeconds, ids: text });
  return out;
}

export interface WhisperGraphs {
  encoder: { session: Session; inputs: Record<string, string>; outputs: Record<string, string> };
  decoder: { session: Session; inputs: Record<string, string>; outputs: Record<string, string> };
}

export interface WhisperShape {
  layers: number;
  heads: number;
  headDim: number;
  hidden: number;
  encoderFrames: number;
}

function declaredType(session: Session, name: string, fallback: FloatType): FloatType {
  const meta = (session as Partial<Pick<Session, 'inputMetadata'>>).inputMetadata?.find((m) => m.name === name);
  const type = meta && 'type' in meta ? meta.type : undefined;
  return type === 'float16' || type === 'float32' ? type : fallback;
}

/** Greedy timestamped recognition of one 30 s window's log-mel [numMels, melFrames]. */
export class WhisperRecognizer {
  constructor(
    private readonly ort: Ort,
    private readonly graphs: WhisperGraphs,
    private readonly shape: WhisperShape,
    private readonly tokens: WhisperTokens,
  ) {}

  /** Encoder states [1, encoderFrames, hidden] as the decoder wants them (kept as the tensor). */
  async encode(mel: Float32Array, numMels: number, melFrames: number): Promise<Tensor> {
    const { session, inputs, outputs } = this.graphs.encoder;
    const feed = inputs.input_features;
    const res = await session.run({ [feed]: floatTensor(this.ort, mel, [1, numMels, melFrames], declaredType(session, feed, 'float32')) });
    const states = res[outputs.last_hidden_state];
    disposeAll(Object.entries(res).filter(([k]) => k !== outputs.last_hidden_state).map(([, v]) => v));
    const [b, frames, hidden] = states.dims;
    if (b !== 1 || frames !== this.shape.encoderFrames || hidden !== this.shape.hidden) {
      states.dispose();
      throw new CaptionError(
        'bundle/graph-contract',
        `The graph "speech_encoder" returned "${outputs.last_hidden_state}" of shape [${states.dims.join(', ')}]; bundle.json expects [1, ${this.shape.encoderFrames}, ${this.shape.hidden}] (encoder frames × Whisper width) for one window.`,
        { graph: 'speech_encoder', output: outputs.last_hidden_state, actual: [...states.dims], expected: [1, this.shape.encoderFrames, this.shape.hidden] },
      );
    }
    return states;
  }

  /** Decodes one window; returns the generated ids (prompt excluded). */
  async decode(states: Tensor, signal?: AbortSignal): Promise<number[]> {
    const { session, inputs, outputs } = this.graphs.decoder;
    const { layers, heads, headDim } = this.shape;
    const names = (port: string, side: Record<string, string>) => expandPort(side[port], layers);
    const pastDec = [...names('past_decoder_key', inputs), ...names('past_decoder_value', inputs)];
    const pastEnc = [...names('past_encoder_key', inputs), ...names('past_encoder_value', inputs)];
    const presDec = [...names('present_decoder_key', outputs), ...names('present_decoder_value', outputs)];
    const presEnc = [...names('present_encoder_key', outputs), ...names('present_encoder_value', outputs)];
    const kvType = declaredType(session, pastDec[0], 'float32');
    const statesType = declaredType(session, inputs.encoder_hidden_states, states.type === 'float16' ? 'float16' : 'float32');
    const statesFeed = states.type === statesType ? states : floatTensor(this.ort, await readFloat32(states), states.dims, statesType);
    const empty = () => new this.ort.Tensor(kvType, kvType === 'float16' ? new Uint16Array(0) : new Float32Array(0), [1, heads, 0, headDim]);
    let dec: Feeds = Object.fromEntries(pastDec.map((n) => [n, empty()]));
    let enc: Feeds = Object.fromEntries(pastEnc.map((n) => [n, empty()]));
    const generated: number[] = [];
    let input = this.tokens.prompt;
    try {
      for (let step = 0; step < this.tokens.maxNewTokens; step++) {
        if (signal?.aborted) break;
        const feeds: Feeds = {
          [inputs.input_ids]: int64Tensor(this.ort, input, [1, input.length]),
          [inputs.encoder_hidden_states]: statesFeed,
          ...dec,
          ...enc,
        };
        if (inputs.use_cache_branch) feeds[inputs.use_cache_branch] = new this.ort.Tensor('bool', [step > 0], [1]);
        const res = await session.run(feeds);
        const all = await readFloat32(res[outputs.logits]);
        const V = all.length / input.length;
        const logits = applyWhisperRules(all.slice(all.length - V), generated, this.tokens);
        disposeAll(Object.values(dec));
        dec = Object.fromEntries(presDec.map((n, i) => [pastDec[i], res[n]]));
        if (step === 0) {
          disposeAll(Object.values(enc));
          enc = Object.fromEntries(presEnc.map((n, i) => [pastEnc[i], res[n]]));
        } else disposeAll(presEnc.map((n) => res[n]));
        disposeAll([res[outputs.logits]]);
        let id = 0;
        for (let i = 1; i < logits.length; i++) if (logits[i] > logits[id]) id = i;
        generated.push(id);
        if (id === this.tokens.eos) break;
        input = [id];
      }
    } finally {
      disposeAll(Object.values(dec));
      disposeAll(Object.values(enc));
      if (statesFeed !== states) statesFeed.dispose();
    }
    return generated;
  }
}
