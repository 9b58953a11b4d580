/**
 * Which audio channel feeds the model (PIPELINE §3). The checkpoint reads a 16 kHz file
 * with soundfile and keeps channel 0 of a multi-channel one (bytedance/video-SALMONN-2
 * llava/dataset/av_dataset.py:142-145: `if len(audio.shape) == 2: audio = audio[:, 0]`);
 * 'mix' is the downmix option (resample.ts downmixWeights: ffmpeg's normalised matrix).
 * Pure; the decoders (browser.ts, node.ts) apply it.
 */
import type { AudioChannel } from '../options';
import { downmix } from './resample';

export const DEFAULT_AUDIO_CHANNEL: AudioChannel = 0;

/** Mono samples from planar channels: channel 0 (a copy), or the downmix. */
export function selectChannel(planes: readonly Float32Array[], channel: AudioChannel = DEFAULT_AUDIO_CHANNEL): Float32Array {
  if (planes.length === 0) throw new RangeError('no audio channels');
  if (channel === 'mix') return downmix(planes);
  if (channel !== 0) throw new RangeError(`unknown audio channel ${String(channel)}`);
  return Float32Array.from(planes[0]);
}

/** Mono samples from interleaved frames of `channels` channels (channel 0, or the downmix). */
export function selectChannelInterleaved(samples: Float32Array, channels: number, channel: AudioChannel = DEFAULT_AUDIO_CHANNEL): Float32Array {
  if (!(channels >= 1) || !Number.isInteger(channels)) throw new RangeError(`channel count ${channels} is not a positive integer`);
  if (samples.length % channels !== 0) throw new RangeError(`${samples.length} samples do not split into ${channels} channels`);
  const n = samples.length / channels;
  const planes = Array.from({ length: channels }, (_, c) => {
    const p = new Float32Array(n);
    for (let i = 0; i < n; i++) p[i] = samples[i * channels + c];
    return p;
  });
  return selectChannel(planes, channel);
}

/**
 * ffmpeg audio-filter arguments that give 16 kHz mono float from any layout: channel 0 via
 * `pan=mono|c0=c0` (no mixing), or the normalised downmix (`-ac 1 -rematrix_maxval 1.0`).
 */
export function ffmpegChannelArgs(channel: AudioChannel = DEFAULT_AUDIO_CHANNEL): string[] {
  if (channel === 'mix') return ['-ac', '1', '-rematrix_maxval', '1.0'];
  if (channel !== 0) throw new RangeError(`unknown audio channel ${String(channel)}`);
  return ['-af', 'pan=mono|c0=c0'];
}
