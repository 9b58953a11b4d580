/**
 * Glue shared by both media sides: plan from a probed file, assemble 30 s windows from a
 * stream of samples, and the user-facing codec errors (pixels: ../features/pixels.ts). Pure; no platform globals.
 */
import { CaptionError, isCaptionError } from '../errors';
import type { AudioConfig, SamplingConfig } from '../bundle/manifest';
import { planAudio, planFrames, type AudioPlan, type FrameRule, type FramePlan } from './plan';
import type { AudioWindow, MediaInfo } from './types';

export interface MediaPlan {
  frames: FramePlan | null;
  audio: AudioPlan | null;
}

/** Plans frames (if a video track) and audio (if an audio track) for a probed file. */
export function planMedia(
  info: MediaInfo,
  /** `maxTime`: audio-only input (no video track) is cut to it (PIPELINE §3). */
  sampling: SamplingConfig & { rule?: FrameRule; maxTime?: number },
  audio: Pick<AudioConfig, 'sampleRate' | 'windowSeconds'>,
): MediaPlan {
  if (!info.video && !info.audio) {
    throw new CaptionError('media/no-tracks', `“${info.name}” has neither a video nor an audio track.`, {
      name: info.name,
    });
  }
  const frames = info.video ? planFrames(info.video.timeline, sampling) : null;
  const audioPlan = info.audio
    ? planAudio({ audioDuration: Math.max(0, info.audio.duration), videoRealTime: frames?.realTime ?? null, maxTime: frames ? null : sampling.maxTime }, audio)
    : null;
  return { frames, audio: audioPlan };
}

/**
 * Collects consecutive samples (from sample 0 of the timeline) into the plan's windows:
 * zero-pads the tail, drops what lies past the plan's end. Holds one window at a time.
 */
export class WindowAssembler {
  private readonly plan: AudioPlan;
  private w = 0; // current window
  private buf: Float32Array | null = null;
  private filled = 0; // samples written into the current window
  private readonly ready: AudioWindow[] = [];

  constructor(plan: AudioPlan) {
    this.plan = plan;
  }

  /** True once every window has been produced. */
  get done(): boolean {
    return this.w >= this.plan.windows.length;
  }

  /** Appends the next samples of the timeline; returns the windows completed by them. */
  write(samples: Float32Array): AudioWindow[] {
    let off = 0;
    while (off < samples.length && !this.done) {
      const spec = this.plan.windows[this.w];
      this.buf ??= new Float32Array(spec.length);
      const n = Math.min(spec.length - this.filled, samples.length - off);
      this.buf.set(samples.subarray(off, off + n), this.filled);
      this.filled += n;
      off += n;
      if (this.filled === spec.length) this.emit();
    }
    return this.ready.splice(0);
  }

  /** Ends the stream: the rest of the plan is zeros (padding to ≥ 1 s, short tracks). */
  finish(): AudioWindow[] {
    while (!this.done) {
      const spec = this.plan.windows[this.w];
      this.buf ??= new Float32Array(spec.length);
      this.emit();
    }
    return this.ready.splice(0);
  }

  private emit(): void {
    const spec = this.plan.windows[this.w];
    this.ready.push({ index: spec.index, start: spec.start, startTime: spec.startTime, samples: this.buf! });
    this.buf = null;
    this.filled = 0;
    this.w++;
  }
}

/**
 * Places decoded chunks (timestamp in s, mono samples at `rate`) on a gap-free timeline
 * starting at t = 0: drops samples before 0 (AAC priming) and overlaps, fills gaps with
 * zeros. Small jitter (≤ `tolerance` samples) is ignored.
 */
export class TimelineAligner {
  private next = 0; // input sample index expected next (at `rate`)
  private started = false;
  constructor(
    private readonly rate: number,
    private readonly tolerance = 2,
  ) {}

  place(timestamp: number, samples: Float32Array): Float32Array {
    const { zeros, skip } = this.offsets(timestamp, samples.length);
    if (zeros > 0) {
      const out = new Float32Array(zeros + samples.length);
      out.set(samples, zeros);
      return out;
    }
    return skip > 0 ? samples.subarray(skip) : samples;
  }

  /** The same decision without copying: `zeros` to insert before the chunk, or its first `skip` samples to drop. */
  offsets(timestamp: number, length: number): { zeros: number; skip: number } {
    const at = Math.round(timestamp * this.rate);
    let diff = at - this.next;
    if (this.started && Math.abs(diff) <= this.tolerance) diff = 0;
    this.started = true;
    const zeros = Math.max(0, diff);
    const skip = diff < 0 ? Math.min(-diff, length) : 0;
    this.next += zeros + length - skip;
    return { zeros, skip };
  }
}

const CODEC_NAMES: Record<string, string> = {
  hevc: 'HEVC (H.265)',
  avc: 'H.264',
  vp8: 'VP8',
  vp9: 'VP9',
  av1: 'AV1',
  prores: 'Apple ProRes',
  mp4v: 'MPEG-4 Part 2 (mp4v)',
  mpeg2: 'MPEG-2 video',
  mjpeg: 'Motion JPEG',
  ac3: 'Dolby Digital (AC-3)',
  eac3: 'Dolby Digital Plus (E-AC-3)',
  dts: 'DTS',
};

/** The user-facing error for a track this browser cannot decode. */
export function unsupportedCodecError(
  kind: 'video' | 'audio',
  codec: string | null,
  codecString: string | null,
  fileName: string,
): CaptionError {
  const known = codec && codec !== 'unknown';
  const name = known ? (CODEC_NAMES[codec] ?? codec) : 'an unknown codec';
  const tag = codecString && !(known && name.includes(`(${codecString})`)) ? ` (${codecString})` : '';
  const stem = fileName.replace(/\.[^.]+$/, '') || 'out';
  const fix =
    kind === 'video'
      ? `Convert it to H.264 (e.g. ffmpeg -i "${fileName}" -c:v libx264 -c:a aac "${stem}-h264.mp4") and try again; the command-line captioner (npm run caption) reads it through ffmpeg as it is.`
      : `Convert the audio to AAC or Opus (e.g. ffmpeg -i "${fileName}" -c:v copy -c:a aac "${stem}-aac.mp4") and try again.`;
  return new CaptionError(
    'media/unsupported-codec',
    `The ${kind} of “${fileName}” is ${name}${tag}, which this browser cannot decode. ${fix}`,
    { track: kind, codec, codecString, name: fileName },
  );
}

/** Throws the precise unsupported-codec error if a track the run needs cannot be decoded. */
export function assertDecodable(info: MediaInfo, need: { video?: boolean; audio?: boolean } = { video: true, audio: true }): void {
  if (need.video !== false && info.video && !info.video.decodable) {
    throw unsupportedCodecError('video', info.video.codec, info.video.codecString, info.name);
  }
  if (need.audio !== false && info.audio && !info.audio.decodable) {
    throw unsupportedCodecError('audio', info.audio.codec, info.audio.codecString, info.name);
  }
}

/** Maps anything a decoder (or demuxer) throws to a CaptionError the user can act on (browser side). */
export function decodeError(e: unknown, name: string, stage: string): CaptionError {
  if (isCaptionError(e)) return e;
  const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return new CaptionError(
    'media/corrupt',
    `“${name}” could not be read while ${stage}: the file looks damaged or incomplete (${msg}). If it plays elsewhere, re-encode it (e.g. ffmpeg -i in.mp4 -c:v libx264 -c:a aac out.mp4) and try again.`,
    { name, stage, cause: msg },
  );
}
