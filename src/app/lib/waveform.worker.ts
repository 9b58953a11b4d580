/// <reference lib="webworker" />
/**
 * Decodes a file's first audio track with mediabunny (WebCodecs) and reduces it to min/max
 * peaks, off the page's main thread: decodeAudioData + the peak scan used to block the
 * page for up to a second on a 40 s file. Answers one message per request:
 * { id, peaks, duration } or { id, peaks: null }.
 */
import { ALL_FORMATS, AudioSampleSink, BlobSource, Input } from 'mediabunny';

export interface WaveformRequest {
  id: number;
  file: Blob;
  buckets: number;
}

export interface WaveformResponse {
  id: number;
  peaks: Float32Array | null;
  duration: number;
}

/** Longer files get no waveform. */
export const WAVEFORM_MAX_SECONDS = 30 * 60;

async function peaksOf(file: Blob, buckets: number): Promise<{ peaks: Float32Array; duration: number } | null> {
  const input = new Input({ source: new BlobSource(file), formats: ALL_FORMATS });
  try {
    const track = await input.getPrimaryAudioTrack();
    if (!track || !(await track.canDecode().catch(() => false))) return null;
    const duration = await input.computeDuration();
    // Decoding hours of audio would compete with the caption run for the CPU.
    if (!(duration > 0) || duration > WAVEFORM_MAX_SECONDS) return null;
    const lo = new Float32Array(buckets).fill(Infinity);
    const hi = new Float32Array(buckets).fill(-Infinity);
    let plane = new Float32Array(0);
    for await (const s of new AudioSampleSink(track).samples()) {
      try {
        if (plane.length < s.numberOfFrames) plane = new Float32Array(s.numberOfFrames);
        s.copyTo(plane, { planeIndex: 0, format: 'f32-planar' });
        const perSample = buckets / (duration * s.sampleRate);
        const first = s.timestamp * s.sampleRate;
        for (let i = 0; i < s.numberOfFrames; i++) {
          const b = Math.floor((first + i) * perSample);
          if (b < 0 || b >= buckets) continue;
          const v = plane[i];
          if (v < lo[b]) lo[b] = v;
          if (v > hi[b]) hi[b] = v;
        }
      } finally {
        s.close();
      }
    }
    const peaks = new Float32Array(buckets * 2);
    for (let b = 0; b < buckets; b++) {
      peaks[2 * b] = lo[b] === Infinity ? 0 : lo[b];
      peaks[2 * b + 1] = hi[b] === -Infinity ? 0 : hi[b];
    }
    return { peaks, duration };
  } finally {
    input.dispose();
  }
}

self.onmessage = async (e: MessageEvent<WaveformRequest>) => {
  const { id, file, buckets } = e.data;
  let out: WaveformResponse = { id, peaks: null, duration: 0 };
  try {
    const r = await peaksOf(file, buckets);
    if (r) out = { id, ...r };
  } catch {
    // An undecodable file just has no picture; the caption run reports the real error.
  }
  (self as unknown as DedicatedWorkerGlobalScope).postMessage(out, out.peaks ? [out.peaks.buffer] : []);
};
