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

export type SamplingRule = 'checkpoint' | 'paper';

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
  rule?: SamplingRule;
}

export interface FramePlan {
  rule: SamplingRule;
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

/** Python's round(): half to even (round(2.5) = 2), as the checkpoint's round(fps / φ). */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
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
  const rule: SamplingRule = options.rule ?? 'checkpoint';
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
    step = Math.max(roundHalfEven(timeline.avgFps / phi), 1);
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
  /** Samples after padding to ≥ minSeconds and truncating to the video's real time. */
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
}

/**
 * Plans the 16 kHz mono audio and its 30 s windows. Order as in the checkpoint code:
 * pad to ≥ 1 s, then truncate to round(rate · real_time) when there is a video (so a
 * 0.4 s clip keeps 0.4 s: the feature extractor zero-pads to 30 s either way).
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
  if (input.videoRealTime != null) total = Math.min(total, Math.round(sr * input.videoRealTime));
  const windows: AudioWindowSpec[] = [];
  for (let start = 0, index = 0; start < total; start += windowSamples, index++) {
    const length = Math.min(windowSamples, total - start);
    windows.push({ index, start, length, startTime: start / sr, endTime: (start + length) / sr });
  }
  return { sampleRate: sr, windowSamples, totalSamples: total, sourceSamples, windows };
}
