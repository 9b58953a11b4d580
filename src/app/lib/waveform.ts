/**
 * A coarse waveform for the timeline (only a picture: the model's audio is decoded in the
 * caption worker). Decoded and reduced in its own worker (waveform.worker.ts), so the
 * page never stalls on it; null when the browser cannot decode the file's audio.
 */
import type { WaveformRequest, WaveformResponse } from './waveform.worker';

export interface Waveform {
  /** min/max pairs per bucket, in −1…1: [min0, max0, min1, max1, …]. */
  peaks: Float32Array;
  duration: number;
}

/** Files larger than this are not decoded for the picture. */
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

let worker: Worker | null = null;
let nextId = 1;
const pending = new Map<number, (w: Waveform | null) => void>();

function waveformWorker(): Worker {
  if (!worker) {
    worker = new Worker(new URL('./waveform.worker.ts', import.meta.url), { type: 'module' });
    worker.onmessage = (e: MessageEvent<WaveformResponse>) => {
      const done = pending.get(e.data.id);
      pending.delete(e.data.id);
      done?.(e.data.peaks ? { peaks: e.data.peaks, duration: e.data.duration } : null);
    };
    worker.onerror = () => {
      // A worker that cannot start (or crashed): no pictures, and a fresh one next time.
      for (const done of pending.values()) done(null);
      pending.clear();
      worker?.terminate();
      worker = null;
    };
  }
  return worker;
}

export function decodeWaveform(file: Blob, buckets = 800): Promise<Waveform | null> {
  if (file.size === 0 || file.size > WAVEFORM_MAX_BYTES || typeof Worker === 'undefined') return Promise.resolve(null);
  const id = nextId++;
  return new Promise((resolve) => {
    pending.set(id, resolve);
    waveformWorker().postMessage({ id, file, buckets } satisfies WaveformRequest);
  });
}
