/**
 * A MediaSource over frames and samples already in memory: the golden parity tests feed
 * the PyTorch reference's exact inputs through it (no decoder in the way), and callers
 * that hold raw frames/audio can caption them directly.
 */
import type { AudioPlan, FramePlan } from './plan';
import { WindowAssembler } from './pipeline';
import type { RgbImage } from '../features/pixels';
import type { AudioChannel, AudioWindow, MediaInfo, MediaSource, NativeFrame } from './types';

export interface MemoryMediaInput {
  name: string;
  /** Constant-rate frames; `frame(i)` gives source frame i (0 … frameCount−1). */
  video?: { width: number; height: number; fps: number; frameCount: number; frame: (index: number) => RgbImage };
  /** Mono samples already at the rate the plan asks for. */
  audio?: { sampleRate: number; samples: Float32Array };
}

export class MemoryMediaSource implements MediaSource {
  readonly info: MediaInfo;

  constructor(private readonly input: MemoryMediaInput) {
    const v = input.video;
    const a = input.audio;
    const videoDuration = v ? v.frameCount / v.fps : 0;
    const audioDuration = a ? a.samples.length / a.sampleRate : 0;
    this.info = {
      name: input.name,
      bytes: (v ? v.width * v.height * 3 * v.frameCount : 0) + (a ? a.samples.byteLength : 0),
      container: 'memory',
      duration: Math.max(videoDuration, audioDuration),
      video: v
        ? {
            codec: 'raw',
            codecString: null,
            width: v.width,
            height: v.height,
            codedWidth: v.width,
            codedHeight: v.height,
            rotation: 0,
            colorMatrix: null,
            timeline: { frameCount: v.frameCount, avgFps: v.fps, firstTimestamp: 0 },
            duration: videoDuration,
            decodable: true,
          }
        : null,
      audio: a
        ? { codec: 'pcm-f32', codecString: null, sampleRate: a.sampleRate, channels: 1, firstTimestamp: 0, duration: audioDuration, decodable: true }
        : null,
    };
  }

  async *frames(plan: FramePlan): AsyncGenerator<NativeFrame> {
    const v = this.input.video;
    if (!v) return;
    for (const [index, frameIndex] of plan.indices.entries()) {
      const timestamp = plan.timestamps[index];
      yield { index, frameIndex, timestamp, frameTimestamp: timestamp, image: v.frame(frameIndex) };
    }
  }

  async *audioWindows(plan: AudioPlan, _options?: { channel?: AudioChannel }): AsyncGenerator<AudioWindow> {
    const a = this.input.audio;
    if (!a) return;
    if (a.sampleRate !== plan.sampleRate) throw new RangeError(`memory audio is at ${a.sampleRate} Hz, the plan wants ${plan.sampleRate} Hz`);
    const assembler = new WindowAssembler(plan);
    yield* assembler.write(a.samples.subarray(0, plan.totalSamples));
    yield* assembler.finish();
  }

  close(): void {}
}
