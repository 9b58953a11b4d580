/**
 * Decoded audio chunks → the plan's 16 kHz windows (PIPELINE §3), pure: place each chunk
 * on the t = 0 timeline (AAC priming dropped, gaps zero-filled), take channel 0 or the
 * downmix, resample, cut into windows. Chunks are anything with WebCodecs' AudioData
 * `copyTo` (AudioData itself, mediabunny's AudioSample, a test double): channel 0 is
 * copied straight into the resampler's input, no intermediate planes.
 */
import { WindowAssembler, TimelineAligner } from './pipeline';
import type { AudioPlan } from './plan';
import { StreamingResampler, downmixWeights } from './resample';
import type { AudioChannel, AudioWindow } from './types';

export interface PcmChunk {
  readonly sampleRate: number;
  readonly numberOfFrames: number;
  readonly numberOfChannels: number;
  copyTo(destination: Float32Array, options: { planeIndex: number; frameOffset?: number; frameCount?: number; format: 'f32-planar' }): void;
}

export class AudioStreamAssembler {
  private readonly asm: WindowAssembler;
  private readonly channel: AudioChannel;
  private resampler: StreamingResampler | null = null;
  private aligner: TimelineAligner | null = null;
  private scratch = new Float32Array(0);
  private readonly rate: number;

  constructor(plan: AudioPlan, channel: AudioChannel = 0) {
    this.asm = new WindowAssembler(plan);
    this.channel = channel;
    this.rate = plan.sampleRate;
  }

  /** True once every window of the plan has been produced. */
  get done(): boolean {
    return this.asm.done;
  }

  /** Adds one decoded chunk that starts at `timestamp` (s); returns the windows it completes. */
  write(timestamp: number, chunk: PcmChunk): AudioWindow[] {
    const rate = chunk.sampleRate;
    if (!this.resampler || this.resampler.inRate !== rate) {
      // (a mid-stream rate change restarts the filter: rare, and only blurs one block)
      this.resampler = new StreamingResampler(rate, this.rate);
      this.aligner = new TimelineAligner(rate);
    }
    const frames = chunk.numberOfFrames;
    const { zeros, skip } = this.aligner!.offsets(timestamp, frames);
    const n = frames - skip;
    const rs = this.resampler;
    const out: AudioWindow[] = [];
    if (zeros > 0) {
      rs.input(zeros).fill(0);
      out.push(...this.asm.write(rs.commit(zeros)));
    }
    if (n > 0) {
      const dst = rs.input(n);
      const channels = chunk.numberOfChannels;
      if (this.channel === 0 || channels === 1) {
        chunk.copyTo(dst, { planeIndex: 0, frameOffset: skip, frameCount: n, format: 'f32-planar' });
      } else {
        // ffmpeg's matrix normalised to 1 (resample.ts `downmix`, same order of operations)
        const weights = downmixWeights(channels);
        if (this.scratch.length < n) this.scratch = new Float32Array(n);
        const p = this.scratch.subarray(0, n);
        dst.fill(0);
        for (let c = 0; c < channels; c++) {
          const w = weights[c];
          if (w === 0) continue;
          chunk.copyTo(p, { planeIndex: c, frameOffset: skip, frameCount: n, format: 'f32-planar' });
          for (let i = 0; i < n; i++) dst[i] += w * p[i];
        }
      }
      out.push(...this.asm.write(rs.commit(n)));
    }
    return out;
  }

  /** End of the stream: the resampler's tail, then zeros up to the plan's end. */
  finish(): AudioWindow[] {
    const out: AudioWindow[] = [];
    if (this.resampler && !this.asm.done) out.push(...this.asm.write(this.resampler.flush()));
    out.push(...this.asm.finish());
    return out;
  }
}

/**
 * Timestamps of a WebCodecs AudioDecoder's outputs, as mediabunny's AudioSampleSink makes
 * them: Chromium does not keep negative packet timestamps (AAC priming at −0.021 s comes
 * out at 0), so the first output is shifted to the first packet's timestamp; after that
 * the time runs on by each chunk's length, re-synced when a timestamp is a whole chunk
 * off (a gap), and is rounded to the sample rate.
 */
export class DecoderClock {
  private offset: number | null = null;
  private current: number | null = null;
  constructor(private readonly firstPacketTimestamp: number) {}

  /** Decoder timestamp (s) of a chunk of `frames` samples at `rate` → its place in the file (s). */
  next(timestamp: number, frames: number, rate: number): number {
    if (this.offset === null) this.offset = this.firstPacketTimestamp - timestamp;
    const t = timestamp + this.offset;
    const duration = frames / rate;
    if (this.current === null || Math.abs(t - this.current) >= duration) this.current = t;
    const precise = this.current;
    this.current += duration;
    return Math.round(precise * rate) / rate;
  }
}
