/**
 * The media interface both sides implement: browser.ts (mediabunny over WebCodecs, in the
 * worker) and node.ts (Debian's ffmpeg / ffprobe, for the CLI and the tests).
 */
import type { AudioPlan, FramePlan, VideoTimeline } from './plan';
import type { RgbImage } from '../features/pixels';

export type Rotation = 0 | 90 | 180 | 270;

export interface VideoTrackInfo {
  /** Codec family ('avc', 'vp9', 'av1', 'hevc', …) and the full codec string when known. */
  codec: string;
  codecString: string | null;
  /** Display size: pixel aspect and rotation applied (what frames come out as). */
  width: number;
  height: number;
  codedWidth: number;
  codedHeight: number;
  rotation: Rotation;
  /** YUV matrix the file declares (WebCodecs names: 'bt709', 'smpte170m', …); null = untagged. */
  colorMatrix: string | null;
  /** Every frame's presentation timestamp (sorted) and the average rate. */
  timeline: VideoTimeline;
  /** End of the last frame (s). */
  duration: number;
  /** Whether this side can decode the track. */
  decodable: boolean;
}

export interface AudioTrackInfo {
  codec: string;
  codecString: string | null;
  sampleRate: number;
  channels: number;
  /** First sample time (s; AAC priming can make it negative) and end time (s). */
  firstTimestamp: number;
  duration: number;
  decodable: boolean;
}

export interface MediaInfo {
  name: string;
  bytes: number;
  /** Container name ('MP4', 'WebM', 'Matroska', 'QuickTime', …). */
  container: string;
  /** Largest end time over the tracks (s). */
  duration: number;
  video: VideoTrackInfo | null;
  audio: AudioTrackInfo | null;
}

/** A decoded frame at native display size, before the model's resize. */
export interface NativeFrame {
  /** Position in the plan (0 … F−1). */
  index: number;
  /** Frame index in presentation order (plan.indices[index]). */
  frameIndex: number;
  /** The plan's timestamp and the decoded frame's own timestamp (s). */
  timestamp: number;
  frameTimestamp: number;
  image: RgbImage;
}

/** One 30 s (or shorter, last) window of mono audio at the plan's rate. */
export interface AudioWindow {
  index: number;
  /** First sample of the window in the whole file, and its time (s). */
  start: number;
  startTime: number;
  /** Exactly plan.windows[index].length samples. */
  samples: Float32Array;
}

/**
 * Which audio the model hears (PIPELINE §3): channel 0 (the first channel, what the
 * released checkpoint's code takes) or 'mix' (every channel, ffmpeg's downmix matrix
 * normalised to sum 1: stereo (L + R) / 2).
 */
export type AudioChannel = 0 | 'mix';

export interface AudioWindowsOptions {
  /** Default 0 (the checkpoint's choice). */
  channel?: AudioChannel;
  /**
   * Windows the source may decode ahead of the consumer (browser side; default 4, ≈ 7.7 MB
   * at 16 kHz). Decoding starts when `audioWindows` is called, so a consumer can call it
   * before (or while) it works on the frames and find the first windows ready.
   */
  prefetch?: number;
}

export interface FramesOptions {
  /**
   * A hint that the plan is dense (scene detection: every few frames of the whole video):
   * a side that seeks per frame may decode in one pass instead (node.ts). Same frames.
   */
  sequential?: boolean;
}

export interface MediaSource {
  readonly info: MediaInfo;
  /** Decodes the planned frames in order (RGB, display orientation, native size). */
  frames(plan: FramePlan, options?: FramesOptions): AsyncGenerator<NativeFrame>;
  /**
   * Decodes the audio, takes channel 0 (or the mix) and resamples it, window by window
   * (bounded memory). May run at the same time as `frames` on the same source.
   */
  audioWindows(plan: AudioPlan, options?: AudioWindowsOptions): AsyncGenerator<AudioWindow>;
  close(): void;
}
