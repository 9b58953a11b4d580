/**
 * The sound tagger's input (models/README.md, "The sound tagger"): Kaldi-compatible log-mel
 * filterbank features as transformers' `ASTFeatureExtractor` computes them with
 * `torchaudio.compliance.kaldi.fbank(waveform, sample_frequency, window_type="hanning",
 * num_mel_bins)` — every other option at torchaudio's default: 25 ms frames, 10 ms shift,
 * snip_edges (no padding), dither 0, remove DC offset, pre-emphasis 0.97, FFT size rounded up
 * to a power of two (400 → 512), power spectrum, mel bins triangular on Kaldi's mel scale
 * (1127·ln(1 + f/700)) between 20 Hz and Nyquist, natural log floored at FLT_EPSILON,
 * use_energy false. The waveform is the decoded float signal in [−1, 1] (not scaled to int16).
 * Then padded with zero rows / cut to `maxFrames` and normalised (x − mean) / (2·std).
 */
import { fft, makeFftPlan, type FftPlan } from './fft';

export interface FbankConfig {
  sampleRate: number;
  numMels: number;
  /** Samples per frame (25 ms) and between frame starts (10 ms). */
  frameLength: number;
  frameShift: number;
  preemphasis: number;
  /** Lowest mel edge in Hz; the highest is Nyquist. */
  lowFreq: number;
  /** Rows the model takes (ASTFeatureExtractor max_length). */
  maxFrames: number;
  mean: number;
  std: number;
}

/** torch.finfo(torch.float32).eps, torchaudio's log floor. */
export const FLT_EPSILON = 1.1920928955078125e-7;

export function kaldiMel(hz: number): number {
  return 1127 * Math.log(1 + hz / 700);
}

/** Kaldi rounds the FFT size up to a power of two (round_to_power_of_two). */
export function paddedWindowSize(frameLength: number): number {
  let n = 1;
  while (n < frameLength) n *= 2;
  return n;
}

/** Symmetric Hann window 0.5 − 0.5·cos(2πn / (N − 1)) (torch.hann_window(N, periodic=False)). */
export function hanningSymmetric(n: number): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1)));
}

/** One triangular filter: weights for FFT bins start … start + weights.length − 1. */
export interface KaldiMelBin {
  start: number;
  weights: Float64Array;
  /** Edges on the mel scale (left, centre, right). */
  mel: [number, number, number];
}

/**
 * torchaudio `get_mel_banks`: numMels triangles spaced evenly in mel between mel(lowFreq) and
 * mel(Nyquist), evaluated on the mel value of each FFT bin centre k·sr/nFft, k < nFft/2
 * (the Nyquist bin gets weight 0).
 */
export function kaldiMelBanks(numMels: number, nFft: number, sampleRate: number, lowFreq: number): KaldiMelBin[] {
  const half = nFft / 2;
  const lo = kaldiMel(lowFreq);
  const delta = (kaldiMel(sampleRate / 2) - lo) / (numMels + 1);
  const binMel = Float64Array.from({ length: half }, (_, k) => kaldiMel((k * sampleRate) / nFft));
  const out: KaldiMelBin[] = [];
  for (let m = 0; m < numMels; m++) {
    const left = lo + m * delta;
    const centre = lo + (m + 1) * delta;
    const right = lo + (m + 2) * delta;
    const w = Array.from(binMel, (mel) => Math.max(0, Math.min((mel - left) / (centre - left), (right - mel) / (right - centre))));
    const start = w.findIndex((x) => x > 0);
    const end = w.length - [...w].reverse().findIndex((x) => x > 0);
    out.push({ start: Math.max(0, start), weights: Float64Array.from(start < 0 ? [] : w.slice(start, end)), mel: [left, centre, right] });
  }
  return out;
}

export interface FbankExtractor {
  config: FbankConfig;
  nFft: number;
  window: Float64Array;
  banks: KaldiMelBin[];
  plan: FftPlan;
}

export function makeFbankExtractor(config: FbankConfig): FbankExtractor {
  const nFft = paddedWindowSize(config.frameLength);
  return { config, nFft, window: hanningSymmetric(config.frameLength), banks: kaldiMelBanks(config.numMels, nFft, config.sampleRate, config.lowFreq), plan: makeFftPlan(nFft) };
}

/** Frames Kaldi cuts with snip_edges: 1 + ⌊(N − L) / shift⌋, 0 when N < L. */
export function fbankFrames(samples: number, frameLength: number, frameShift: number): number {
  return samples < frameLength ? 0 : 1 + Math.floor((samples - frameLength) / frameShift);
}

/** Log-mel rows [frames, numMels] of a float waveform (the fbank before padding and normalising). */
export function kaldiFbank(ex: FbankExtractor, samples: Float32Array): Float32Array {
  const { frameLength: L, frameShift, preemphasis, numMels } = ex.config;
  const frames = fbankFrames(samples.length, L, frameShift);
  const out = new Float32Array(frames * numMels);
  const re = new Float64Array(ex.nFft);
  const im = new Float64Array(ex.nFft);
  const oRe = new Float64Array(ex.nFft);
  const oIm = new Float64Array(ex.nFft);
  const frame = new Float64Array(L);
  for (let f = 0; f < frames; f++) {
    const off = f * frameShift;
    let mean = 0;
    for (let i = 0; i < L; i++) mean += samples[off + i];
    mean /= L;
    for (let i = 0; i < L; i++) frame[i] = samples[off + i] - mean;
    // pre-emphasis with the first sample repeated before the frame: y[0] = x[0] − p·x[0]
    re.fill(0);
    im.fill(0);
    for (let i = L - 1; i >= 0; i--) re[i] = (frame[i] - preemphasis * frame[i > 0 ? i - 1 : 0]) * ex.window[i];
    fft(ex.plan, re, im, oRe, oIm);
    for (let m = 0; m < numMels; m++) {
      const { start, weights } = ex.banks[m];
      let e = 0;
      for (let j = 0; j < weights.length; j++) {
        const k = start + j;
        e += weights[j] * (oRe[k] * oRe[k] + oIm[k] * oIm[k]);
      }
      out[f * numMels + m] = Math.log(Math.max(e, FLT_EPSILON));
    }
  }
  return out;
}

/** The model input [maxFrames, numMels]: fbank rows, zero rows after them (or cut), normalised. */
export function astInputValues(ex: FbankExtractor, samples: Float32Array): Float32Array {
  const { maxFrames, numMels, mean, std } = ex.config;
  const rows = kaldiFbank(ex, samples);
  const out = new Float32Array(maxFrames * numMels);
  const n = Math.min(rows.length, out.length);
  for (let i = 0; i < out.length; i++) out[i] = ((i < n ? rows[i] : 0) - mean) / (2 * std);
  return out;
}
