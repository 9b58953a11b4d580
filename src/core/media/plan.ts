/**
 * Planning the media work from a duration and frame rate (PIPELINE §1 frames, §3 audio).
 * Pure functions: no I/O, no platform globals. Every number of the pipeline comes in
 * through `SamplingConfig` / `AudioConfig` (bundle manifest) or the user's settings.
 *
 * Frame sampling follows the released checkpoint's code (bytedance/video-SALMONN-2,
 * llava/dataset/av_dataset.py, decord semantics): frame i is the i-th frame in
 * presentation order, r = max(round(avg_fps / φ), 1), indices 0, r, 2r, … < N; if more
 * than m of them, floor(linspace(0, N − 1, m)) with numpy's float arithmetic. The
 * checkpoint asserted ≥ 2 frames; we take floor(linspace(0, N − 1, minFrames)) instead,
 * which repeats the only frame of a 1-frame clip.
 */
import { CaptionError } from '../errors';
import type { AudioConfig, SamplingConfig } from '../bundle/manifest';
import { pythonRound } from '../pyround';

/**
 * How frame indices are chosen: 'checkpoint' (step r, then linspace over m) or 'paper'
 * (⌊T·φ⌋ frames up to m, spread uniformly). Independent of the sampling preset below,
 * which only sets φ and the cap.
 */
export type FrameRule = 'checkpoint' | 'paper';

// ---------------------------------------------------------------------------------------
// Sampling presets (PIPELINE §1): the one place their numbers live.

export type SamplingPresetName = 'paper' | 'checkpoint';

export interface SamplingPreset {
  name: SamplingPresetName;
  /** φ, frames per second. */
  fps: number;
  /** max_time (s): audio-only input is cut to it; the checkpoint's cap is round(max_time·φ). */
  maxTime: number;
  /** m, the frame cap at this preset's φ. */
  maxFrames: number;
  /** Where the numbers come from. */
  source: string;
}

/**
 * "paper": ≤ 30 frames at 1 frame/s (the paper, the design card; the app's default).
 * "checkpoint": max_time 110 s at 1 frame/s → m = round(110·1) = 110 frames: every released
 * script passes --max_time 110 --fps 1 (bytedance/video-SALMONN-2 scripts/demo.sh:25-26,
 * eval.sh:31-32, train_sft.sh:26, train_dpo.sh:21; av_dataset.py:52 max_frame_num =
 * round(max_time · video_fps)).
 */
export const SAMPLING_PRESETS: Readonly<Record<SamplingPresetName, Readonly<SamplingPreset>>> = Object.freeze({
  paper: Object.freeze({ name: 'paper', fps: 1, maxTime: 30, maxFrames: 30, source: 'paper (arXiv 2506.15220): at most 30 frames at 1 frame/s' }),
  checkpoint: Object.freeze({
    name: 'checkpoint',
    fps: 1,
    maxTime: 110,
    maxFrames: 110,
    source: 'released scripts: --max_time 110 --fps 1, max_frame_num = round(max_time · fps)',
  }),
});

export const DEFAULT_SAMPLING_PRESET: SamplingPresetName = 'paper';

export interface ResolvedSampling {
  preset: SamplingPresetName;
  fps: number;
  maxFrames: number;
  /** Audio-only input is truncated to this many seconds. */
  maxTime: number;
}

/**
 * A preset with the user's edits (φ and the cap stay editable). The checkpoint preset keeps
 * max_time = 110 s and derives m = round(max_time · φ) as its code does; the paper preset
 * keeps m = 30. An edited cap wins; max_time is then m / φ.
 */
export function resolveSampling(preset: SamplingPresetName, edits: { fps?: number; maxFrames?: number } = {}): ResolvedSampling {
  const p = SAMPLING_PRESETS[preset];
  if (!p) throw new RangeError(`unknown sampling preset "${String(preset)}"`);
  const fps = edits.fps ?? p.fps;
  if (!(fps > 0)) throw new RangeError(`frame rate ${fps} is not positive`);
  if (edits.maxFrames !== undefined) {
    if (!(edits.maxFrames >= 1) || !Number.isInteger(edits.maxFrames)) throw new RangeError(`frame cap ${edits.maxFrames} is not a positive integer`);
    return { preset, fps, maxFrames: edits.maxFrames, maxTime: edits.maxFrames / fps };
  }
  if (preset === 'checkpoint') return { preset, fps, maxFrames: Math.max(1, pythonRound(p.maxTime * fps)), maxTime: p.maxTime };
  return { preset, fps, maxFrames: p.maxFrames, maxTime: p.maxFrames / fps };
}

/** What the planner needs to know about the video stream. */
export interface VideoTimeline {
  /** N: number of frames (decord's len(vr)). */
  frameCount: number;
  /** Average frame rate (decord's get_avg_fps()): nominal rate for CFR, N / span for VFR. */
  avgFps: number;
  /** Presentation timestamp (s) of the first frame (0 for most files, 0.007 s in some WebM). */
  firstTimestamp: number;
  /**
   * The real presentation timestamps (s), sorted, one per frame; given for VFR (and by the
   * decoders, which list every packet). Absent: frame i is at firstTimestamp + i / avgFps.
   */
  timestamps?: readonly number[];
}

export interface FramePlanOptions extends SamplingConfig {
  rule?: FrameRule;
}

export interface FramePlan {
  rule: FrameRule;
  /** N. */
  frameCount: number;
  avgFps: number;
  /** r (checkpoint rule, before the m cap); null for the paper rule. */
  step: number | null;
  /** Frame indices in presentation order (may repeat for 1-frame clips). */
  indices: number[];
  /** Presentation timestamp (s) of each planned frame. */
  timestamps: number[];
  /** The checkpoint's `real_time`: N / avg_fps seconds (audio is truncated to it). */
  realTime: number;
}

/**
 * numpy.linspace(start, stop, num, dtype=int): float64 `i * step + start`, last = stop,
 * then truncation toward zero (floor for the non-negative values used here).
 */
export function linspaceFloor(start: number, stop: number, num: number): number[] {
  if (num <= 0) return [];
  if (num === 1) return [Math.trunc(start)];
  const div = num - 1;
  const delta = stop - start;
  const step = delta / div;
  const out: number[] = new Array(num);
  for (let i = 0; i < num; i++) {
    const y = step === 0 ? (i / div) * delta + start : i * step + start;
    out[i] = Math.trunc(y);
  }
  out[num - 1] = Math.trunc(stop);
  return out;
}

/**
 * Frames of a constant-rate stream of `duration` s: those starting before the end,
 * ceil(duration · fps) (with 1e-6 slack for float noise), at least 1.
 */
export function frameCountFor(duration: number, fps: number): number {
  if (!(duration > 0) || !(fps > 0)) {
    throw new CaptionError('media/too-short', `This video has no frames (duration ${duration} s at ${fps} fps).`, {
      duration,
      fps,
    });
  }
  return Math.max(1, Math.ceil(duration * fps - 1e-6));
}

/** Timeline of a constant-frame-rate stream. */
export function cfrTimeline(duration: number, fps: number, firstTimestamp = 0): VideoTimeline {
  return { frameCount: frameCountFor(duration, fps), avgFps: fps, firstTimestamp };
}

/**
 * Timeline from the real frame timestamps (any order; VFR or CFR). avg fps = N / span,
 * where span = last − first + the last frame's duration (`lastFrameDuration`, default the
 * median frame interval) — for a CFR list this is exactly the nominal rate.
 */
export function timelineFromTimestamps(timestamps: readonly number[], lastFrameDuration?: number): VideoTimeline {
  if (timestamps.length === 0) {
    throw new CaptionError('media/no-video-track', 'The video track of this file has no frames.', {});
  }
  const ts = [...timestamps].sort((a, b) => a - b);
  const n = ts.length;
  let last = lastFrameDuration;
  if (last === undefined || !(last > 0)) {
    if (n > 1) {
      const d = ts.slice(1).map((t, i) => t - ts[i]).sort((a, b) => a - b);
      last = d[Math.floor(d.length / 2)];
    } else {
      last = 1;
    }
  }
  const span = ts[n - 1] - ts[0] + last;
  return { frameCount: n, avgFps: n / span, firstTimestamp: ts[0], timestamps: ts };
}

/** Plans which frames feed the vision branch and when they are (PIPELINE §1). */
export function planFrames(timeline: VideoTimeline, options: FramePlanOptions): FramePlan {
  const { fps: phi, maxFrames, minFrames } = options;
  const rule: FrameRule = options.rule ?? 'checkpoint';
  const n = timeline.frameCount;
  if (!(n >= 1) || !Number.isInteger(n)) {
    throw new CaptionError('media/too-short', 'This video has no decodable frames.', { frameCount: n });
  }
  if (!(phi > 0) || !(maxFrames >= 1) || !(timeline.avgFps > 0)) {
    throw new CaptionError(
      'media/decode-failed',
      `Invalid sampling settings (frame rate ${phi}/s, at most ${maxFrames} frames, source ${timeline.avgFps} fps).`,
      { phi, maxFrames, avgFps: timeline.avgFps },
    );
  }
  const realTime = n / timeline.avgFps;
  let step: number | null = null;
  let indices: number[];
  if (rule === 'checkpoint') {
    step = Math.max(pythonRound(timeline.avgFps / phi), 1); // av_dataset.py:101
    indices = [];
    for (let k = 0; k < n; k += step) indices.push(k);
    if (indices.length > maxFrames) indices = linspaceFloor(0, n - 1, maxFrames);
  } else {
    // Paper: about φ frames per second of video, capped at m, spread uniformly over the clip.
    const want = Math.min(Math.max(Math.floor(realTime * phi), 1), maxFrames);
    indices = linspaceFloor(0, n - 1, want);
  }
  if (indices.length < minFrames) indices = linspaceFloor(0, n - 1, minFrames);
  const timestamps = indices.map((i) => frameTimestamp(timeline, i));
  return { rule, frameCount: n, avgFps: timeline.avgFps, step, indices, timestamps, realTime };
}

export function frameTimestamp(timeline: VideoTimeline, index: number): number {
  if (timeline.timestamps) return timeline.timestamps[index];
  return timeline.firstTimestamp + index / timeline.avgFps;
}

// ---------------------------------------------------------------------------------------
// Audio (PIPELINE §3)

export interface AudioWindowSpec {
  index: number;
  /** First sample (at the plan's sample rate) and number of samples of this window. */
  start: number;
  length: number;
  startTime: number;
  endTime: number;
}

export interface AudioPlan {
  sampleRate: number;
  /** 30 s × sample rate. */
  windowSamples: number;
  /** Samples after padding to ≥ minSeconds and truncating (video: its real time; audio only: max_time). */
  totalSamples: number;
  /** Samples of the source (before padding / truncation). */
  sourceSamples: number;
  /** S = ceil(totalSamples / windowSamples). */
  windows: AudioWindowSpec[];
}

export interface AudioPlanInput {
  /** Audio length at `config.sampleRate`, or the audio's end time (s) to derive it. */
  audioSamples?: number;
  audioDuration?: number;
  /** The video's real time (FramePlan.realTime); null / absent for audio-only input. */
  videoRealTime?: number | null;
  /** Pad with zeros to at least this long (PIPELINE §3: 1 s). */
  minSeconds?: number;
  /**
   * Audio-only input (no videoRealTime) is cut to round(rate · maxTime) samples: max_time
   * of the sampling preset, m / φ (ResolvedSampling.maxTime). Absent/null: not cut.
   */
  maxTime?: number | null;
}

/**
 * Plans the 16 kHz mono audio and its 30 s windows. Order as in the checkpoint code
 * (av_dataset.py:150-157): pad to ≥ 1 s, then truncate — to round(rate · real_time) when
 * there is a video (so a 0.4 s clip keeps 0.4 s: the feature extractor zero-pads to 30 s
 * either way), to round(rate · max_time) for audio-only input.
 */
export function planAudio(input: AudioPlanInput, config: Pick<AudioConfig, 'sampleRate' | 'windowSeconds'>): AudioPlan {
  const sr = config.sampleRate;
  const windowSamples = Math.round(config.windowSeconds * sr);
  const sourceSamples =
    input.audioSamples ?? (input.audioDuration !== undefined ? Math.round(input.audioDuration * sr) : NaN);
  if (!(sourceSamples >= 0)) {
    throw new CaptionError('media/no-audio-track', 'This file has no audio to plan.', {});
  }
  let total = Math.max(sourceSamples, Math.round((input.minSeconds ?? 1) * sr));
  if (input.videoRealTime != null) total = Math.min(total, pythonRound(sr * input.videoRealTime));
  else if (input.maxTime != null) {
    if (!(input.maxTime > 0)) throw new RangeError(`max_time ${input.maxTime} is not positive`);
    total = Math.min(total, pythonRound(sr * input.maxTime));
  }
  const windows: AudioWindowSpec[] = [];
  for (let start = 0, index = 0; start < total; start += windowSamples, index++) {
    const length = Math.min(windowSamples, total - start);
    windows.push({ index, start, length, startTime: start / sr, endTime: (start + length) / sr });
  }
  return { sampleRate: sr, windowSamples, totalSamples: total, sourceSamples, windows };
}
