/**
 * Audio to the model's rate: downmix any channel layout to mono, then a streaming
 * windowed-sinc (Kaiser) polyphase resampler. Pure TS, works in a Worker (Chromium exposes
 * no OfflineAudioContext there). Output sample n is input time n / outRate exactly (same
 * alignment as ffmpeg's swresample), and the defaults (16 zero crossings, Kaiser β 9,
 * cutoff 0.97 when downsampling) follow swresample's, so `-ac 1 -ar 16000` agrees to
 * ~1e−5 RMS on real audio.
 */

/**
 * Weights of each input channel in the mono downmix. Matches ffmpeg's default rematrix
 * (swresample, normalised so the weights sum to 1): stereo ½ ½; 5.1 (FL FR FC LFE BL BR):
 * FL, FR 1/√2, FC 1, LFE 0, BL, BR ½, divided by their sum. Other layouts: plain mean.
 */
export function downmixWeights(channels: number): number[] {
  if (channels === 1) return [1];
  if (channels === 2) return [0.5, 0.5];
  if (channels === 6) {
    const r = Math.SQRT1_2;
    const w = [r, r, 1, 0, 0.5, 0.5];
    const s = w.reduce((a, b) => a + b, 0);
    return w.map((x) => x / s);
  }
  return new Array(channels).fill(1 / channels);
}

/** Mono mix of planar channels with the given weights. */
export function downmix(planes: readonly Float32Array[], weights = downmixWeights(planes.length)): Float32Array {
  const n = planes[0]?.length ?? 0;
  if (planes.length === 1) return planes[0];
  const out = new Float32Array(n);
  for (let c = 0; c < planes.length; c++) {
    const w = weights[c];
    if (w === 0) continue;
    const p = planes[c];
    for (let i = 0; i < n; i++) out[i] += w * p[i];
  }
  return out;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 64; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

export interface ResamplerOptions {
  /** Zero crossings of the sinc on each side, at the lower of the two rates. */
  zeroCrossings?: number;
  kaiserBeta?: number;
  /** Pass band as a fraction of the output Nyquist when downsampling (swresample's cutoff). */
  cutoff?: number;
}

/**
 * Streaming resampler for integer rates (any ratio: 8000, 11025, 22050, 44100, 48000,
 * 96000 → 16000 …). Feed mono blocks with `push`, finish with `flush`; memory stays
 * bounded by one filter length plus the block.
 */
export class StreamingResampler {
  readonly inRate: number;
  readonly outRate: number;
  private readonly up: number; // L
  private readonly down: number; // M
  private readonly half: number; // K: taps each side
  private readonly bank: Float32Array; // [L][2K], taps j = −K+1 … K
  private buf = new Float32Array(0);
  private bufStart = 0; // global input index of buf[0]; input before 0 is silence
  private consumed = 0; // total input samples pushed
  private n = 0; // next output index

  constructor(inRate: number, outRate: number, opts: ResamplerOptions = {}) {
    if (!(inRate > 0 && outRate > 0) || !Number.isInteger(inRate) || !Number.isInteger(outRate)) {
      throw new RangeError(`sample rates must be positive integers (got ${inRate} → ${outRate})`);
    }
    this.inRate = inRate;
    this.outRate = outRate;
    const g = gcd(inRate, outRate);
    this.up = outRate / g;
    this.down = inRate / g;
    const zc = opts.zeroCrossings ?? 16;
    const beta = opts.kaiserBeta ?? 9;
    const cutoff = opts.cutoff ?? 0.97;
    // Cut-off in cycles per input sample; as swresample, `cutoff` only narrows the band
    // when downsampling (min(cutoff · out / in, 1) of the input Nyquist).
    const fc = 0.5 * Math.min(1, (cutoff * outRate) / inRate);
    const K = Math.ceil(zc / (2 * fc));
    this.half = K;
    const taps = 2 * K;
    const L = this.up;
    this.bank = new Float32Array(L * taps);
    const i0b = besselI0(beta);
    for (let p = 0; p < L; p++) {
      const frac = p / L;
      let sum = 0;
      const row = new Float64Array(taps);
      for (let t = 0; t < taps; t++) {
        const x = t - K + 1 - frac; // distance from the output position, in input samples
        const u = x / K;
        const w = Math.abs(u) >= 1 ? 0 : besselI0(beta * Math.sqrt(1 - u * u)) / i0b;
        const a = 2 * fc * x;
        const sinc = a === 0 ? 1 : Math.sin(Math.PI * a) / (Math.PI * a);
        row[t] = 2 * fc * sinc * w;
        sum += row[t];
      }
      for (let t = 0; t < taps; t++) this.bank[p * taps + t] = row[t] / sum;
    }
  }

  /** Output samples for `inputSamples` input samples: ceil(in · out / in_rate). */
  outputLength(inputSamples: number): number {
    return Math.ceil((inputSamples * this.up) / this.down);
  }

  push(block: Float32Array): Float32Array {
    if (block.length) {
      const merged = new Float32Array(this.buf.length + block.length);
      merged.set(this.buf);
      merged.set(block, this.buf.length);
      this.buf = merged;
      this.consumed += block.length;
    }
    return this.run(this.consumed, false);
  }

  flush(): Float32Array {
    return this.run(this.consumed, true);
  }

  private run(available: number, final: boolean): Float32Array {
    const L = this.up;
    const M = this.down;
    const K = this.half;
    const taps = 2 * K;
    const limit = final ? this.outputLength(this.consumed) : Infinity;
    // outputs n whose last tap (base + K) is < available (or all, when final)
    let count = 0;
    if (final) count = Math.max(0, limit - this.n);
    else {
      // largest n with floor(n·M/L) + K ≤ available − 1
      const maxBase = available - 1 - K;
      if (maxBase >= 0) count = Math.max(0, Math.floor(((maxBase + 1) * L - 1) / M) + 1 - this.n);
    }
    const out = new Float32Array(count);
    const buf = this.buf;
    const bs = this.bufStart;
    const bl = buf.length;
    const bank = this.bank;
    for (let o = 0; o < count; o++) {
      const n = this.n + o;
      const num = n * M;
      const base = Math.floor(num / L);
      const phase = num - base * L;
      const first = base - K + 1; // global index of tap 0
      const row = phase * taps;
      let acc = 0;
      let i = first - bs;
      let t = 0;
      if (i < 0 || i + taps > bl) {
        for (; t < taps; t++, i++) if (i >= 0 && i < bl) acc += bank[row + t] * buf[i];
      } else {
        for (; t < taps; t++, i++) acc += bank[row + t] * buf[i];
      }
      out[o] = acc;
    }
    this.n += count;
    // drop input no longer needed
    const nextFirst = Math.floor((this.n * M) / L) - K + 1;
    const drop = Math.min(Math.max(0, nextFirst - this.bufStart), this.buf.length);
    if (drop > 0) {
      this.buf = this.buf.slice(drop);
      this.bufStart += drop;
    }
    return out;
  }
}

/** Whole-buffer convenience: mono `input` at inRate → outRate. */
export function resample(input: Float32Array, inRate: number, outRate: number, opts?: ResamplerOptions): Float32Array {
  if (inRate === outRate) return input.slice();
  const r = new StreamingResampler(inRate, outRate, opts);
  const a = r.push(input);
  const b = r.flush();
  const out = new Float32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** RMS of the difference per block (e.g. 1600 samples = 100 ms at 16 kHz). */
export function blockRmsDiff(a: Float32Array, b: Float32Array, block: number): number[] {
  const n = Math.min(a.length, b.length);
  const out: number[] = [];
  for (let s = 0; s < n; s += block) {
    const e = Math.min(n, s + block);
    let acc = 0;
    for (let i = s; i < e; i++) acc += (a[i] - b[i]) ** 2;
    out.push(Math.sqrt(acc / (e - s)));
  }
  return out;
}
