/**
 * Local captions (PIPELINE §10): a time range of the file planned as if it were the whole
 * video — its own frame sampling (the 1 fps / linspace rule within the range), audio
 * windows from the range start — and a MediaSource view that decodes just that.
 */
import { CaptionError } from '../errors';
import type { AudioConfig, SamplingConfig } from '../bundle/manifest';
import { WindowAssembler } from './pipeline';
import { frameTimestamp, planAudio, planFrames, type AudioPlan, type FramePlan, type FrameRule, type VideoTimeline } from './plan';
import type { AudioWindow, AudioWindowsOptions, MediaInfo, MediaSource, NativeFrame } from './types';

export interface TimeRange {
  start: number;
  end: number;
}

/** Checks a range against the file: inside [0, duration], at least a frame's worth long. */
export function checkRange(range: TimeRange, duration: number): TimeRange {
  const end = Math.min(range.end, duration);
  if (!(range.start >= 0) || !(end > range.start)) {
    throw new CaptionError('media/bad-range', `The range ${range.start}–${range.end} s is empty or outside the file (0–${duration.toFixed(2)} s).`, { range, duration });
  }
  return { start: range.start, end };
}

/** The frames whose presentation time lies in [start, end), as a timeline of their own. */
export function rangeTimeline(tl: VideoTimeline, range: TimeRange): { timeline: VideoTimeline; firstIndex: number } {
  const EPS = 1e-9;
  let first = -1;
  let count = 0;
  for (let i = 0; i < tl.frameCount; i++) {
    const t = frameTimestamp(tl, i);
    if (t + EPS < range.start) continue;
    if (t >= range.end - EPS) break;
    if (first < 0) first = i;
    count++;
  }
  if (count === 0) throw new CaptionError('media/bad-range', `No frame of the video lies in ${range.start}–${range.end} s.`, { range });
  const timestamps = Array.from({ length: count }, (_, k) => frameTimestamp(tl, first + k));
  return { timeline: { frameCount: count, avgFps: tl.avgFps, firstTimestamp: timestamps[0], timestamps }, firstIndex: first };
}

export interface RangePlan {
  range: TimeRange;
  /** Indices and timestamps in the file's terms; realTime is the range's. */
  frames: FramePlan | null;
  /** Windows from the range start (sample 0 = range.start). */
  audio: AudioPlan | null;
  /** The range start in samples of the audio plan's rate. */
  audioStartSample: number;
}

export function planRange(info: MediaInfo, range: TimeRange, sampling: SamplingConfig & { rule?: FrameRule }, audio: Pick<AudioConfig, 'sampleRate' | 'windowSeconds'>): RangePlan {
  const r = checkRange(range, info.duration);
  let frames: FramePlan | null = null;
  if (info.video) {
    const { timeline, firstIndex } = rangeTimeline(info.video.timeline, r);
    const sub = planFrames(timeline, sampling);
    frames = { ...sub, frameCount: info.video.timeline.frameCount, indices: sub.indices.map((i) => i + firstIndex) };
  }
  const audioPlan = info.audio
    ? planAudio({ audioDuration: Math.max(0, Math.min(info.audio.duration, r.end) - r.start), videoRealTime: frames ? (frames.realTime ?? null) : r.end - r.start }, audio)
    : null;
  return { range: r, frames, audio: audioPlan, audioStartSample: Math.round(r.start * audio.sampleRate) };
}

/**
 * The range's audio windows from a source that decodes from the file's start: the samples
 * before the range are decoded and dropped (one window held at a time).
 */
export async function* rangeAudioWindows(media: MediaSource, plan: AudioPlan, startSample: number, options?: AudioWindowsOptions): AsyncGenerator<AudioWindow> {
  const total = startSample + plan.totalSamples;
  const windows = [];
  for (let start = 0, index = 0; start < total; start += plan.windowSamples, index++) {
    const length = Math.min(plan.windowSamples, total - start);
    windows.push({ index, start, length, startTime: start / plan.sampleRate, endTime: (start + length) / plan.sampleRate });
  }
  const from: AudioPlan = { ...plan, totalSamples: total, sourceSamples: total, windows };
  const out = new WindowAssembler(plan);
  let skip = startSample;
  for await (const w of media.audioWindows(from, options)) {
    const cut = Math.min(skip, w.samples.length);
    skip -= cut;
    yield* out.write(w.samples.subarray(cut));
    if (out.done) return;
  }
  yield* out.finish();
}

/** A view of `media` whose audio starts at the range (frames are addressed in the file's terms). */
export function rangeMedia(media: MediaSource, startSample: number): MediaSource {
  return {
    info: media.info,
    frames: (plan: FramePlan): AsyncGenerator<NativeFrame> => media.frames(plan),
    audioWindows: (plan: AudioPlan, options?: AudioWindowsOptions) => rangeAudioWindows(media, plan, startSample, options),
    close: () => media.close(),
  };
}
