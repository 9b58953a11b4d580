/**
 * Long captions (PIPELINE §10, after LongCaptioning): overlapping clips captioned in order,
 * each with the previous clip's caption as context (c_t = LMM(v_t, c_{t−1})), then an LLM
 * merge of the timestamped clip captions into one caption of a target length; when the
 * merge prompt would not fit the context, groups of captions are merged first and the
 * group summaries merged again (hierarchically). Model-neutral: the caller supplies how to
 * caption a clip and how to run a text-only prompt.
 */
import { repetitionRate, wordCount } from '../metrics/text';
import type { TimeRange } from './track';

export interface LongCaptionModel {
  /** A local caption of one clip with this prompt. */
  captionClip(clip: TimeRange, prompt: string): Promise<string>;
  /** A text-only request (the merge). */
  complete(prompt: string): Promise<string>;
  /** Prompt tokens of a text (the tokenizer's count; async where the tokenizer is in a worker). */
  countTokens(text: string): number | Promise<number>;
  /** Tokens a merge prompt may use (context minus the answer's budget). */
  contextTokens: number;
}

export interface LongCaptionOptions {
  /** Target length of the merged caption, in words. */
  targetWords: number;
  onClip?: (index: number, total: number, caption: string) => void;
  /** After each merge call: its level (0 = over the clip captions), index in the level, the level's size, and the result. */
  onMerge?: (level: number, index: number, total: number, merged: ClipCaption) => void;
  signal?: AbortSignal;
}

export interface ClipCaption extends TimeRange {
  caption: string;
}

export interface LongCaptionResult {
  clips: ClipCaption[];
  caption: string;
  words: number;
  /** LongWriter's S_l against the target (0–100). */
  lengthScore: number;
  /** The paper's phrase-based repetition rate of the merged caption (PIPELINE §7). */
  repetitionRate: number;
  /** Merge calls per level, from the clip captions up (e.g. [3, 1]: three group merges, then one). */
  mergeLevels: number[];
}

const mmss = (t: number) => `${Math.floor(t / 60)}:${String(Math.floor(t % 60)).padStart(2, '0')}`;

export function clipPrompt(previous: string | null): string {
  const base = 'Describe this clip of the video in detail: what is seen and what is heard.';
  return previous ? `${base} The previous clip was described as follows; continue from it without repeating it:\n${previous}` : base;
}

export function mergePrompt(parts: readonly ClipCaption[], targetWords: number): string {
  const lines = parts.map((p) => `[${mmss(p.start)}–${mmss(p.end)}] ${p.caption}`);
  return `Below are timestamped descriptions of consecutive parts of one video. Merge them into one coherent, detailed description of the whole video in about ${targetWords} words, in time order, without repeating yourself.\n\n${lines.join('\n')}`;
}

/** LongWriter's length score S_l of output length l′ against target l (PIPELINE §10). */
export function lengthScore(actual: number, target: number): number {
  if (actual <= 0 || target <= 0) return 0;
  if (actual > target) return 100 * Math.max(0, 1 - (actual / target - 1) / 3);
  return 100 * Math.max(0, 1 - (target / actual - 1) / 2);
}

function checkAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new DOMException('The long caption was cancelled.', 'AbortError');
}

export async function longCaption(clips: readonly TimeRange[], model: LongCaptionModel, options: LongCaptionOptions): Promise<LongCaptionResult> {
  const captions: ClipCaption[] = [];
  let previous: string | null = null;
  for (const [i, clip] of clips.entries()) {
    checkAborted(options.signal);
    const caption = await model.captionClip(clip, clipPrompt(previous));
    captions.push({ ...clip, caption });
    options.onClip?.(i, clips.length, caption);
    previous = caption;
  }
  const mergeLevels: number[] = [];
  let level: ClipCaption[] = captions;
  for (;;) {
    checkAborted(options.signal);
    if (level.length === 1 && mergeLevels.length > 0) break;
    const groups = await groupToFit(level, options.targetWords, model);
    if (groups.length === level.length && groups.length > 1) throw new RangeError('two captions do not fit the merge context together: use shorter clips or a larger context');
    const merged: ClipCaption[] = [];
    for (const [i, g] of groups.entries()) {
      merged.push({ start: g[0].start, end: g[g.length - 1].end, caption: await model.complete(mergePrompt(g, options.targetWords)) });
      options.onMerge?.(mergeLevels.length, i, groups.length, merged[i]);
    }
    mergeLevels.push(groups.length);
    level = merged;
  }
  const caption = level[0]?.caption ?? '';
  const words = wordCount(caption);
  return { clips: captions, caption, words, lengthScore: lengthScore(words, options.targetWords), repetitionRate: repetitionRate(caption).rate, mergeLevels };
}

/** Consecutive groups whose merge prompt fits the context (greedy, in time order). */
async function groupToFit(parts: readonly ClipCaption[], targetWords: number, model: LongCaptionModel): Promise<ClipCaption[][]> {
  const groups: ClipCaption[][] = [];
  let current: ClipCaption[] = [];
  for (const p of parts) {
    const next = [...current, p];
    if (current.length && (await model.countTokens(mergePrompt(next, targetWords))) > model.contextTokens) {
      groups.push(current);
      current = [p];
    } else current = next;
  }
  if (current.length) groups.push(current);
  return groups;
}
