/**
 * Audio to the model's rate: downmix any channel layout to mono, then a streaming
 * windowed-sinc (Kaiser) polyphase resampler. Pure TS, works in a Worker (Chromium exposes
 * no OfflineAudioContext there). Output sample n is input time n / outRate exactly (same
 * alignment as ffmpeg's swresample), and the defaults (16 zero crossings, Kaiser β 9,
 * cutoff 0.97 when downsampling) follow swresample's, so `-ac 1 -ar 16000` agrees to
 * ~1e−5 RMS on real audio.
 */
import { firKernel, type FirKernel } from './resample-wasm';
import { concatFloat32 } from '../concat';

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

/** Largest block `push` hands on at once (larger ones are split: bounded buffers). */
const MAX_BLOCK = 1 << 16;

/**
 * Streaming resampler for integer rates (any ratio: 8000, 11025, 22050, 44100, 48000,
 * 96000 → 16000 …). Feed mono blocks with `push` (or write them in place: `input(n)`, then
 * `commit(n)`), finish with `flush`; memory stays bounded by one filter length plus the
 * block. Outputs whose filter window lies inside the buffered input run on the WebAssembly
 * SIMD kernel (resample-wasm.ts; the buffer lives in its memory, so a decoder copies
 * straight into it); the first and last few (window past either end) and runtimes without
 * SIMD use the scalar loop (four f64 accumulators). Which path an output takes depends only
 * on its index and the stream's length, never on how the input was split into blocks.
 */
export class StreamingResampler {
  readonly inRate: number;
  readonly outRate: number;
  private readonly up: number; // L
  private readonly down: number; // M
  private readonly half: number; // K: taps each side
  private readonly bank: Float64Array; // [L][2K], taps j = −K+1 … K (f32 values, held as f64: one conversion less per tap)
  private readonly kernel: FirKernel | null;
  private readonly stride: number; // taps per kernel row (2K rounded up to 8, zero-padded)
  private readonly bufPtr: number; // byte address of the input buffer in the kernel's memory
  private outPtr = 0;
  private outCap = 0;
  private cap = 1 << 14; // input buffer capacity (samples)
  private buf: Float32Array;
  private off = 0; // buf[off] is global input sample bufStart
  private len = 0; // valid samples from off
  private bufStart = 0; // global input index of buf[off]; input before 0 is silence
  private consumed = 0; // total input samples pushed
  private n = 0; // next output index

  constructor(inRate: number, outRate: number, opts: ResamplerOptions & { simd?: boolean } = {}) {
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
    this.bank = new Float64Array(L * taps);
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
      for (let t = 0; t < taps; t++) this.bank[p * taps + t] = Math.fround(row[t] / sum);
    }
    this.kernel = opts.simd === false ? null : firKernel();
    this.stride = this.kernel ? Math.ceil(taps / 8) * 8 : taps;
    if (this.kernel) {
      // memory: [bank L × stride f32][input buffer cap f32][outputs outCap f32]
      this.bufPtr = L * this.stride * 4;
      this.outPtr = this.bufPtr + this.cap * 4;
      this.outCap = 4096;
      this.growMemory();
      const kb = new Float32Array(this.kernel.memory.buffer, 0, L * this.stride);
      for (let p = 0; p < L; p++) for (let t = 0; t < taps; t++) kb[p * this.stride + t] = this.bank[p * taps + t];
      this.buf = new Float32Array(this.kernel.memory.buffer, this.bufPtr, this.cap);
    } else {
      this.bufPtr = 0;
      this.buf = new Float32Array(this.cap);
    }
  }

  /** Grows the kernel's memory to hold the bank, `cap` inputs and `outCap` outputs; renews the view. */
  private growMemory(): void {
    const mem = this.kernel!.memory;
    const need = this.outPtr + this.outCap * 4;
    if (need > mem.buffer.byteLength) mem.grow(Math.ceil((need - mem.buffer.byteLength) / 65536));
    this.buf = new Float32Array(mem.buffer, this.bufPtr, this.cap);
  }

  /** Output samples for `inputSamples` input samples: ceil(in · out / in_rate). */
  outputLength(inputSamples: number): number {
    return Math.ceil((inputSamples * this.up) / this.down);
  }

  /** Room for the next `n` input samples: write them into the returned view, then `commit(n)`. */
  input(n: number): Float32Array {
    const need = this.len + n;
    if (this.off + need > this.cap) {
      this.buf.copyWithin(0, this.off, this.off + this.len);
      this.off = 0;
      if (need > this.cap >> 1) {
        let cap = this.cap;
        while (cap < need * 2) cap *= 2;
        if (this.kernel) {
          this.cap = cap;
          this.outPtr = this.bufPtr + cap * 4;
          this.growMemory();
        } else {
          const grown = new Float32Array(cap);
          grown.set(this.buf.subarray(0, this.len));
          this.buf = grown;
          this.cap = cap;
        }
      }
    }
    return this.buf.subarray(this.off + this.len, this.off + need);
  }

  /** Takes the `n` samples written into `input(n)`; returns the outputs they complete. */
  commit(n: number): Float32Array {
    this.len += n;
    this.consumed += n;
    return this.run(false);
  }

  push(block: Float32Array): Float32Array {
    if (block.length <= MAX_BLOCK) {
      if (block.length) this.input(block.length).set(block);
      return this.commit(block.length);
    }
    const parts: Float32Array[] = [];
    for (let s = 0; s < block.length; s += MAX_BLOCK) parts.push(this.push(block.subarray(s, s + MAX_BLOCK)));
    return concatFloat32(parts);
  }

  flush(): Float32Array {
    return this.run(true);
  }

  private run(final: boolean): Float32Array {
    const L = this.up;
    const M = this.down;
    const K = this.half;
    const taps = 2 * K;
    const need = this.stride; // samples an output's window reads (taps, padded for the kernel)
    // outputs n whose window (first … first + need − 1, first = base − K + 1) is < consumed (or all, when final)
    let count = 0;
    if (final) count = Math.max(0, this.outputLength(this.consumed) - this.n);
    else {
      const maxBase = this.consumed - need + K - 1;
      if (maxBase >= 0) count = Math.max(0, Math.floor(((maxBase + 1) * L - 1) / M) + 1 - this.n);
    }
    const out = new Float32Array(count);
    if (this.kernel && count > this.outCap) {
      this.outCap = count * 2;
      this.growMemory();
    }
    const buf = this.buf;
    const lo = this.off; // buffer index of global sample bufStart
    const hi = this.off + this.len;
    const shift = this.off - this.bufStart; // buffer index = global index + shift
    const bank = this.bank;
    const dBase = Math.floor(M / L);
    const dPhase = M - dBase * L;
    let base = Math.floor((this.n * M) / L);
    let phase = this.n * M - base * L;
    for (let o = 0; o < count; ) {
      const i0 = base - K + 1 + shift; // buffer index of tap 0
      if (this.kernel && i0 >= lo && i0 + need <= hi) {
        // the run of outputs whose windows lie inside the buffer: base ≤ hi − shift − need + K − 1
        const n = this.n + o;
        const maxB = hi - shift - need + K - 1;
        const last = Math.floor(((maxB + 1) * L - 1) / M);
        const m = Math.min(count - o, last - n + 1);
        this.kernel.fir(0, need, this.bufPtr + i0 * 4, this.outPtr, m, phase, dBase, dPhase, L);
        out.set(new Float32Array(this.kernel.memory.buffer, this.outPtr, m), o);
        o += m;
        base = Math.floor(((n + m) * M) / L);
        phase = (n + m) * M - base * L;
        continue;
      }
      const row = phase * taps;
      let acc: number;
      if (i0 < lo || i0 + taps > hi) {
        acc = 0;
        for (let t = 0, i = i0; t < taps; t++, i++) if (i >= lo && i < hi) acc += bank[row + t] * buf[i];
      } else {
        let a0 = 0;
        let a1 = 0;
        let a2 = 0;
        let a3 = 0;
        let t = 0;
        for (; t + 4 <= taps; t += 4) {
          a0 += bank[row + t] * buf[i0 + t];
          a1 += bank[row + t + 1] * buf[i0 + t + 1];
          a2 += bank[row + t + 2] * buf[i0 + t + 2];
          a3 += bank[row + t + 3] * buf[i0 + t + 3];
        }
        for (; t < taps; t++) a0 += bank[row + t] * buf[i0 + t];
        acc = a0 + a1 + (a2 + a3);
      }
      out[o++] = acc;
      base += dBase;
      phase += dPhase;
      if (phase >= L) {
        phase -= L;
        base++;
      }
    }
    this.n += count;
    // drop input no longer needed
    const nextFirst = Math.floor((this.n * M) / L) - K + 1;
    const drop = Math.min(Math.max(0, nextFirst - this.bufStart), this.len);
    if (drop > 0) {
      this.off += drop;
      this.len -= drop;
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
