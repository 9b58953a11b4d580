/**
 * A coarse waveform for the timeline, decoded on the main thread with
 * AudioContext.decodeAudioData (the model's audio is decoded in the worker; this is only
 * a picture). Skipped, returning null, when the browser cannot decode the file.
 */

export interface Waveform {
  /** min/max pairs per bucket, in −1…1: [min0, max0, min1, max1, …]. */
  peaks: Float32Array;
  duration: number;
}

/** Files larger than this are not decoded for the picture (decodeAudioData holds all of it in memory). */
export const WAVEFORM_MAX_BYTES = 256 * 1024 * 1024;

/** min/max of each of `buckets` equal slices of the samples. */
export function computePeaks(samples: Float32Array, buckets: number): Float32Array {
  const out = new Float32Array(buckets * 2);
  if (samples.length === 0) return out;
  const per = samples.length / buckets;
  for (let b = 0; b < buckets; b++) {
    const start = Math.floor(b * per);
    const end = Math.max(start + 1, Math.min(samples.length, Math.floor((b + 1) * per)));
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = start; i < end; i++) {
      const v = samples[i];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    out[2 * b] = lo === Infinity ? 0 : lo;
    out[2 * b + 1] = hi === -Infinity ? 0 : hi;
  }
  return out;
}

/** Window boundaries (s) of `windowSeconds`-long windows over `duration` s: 0, 30, 60, … < duration. */
export function windowStarts(duration: number, windowSeconds: number): number[] {
  if (!(duration > 0) || !(windowSeconds > 0)) return [];
  const n = Math.ceil(duration / windowSeconds - 1e-9);
  return Array.from({ length: n }, (_, i) => i * windowSeconds);
}

export async function decodeWaveform(file: Blob, buckets = 800): Promise<Waveform | null> {
  const Ctx = (globalThis as { OfflineAudioContext?: typeof OfflineAudioContext; AudioContext?: typeof AudioContext }).AudioContext;
  if (!Ctx || file.size === 0 || file.size > WAVEFORM_MAX_BYTES) return null;
  let ctx: AudioContext | null = null;
  try {
    ctx = new Ctx();
    const buffer = await ctx.decodeAudioData(await file.arrayBuffer());
    const ch0 = buffer.getChannelData(0);
    return { peaks: computePeaks(ch0, buckets), duration: buffer.duration };
  } catch {
    return null;
  } finally {
    void ctx?.close().catch(() => undefined);
  }
}
