/**
 * Scene-change segments for caption tracks. Frames are sampled at a fixed rate (2 fps by
 * default) through the same media interface the captions decode with (ffmpeg on Node,
 * mediabunny in the browser), each reduced to a luma grid, and consecutive samples
 * compared with ffmpeg's scene score (libavfilter/vf_select.c, get_scene_score):
 *
 *   mafd_i  = mean |Y_i − Y_{i−1}| over the grid (8-bit luma)
 *   score_i = clip(min(mafd_i, |mafd_i − mafd_{i−1}|) / 100, 0, 1)   (mafd_0 = 0)
 *
 * A cut is declared at sample i's time when score_i > threshold (0.3 by default; ffmpeg's
 * documentation suggests 0.3–0.5 for `select='gt(scene,…)'`). The min(…) term keeps steady
 * motion (large mafd, but the same from sample to sample) from counting as cuts. Cuts
 * closer than `minSeconds` to the previous boundary (or to the end) are dropped; scenes
 * longer than `maxSeconds` are split into equal parts. The segments cover [0, duration]
 * in order without overlaps, as segmentsOf's do.
 */
import { CaptionError, checkAborted } from '../errors';
import type { RgbImage } from '../features/pixels';
import { assertDecodable } from '../media/pipeline';
import { planFrames, type FramePlan } from '../media/plan';
import type { MediaSource } from '../media/types';
import type { TimeRange } from './track';

export interface SceneOptions {
  /** Samples per second compared (the checkpoint rule's step round(avgFps / fps) picks them). */
  fps: number;
  /** Scene score (0–1) above which a cut is declared. */
  threshold: number;
  /** Shortest segment (s). */
  minSeconds: number;
  /** Longest segment (s): a longer scene is split evenly. */
  maxSeconds: number;
}

export const DEFAULT_SCENE_OPTIONS: Readonly<SceneOptions> = Object.freeze({ fps: 2, threshold: 0.3, minSeconds: 2, maxSeconds: 30 });

export interface SceneCut {
  /** Time of the first sample of the new scene (s): the cut lies within one sampling step before it. */
  time: number;
  score: number;
}

export interface SceneReport {
  options: SceneOptions;
  duration: number;
  /** Timestamps of the compared samples. */
  samples: number[];
  /** Every sample's score (0 for the first). */
  scores: number[];
  /** Cuts above the threshold, before the min/max segment rules. */
  cuts: SceneCut[];
  segments: TimeRange[];
}

/** Grid cells per side at most: small enough to ignore noise and compression, large enough for a cut. */
const GRID = 64;

/** BT.601 luma (0–255) averaged over a grid of at most GRID × GRID cells. */
export function lumaGrid(img: RgbImage): Float32Array {
  const gw = Math.min(GRID, img.width);
  const gh = Math.min(GRID, img.height);
  const sum = new Float64Array(gw * gh);
  const count = new Uint32Array(gw * gh);
  for (let y = 0; y < img.height; y++) {
    const row = Math.floor((y * gh) / img.height) * gw;
    for (let x = 0; x < img.width; x++) {
      const p = (y * img.width + x) * 3;
      const cell = row + Math.floor((x * gw) / img.width);
      sum[cell] += 0.299 * img.data[p] + 0.587 * img.data[p + 1] + 0.114 * img.data[p + 2];
      count[cell]++;
    }
  }
  const out = new Float32Array(gw * gh);
  for (let i = 0; i < out.length; i++) out[i] = sum[i] / count[i];
  return out;
}

/** Mean absolute difference of two luma grids of one size. */
export function meanAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new RangeError(`luma grids differ in size (${a.length} vs ${b.length})`);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
}

/** Scores of consecutive samples by ffmpeg's rule (see the header); the first sample scores 0. */
export class SceneScorer {
  private prev: Float32Array | null = null;
  private prevMafd = 0;

  push(luma: Float32Array): number {
    const prev = this.prev;
    this.prev = luma;
    if (!prev) return 0;
    const mafd = meanAbsDiff(luma, prev);
    const diff = Math.abs(mafd - this.prevMafd);
    this.prevMafd = mafd;
    return Math.min(1, Math.max(0, Math.min(mafd, diff) / 100));
  }
}

/** Segments from cut times: boundaries at the kept cuts, min and max lengths applied; covers [0, duration]. */
export function sceneSegments(cuts: readonly number[], duration: number, options: Pick<SceneOptions, 'minSeconds' | 'maxSeconds'>): TimeRange[] {
  if (!(duration > 0)) return [];
  const { minSeconds, maxSeconds } = options;
  if (!(minSeconds >= 0) || !(maxSeconds > 0) || maxSeconds < minSeconds) throw new RangeError(`scene segments need 0 ≤ minSeconds ≤ maxSeconds, 0 < maxSeconds (got ${minSeconds}, ${maxSeconds})`);
  const bounds = [0];
  for (const c of [...cuts].sort((a, b) => a - b)) {
    if (c - bounds[bounds.length - 1] >= minSeconds && duration - c >= minSeconds) bounds.push(c);
  }
  bounds.push(duration);
  const out: TimeRange[] = [];
  for (let i = 1; i < bounds.length; i++) {
    const [start, end] = [bounds[i - 1], bounds[i]];
    const parts = Math.ceil((end - start) / maxSeconds - 1e-9);
    for (let k = 0; k < parts; k++) out.push({ start: start + ((end - start) * k) / parts, end: k === parts - 1 ? end : start + ((end - start) * (k + 1)) / parts });
  }
  return out;
}

/** Which frames the detector compares: about `fps` per second over the whole video. */
export function scenePlan(media: MediaSource, fps: number): FramePlan {
  const v = media.info.video!;
  return planFrames(v.timeline, { fps, maxFrames: Number.MAX_SAFE_INTEGER, minFrames: 1, rule: 'checkpoint' });
}

function checkOptions(o: SceneOptions): void {
  if (!(o.fps > 0)) throw new RangeError(`scene detection needs a positive sampling rate, got ${o.fps}`);
  if (!(o.threshold > 0 && o.threshold < 1)) throw new RangeError(`the scene threshold is a score between 0 and 1, got ${o.threshold}`);
}

/** Finds the scene cuts of a video and the segments they make (decode stage; interruptible). */
export async function detectScenes(media: MediaSource, options: Partial<SceneOptions> = {}, progress?: (fraction: number) => void, signal?: AbortSignal): Promise<SceneReport> {
  const o: SceneOptions = { ...DEFAULT_SCENE_OPTIONS, ...options };
  checkOptions(o);
  if (!media.info.video) throw new CaptionError('media/no-video-track', `Scene cuts need frames: “${media.info.name}” has no video track. Use fixed-length segments instead.`);
  assertDecodable(media.info, { video: true, audio: false });
  const plan = scenePlan(media, o.fps);
  const scorer = new SceneScorer();
  const samples: number[] = [];
  const scores: number[] = [];
  const cuts: SceneCut[] = [];
  for await (const f of media.frames(plan, { sequential: true })) {
    checkAborted(signal, 'decode');
    const score = scorer.push(lumaGrid(f.image));
    samples.push(f.timestamp);
    scores.push(score);
    if (score > o.threshold) cuts.push({ time: f.timestamp, score });
    progress?.(samples.length / plan.indices.length);
  }
  checkAborted(signal, 'decode');
  const duration = media.info.duration; // the whole file, as fixed segments cover it
  return { options: o, duration, samples, scores, cuts, segments: sceneSegments(cuts.map((c) => c.time), duration, o) };
}
