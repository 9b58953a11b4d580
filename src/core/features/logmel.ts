/**
 * Whisper log-mel spectrogram of one 30 s audio window (PIPELINE §3): periodic Hann,
 * centred STFT with reflect padding, power spectrum, slaney mel filterbank with slaney
 * normalisation, last frame dropped, log10 clamp to (max − 8), (x + 4)/4.
 * Matches `WhisperFeatureExtractor` / whisper's `log_mel_spectrogram` in float64.
 */

import type { AudioConfig } from '../bundle/manifest.ts';
import { fft, makeFftPlan, type FftPlan } from './fft.ts';

export type LogMelConfig = Pick<AudioConfig, 'sampleRate' | 'windowSeconds' | 'numMels' | 'nFft' | 'hopLength' | 'melFrames'>;

const MEL_FLOOR = 1e-10;
const DYNAMIC_RANGE = 8; // log10 units kept below the window's maximum

// ---- slaney mel scale (librosa.hz_to_mel / mel_to_hz with htk = false) ----
const F_SP = 200 / 3;
const MIN_LOG_HZ = 1000;
const MIN_LOG_MEL = MIN_LOG_HZ / F_SP;
const LOG_STEP = Math.log(6.4) / 27;

export function hzToMel(hz: number): number {
  return hz < MIN_LOG_HZ ? hz / F_SP : MIN_LOG_MEL + Math.log(hz / MIN_LOG_HZ) / LOG_STEP;
}

export function melToHz(mel: number): number {
  return mel < MIN_LOG_MEL ? mel * F_SP : MIN_LOG_HZ * Math.exp(LOG_STEP * (mel - MIN_LOG_MEL));
}

/** One triangular filter, stored sparsely: weights for bins first … first+weights.length−1. */
export interface MelFilter {
  first: number;
  weights: Float64Array;
}

/**
 * Slaney-normalised triangular filters from 0 Hz to sampleRate/2, as
 * librosa.filters.mel(sr, n_fft, n_mels) (the same as whisper's mel_filters.npz).
 */
export function melFilterbank(sampleRate: number, nFft: number, numMels: number): MelFilter[] {
  const bins = Math.floor(nFft / 2) + 1;
  const maxMel = hzToMel(sampleRate / 2);
  const edges = Array.from({ length: numMels + 2 }, (_, i) => melToHz((maxMel * i) / (numMels + 1)));
  const filters: MelFilter[] = [];
  for (let m = 0; m < numMels; m++) {
    const [lo, centre, hi] = [edges[m], edges[m + 1], edges[m + 2]];
    const enorm = 2 / (hi - lo);
    const dense = new Float64Array(bins);
    let first = -1;
    let last = -1;
    for (let b = 0; b < bins; b++) {
      const f = (b * sampleRate) / nFft;
      const w = Math.max(0, Math.min((f - lo) / (centre - lo), (hi - f) / (hi - centre)));
      if (w > 0) {
        if (first < 0) first = b;
        last = b;
      }
      dense[b] = w * enorm;
    }
    filters.push(first < 0 ? { first: 0, weights: new Float64Array(0) } : { first, weights: dense.slice(first, last + 1) });
  }
  return filters;
}

/** Periodic Hann window (torch.hann_window(n) / np.hanning(n + 1)[:-1]). */
export function hannPeriodic(n: number): Float64Array {
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) w[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n);
  return w;
}

/** Precomputed tables for one configuration; build once, reuse for every window. */
export interface LogMelExtractor {
  config: LogMelConfig;
  windowSamples: number;
  window: Float64Array;
  filters: MelFilter[];
  plan: FftPlan;
}

export function makeLogMelExtractor(config: LogMelConfig): LogMelExtractor {
  const windowSamples = Math.round(config.sampleRate * config.windowSeconds);
  const stftFrames = 1 + Math.floor(windowSamples / config.hopLength);
  if (config.melFrames > stftFrames) {
    throw new RangeError(`melFrames ${config.melFrames} exceeds the ${stftFrames} STFT frames of a window`);
  }
  return {
    config,
    windowSamples,
    window: hannPeriodic(config.nFft),
    filters: melFilterbank(config.sampleRate, config.nFft, config.numMels),
    plan: makeFftPlan(config.nFft),
  };
}

/** Index into the reflect-padded signal (numpy 'reflect': edge sample not repeated). */
function reflect(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  let j = i % period;
  if (j < 0) j += period;
  return j < n ? j : period - j;
}

/**
 * Log-mel of one window: `samples` (≤ windowSamples, 16 kHz mono) is zero-padded to a
 * full window. Returns [numMels][melFrames] row-major.
 */
export function logMel(ex: LogMelExtractor, samples: Float32Array): Float32Array {
  const { config, windowSamples, window, filters, plan } = ex;
  const { hopLength, numMels, melFrames } = config;
  if (samples.length > windowSamples) {
    throw new RangeError(`audio window has ${samples.length} samples, more than ${windowSamples}`);
  }
  const padded = new Float64Array(windowSamples);
  padded.set(samples);
  const mel = melPower(padded, window, filters, plan, hopLength, melFrames);
  return normalizeLog(mel, numMels * melFrames);
}

/**
 * mel power [numMels][frames] of a centred STFT (PIPELINE §3). The frames are real, so two
 * go through one complex FFT (frame t as the real part, t + 1 as the imaginary part) and
 * are separated by the conjugate symmetry of real spectra: with Z = FFT(a + ib),
 * A[k] = (Z[k] + conj Z[n−k]) / 2 and B[k] = (Z[k] − conj Z[n−k]) / 2i.
 */
function melPower(
  x: Float64Array, window: Float64Array, filters: MelFilter[], plan: FftPlan, hop: number, frames: number,
): Float64Array {
  const nFft = plan.n;
  const half = Math.floor(nFft / 2);
  const bins = half + 1;
  const out = new Float64Array(filters.length * frames);
  const re = new Float64Array(nFft);
  const im = new Float64Array(nFft);
  const fRe = new Float64Array(nFft);
  const fIm = new Float64Array(nFft);
  const powerA = new Float64Array(bins);
  const powerB = new Float64Array(bins);
  const windowed = (t: number, into: Float64Array) => {
    const start = t * hop - half;
    if (start >= 0 && start + nFft <= x.length) for (let i = 0; i < nFft; i++) into[i] = window[i] * x[start + i];
    else for (let i = 0; i < nFft; i++) into[i] = window[i] * x[reflect(start + i, x.length)];
  };
  const bank = flattenFilters(filters);
  for (let t = 0; t < frames; t += 2) {
    const pair = t + 1 < frames;
    windowed(t, re);
    if (pair) windowed(t + 1, im);
    else im.fill(0);
    fft(plan, re, im, fRe, fIm);
    for (let k = 0; k < bins; k++) {
      const j = k === 0 ? 0 : nFft - k;
      const aRe = fRe[k] + fRe[j];
      const aIm = fIm[k] - fIm[j];
      const bRe = fIm[k] + fIm[j];
      const bIm = fRe[j] - fRe[k];
      powerA[k] = (aRe * aRe + aIm * aIm) / 4;
      powerB[k] = (bRe * bRe + bIm * bIm) / 4;
    }
    applyFilters(bank, powerA, out, frames, t);
    if (pair) applyFilters(bank, powerB, out, frames, t + 1);
  }
  return out;
}

/** The filters' weights back to back (a sparse matrix by rows): filter m covers weights[start[m] … start[m + 1]) at bins first[m]…. */
interface FlatFilters {
  first: Int32Array;
  start: Int32Array;
  weights: Float64Array;
}

function flattenFilters(filters: MelFilter[]): FlatFilters {
  const start = new Int32Array(filters.length + 1);
  filters.forEach((f, m) => (start[m + 1] = start[m] + f.weights.length));
  const weights = new Float64Array(start[filters.length]);
  filters.forEach((f, m) => weights.set(f.weights, start[m]));
  return { first: Int32Array.from(filters, (f) => f.first), start, weights };
}

/** One frame's mel energies: out[m · frames + t] = Σ weights · power (summed in bin order). */
function applyFilters(bank: FlatFilters, power: Float64Array, out: Float64Array, frames: number, t: number): void {
  const { first, start, weights } = bank;
  for (let m = 0; m < first.length; m++) {
    let acc = 0;
    for (let j = start[m], b = first[m]; j < start[m + 1]; j++, b++) acc += weights[j] * power[b];
    out[m * frames + t] = acc;
  }
}

/** log10(max(mel, 1e−10)), clamp to (max − 8), (x + 4)/4. */
function normalizeLog(mel: Float64Array, size: number): Float32Array {
  let max = -Infinity;
  for (let i = 0; i < size; i++) {
    const v = Math.log10(Math.max(mel[i], MEL_FLOOR));
    mel[i] = v;
    if (v > max) max = v;
  }
  const floor = max - DYNAMIC_RANGE;
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = (Math.max(mel[i], floor) + 4) / 4;
  return out;
}

/** Splits audio into consecutive windows (the last one shorter); at least one window. */
export function splitWindows(samples: Float32Array, windowSamples: number): Float32Array[] {
  const out: Float32Array[] = [];
  for (let s = 0; s < samples.length; s += windowSamples) out.push(samples.subarray(s, s + windowSamples));
  if (out.length === 0) out.push(new Float32Array(0));
  return out;
}

/** Stacks W per-window log-mels ([numMels·melFrames] each) into one [W, numMels, melFrames]. */
export function stackWindows(mels: Float32Array[]): Float32Array {
  const size = mels.length ? mels[0].length : 0;
  const out = new Float32Array(mels.length * size);
  mels.forEach((m, w) => {
    if (m.length !== size) throw new RangeError(`window ${w} has ${m.length} values, expected ${size}`);
    out.set(m, w * size);
  });
  return out;
}

/** Log-mel features of a whole clip: [S, numMels, melFrames] with S = ceil(samples / window). */
export function logMelWindows(ex: LogMelExtractor, samples: Float32Array): { data: Float32Array; windows: number } {
  const windows = splitWindows(samples, ex.windowSamples);
  return { data: stackWindows(windows.map((w) => logMel(ex, w))), windows: windows.length };
}
