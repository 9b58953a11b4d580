/**
 * Time tokens of visual-only input (PIPELINE §1, the checkpoint's `--add_time_token`, on in
 * every released script). bytedance/video-SALMONN-2@61faec0,
 * llava/model/language_model/video_salmonn_2.py lines 346–354:
 *
 *   frame_per_time = real_time / num_frames
 *   time_idx = [str(round(frame_per_time * f, 1)) for f in 1..F]
 *   time_embeds = [embed_tokens(tokenizer(t).input_ids) for t in time_idx]
 *   padded = pad_sequence(time_embeds, batch_first=True)        # zeros AFTER each row's text
 *   image_feature = cat((image_feature.view(F, -1, H), padded), dim=1).view(-1, H)
 *
 * So frame f's block is [its visual tokens][its time text tokens][zero vectors up to the
 * longest time text], frame after frame. Only when the input has no audio: for audio-visual
 * input the checkpoint computes them and uses the block without them (lines 356–379).
 */
import { pythonFloatStr, pythonRoundTo } from '../pyround';

/**
 * The time texts str(round(T/F · f, 1)) for f = 1…F, exactly as Python prints them. T is
 * the checkpoint's real_time (N / source fps, FramePlan.realTime), F the number of frames.
 * Note the order of operations: (T / F) first, then · f, in float64 (as the checkpoint).
 */
export function timeTokenTexts(realTime: number, frameCount: number): string[] {
  if (!(frameCount >= 1) || !Number.isInteger(frameCount)) throw new RangeError(`frame count ${frameCount} is not a positive integer`);
  if (!(realTime >= 0) || !Number.isFinite(realTime)) throw new RangeError(`real time ${realTime} is not a finite non-negative number`);
  const perFrame = realTime / frameCount;
  return Array.from({ length: frameCount }, (_, i) => pythonFloatStr(pythonRoundTo(perFrame * (i + 1), 1)));
}

/** One frame's time row: the text's token ids, then `zeroRows` zero embedding vectors. */
export interface TimeTokenRow {
  text: string;
  ids: number[];
  /** Zero vectors after the ids, so every row is `width` long. */
  zeroRows: number;
}

export interface TimeTokenRows {
  /** The longest text's token count: every frame gets this many rows after its visual tokens. */
  width: number;
  rows: TimeTokenRow[];
}

/**
 * Pads the per-frame token ids to the longest (torch pad_sequence, batch_first, value 0:
 * the zeros go after each row's ids). Frame f's block is then
 * [visual tokens of f][rows[f].ids embedded][rows[f].zeroRows zero vectors].
 */
export function padTimeTokenRows(texts: readonly string[], idsPerFrame: readonly (readonly number[])[]): TimeTokenRows {
  if (texts.length !== idsPerFrame.length) throw new RangeError(`${texts.length} texts but ${idsPerFrame.length} id rows`);
  const width = idsPerFrame.reduce((w, ids) => Math.max(w, ids.length), 0);
  return { width, rows: idsPerFrame.map((ids, f) => ({ text: texts[f], ids: [...ids], zeroRows: width - ids.length })) };
}

/** The tokenizer surface needed here (a `TextTokenizer` fits). */
export interface IdEncoder {
  encode(text: string, options?: { add_special_tokens?: boolean }): { ids: number[] };
}

/**
 * Texts → ids → padded rows. The checkpoint calls tokenizer(text) with the default special
 * tokens, which for Qwen2 adds none (no BOS), so add_special_tokens: false is the same.
 */
export function timeTokenRows(tokenizer: IdEncoder, realTime: number, frameCount: number): TimeTokenRows {
  const texts = timeTokenTexts(realTime, frameCount);
  return padTimeTokenRows(texts, texts.map((t) => tokenizer.encode(t, { add_special_tokens: false }).ids));
}

/** Rows added to the audio-visual block by the time tokens: F · width. */
export function timeTokenCount(rows: TimeTokenRows): number {
  return rows.rows.length * rows.width;
}

/**
 * The visual-only block with time tokens, as the checkpoint concatenates it: frame after
 * frame, [tokensPerFrame visual rows][the frame's time-token embeddings][zeroRows zero
 * rows]. `visual` is image_features [F, tokensPerFrame, H] flat; `timeEmbeds[f]` is the
 * embed_tokens output of rows.rows[f].ids ([ids.length, H] flat). Returns [F·(tokensPerFrame
 * + width), H] flat.
 */
export function assembleTimeTokenBlock(
  visual: Float32Array,
  tokensPerFrame: number,
  hidden: number,
  rows: TimeTokenRows,
  timeEmbeds: readonly Float32Array[],
): Float32Array {
  const frames = rows.rows.length;
  if (visual.length !== frames * tokensPerFrame * hidden) throw new RangeError(`visual features have ${visual.length} values, expected ${frames}·${tokensPerFrame}·${hidden}`);
  if (timeEmbeds.length !== frames) throw new RangeError(`${timeEmbeds.length} time embeddings for ${frames} frames`);
  const perFrame = (tokensPerFrame + rows.width) * hidden;
  const out = new Float32Array(frames * perFrame); // zero rows stay 0
  for (let f = 0; f < frames; f++) {
    const e = timeEmbeds[f];
    if (e.length !== rows.rows[f].ids.length * hidden) throw new RangeError(`frame ${f}: ${e.length} time values, expected ${rows.rows[f].ids.length}·${hidden}`);
    out.set(visual.subarray(f * tokensPerFrame * hidden, (f + 1) * tokensPerFrame * hidden), f * perFrame);
    out.set(e, f * perFrame + tokensPerFrame * hidden);
  }
  return out;
}
