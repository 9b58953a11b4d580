/**
 * The sound tagger's Kaldi fbank (ASTFeatureExtractor via torchaudio.compliance.kaldi.fbank):
 * hand tables from the definitions, and parity with an independent float64 numpy
 * implementation written from the Kaldi recipe (torchaudio is not installed here) on a real
 * decoded soundtrack and on generated tones.
 */
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openNodeMedia } from '../media/node';
import { planMedia } from '../media/pipeline';
import { astInputValues, fbankFrames, FLT_EPSILON, hanningSymmetric, kaldiFbank, kaldiMel, kaldiMelBanks, makeFbankExtractor, paddedWindowSize, type FbankConfig } from './fbank';
import { hasNumpy, maxAbsDiff, runPython } from './pyref.testutil';

/** ASTFeatureExtractor's numbers (preprocessor_config.json of the AST repos; torchaudio defaults). */
const AST: FbankConfig = { sampleRate: 16000, numMels: 128, frameLength: 400, frameShift: 160, preemphasis: 0.97, lowFreq: 20, maxFrames: 1024, mean: -4.2677393, std: 4.5689974 };

/** Kaldi fbank from its definitions, float64 numpy; writes the normalised [1024, 128] input. */
const REFERENCE = `
import sys, numpy as np
d = sys.argv[1]
x = np.fromfile(d + '/x.bin', dtype=np.float32).astype(np.float64)
sr, L, shift, n_mels, n_fft, max_frames = 16000, 400, 160, 128, 512, 1024
mel = lambda f: 1127.0 * np.log(1.0 + np.asarray(f, dtype=np.float64) / 700.0)
lo, hi = mel(20.0), mel(sr / 2.0)
delta = (hi - lo) / (n_mels + 1)
bin_mel = mel(np.arange(n_fft // 2) * sr / n_fft)
W = np.zeros((n_mels, n_fft // 2 + 1))
for m in range(n_mels):
    l, c, r = lo + m * delta, lo + (m + 1) * delta, lo + (m + 2) * delta
    W[m, :n_fft // 2] = np.clip(np.minimum((bin_mel - l) / (c - l), (r - bin_mel) / (r - c)), 0, None)
frames = 1 + (len(x) - L) // shift if len(x) >= L else 0
F = np.stack([x[i * shift:i * shift + L] for i in range(frames)])
F = F - F.mean(axis=1, keepdims=True)
prev = np.concatenate([F[:, :1], F[:, :-1]], axis=1)
F = F - 0.97 * prev
F = F * (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(L) / (L - 1)))
spec = np.abs(np.fft.rfft(F, n=n_fft, axis=1)) ** 2
fb = np.log(np.maximum(spec @ W.T, np.finfo(np.float32).eps))
out = np.zeros((max_frames, n_mels))
n = min(frames, max_frames)
out[:n] = fb[:n]
((out - (-4.2677393)) / (4.5689974 * 2)).tofile(d + '/out.bin')
`;

describe('Kaldi fbank definitions (hand-checked)', () => {
  it('Kaldi mel scale 1127·ln(1 + f/700)', () => {
    const table: [number, number][] = [[0, 0], [20, 31.748578341466644], [700, 781.1768724910584], [8000, 2840.0377117383778], [31.25, 49.22179656749966]];
    for (const [hz, mel] of table) expect(kaldiMel(hz)).toBeCloseTo(mel, 9);
  });

  it('128 triangles evenly spaced in mel between 20 Hz and 8 kHz on a 512-point FFT (256 bins used, Nyquist weight 0)', () => {
    expect(paddedWindowSize(400)).toBe(512);
    const banks = kaldiMelBanks(128, 512, 16000, 20);
    expect(banks).toHaveLength(128);
    // mel(20) = 31.7486, step (mel(8000) − mel(20)) / 129 = 21.7697
    const edges: [number, [number, number, number]][] = [
      [0, [31.748578341466644, 53.51826154609386, 75.28794475072108]],
      [1, [53.51826154609386, 75.28794475072108, 97.0576279553483]],
      [127, [2796.4983453291234, 2818.2680285337506, 2840.0377117383778]],
    ];
    for (const [m, mel] of edges) banks[m].mel.forEach((v, i) => expect(v).toBeCloseTo(mel[i], 9));
    // bin 0: bins at 31.25 Hz (mel 49.22) rise (49.22 − 31.75)/21.77 = 0.8026; 62.5 Hz (mel 96.38) is past its right edge 75.29
    expect(banks[0].start).toBe(1);
    expect(banks[0].weights).toHaveLength(1);
    expect(banks[0].weights[0]).toBeCloseTo((49.22179656749966 - 31.748578341466644) / 21.769683204627217, 9);
    const last = banks[127];
    expect(last.start + last.weights.length).toBeLessThanOrEqual(256); // never the Nyquist bin 256
  });

  it('symmetric Hann window (torch.hann_window(400, periodic=False), torchaudio "hanning")', () => {
    const w = hanningSymmetric(400);
    const table: [number, number][] = [[0, 0], [1, 6.199333200590518e-5], [100, 0.5019684113649876], [199, 0.9999845014267927], [200, 0.9999845014267927], [399, 0]];
    for (const [n, v] of table) expect(w[n]).toBeCloseTo(v, 12);
  });

  it('snip_edges frame counts: 1 + ⌊(N − 400) / 160⌋; 1024 frames need 164 080 samples (10.255 s)', () => {
    expect(fbankFrames(399, 400, 160)).toBe(0);
    expect(fbankFrames(400, 400, 160)).toBe(1);
    expect(fbankFrames(163_840, 400, 160)).toBe(1022);
    expect(fbankFrames(164_080, 400, 160)).toBe(1024);
  });

  it('silence: every row is ln(FLT_EPSILON), padded rows are 0 before normalising', () => {
    const ex = makeFbankExtractor(AST);
    const rows = kaldiFbank(ex, new Float32Array(16_000));
    expect(rows).toHaveLength(98 * 128);
    expect(rows.every((v) => v === Math.fround(Math.log(FLT_EPSILON)))).toBe(true);
    const input = astInputValues(ex, new Float32Array(16_000));
    expect(input).toHaveLength(1024 * 128);
    expect(input[0]).toBeCloseTo((Math.log(FLT_EPSILON) + 4.2677393) / (2 * 4.5689974), 6); // −0.0675
    expect(input[1024 * 128 - 1]).toBeCloseTo(4.2677393 / (2 * 4.5689974), 6); // a zero row: 0.46703
  });
});

describe.skipIf(!hasNumpy)('Kaldi fbank vs the numpy reference', () => {
  const ex = makeFbankExtractor(AST);
  const check = (x: Float32Array) => {
    const ts = astInputValues(ex, x);
    const ref = runPython(REFERENCE, { x });
    // float64 on both sides; the output is float32, so 1e-5 on values of order 1
    expect(maxAbsDiff(ts, ref)).toBeLessThan(1e-5);
    return ts;
  };

  it('a real soundtrack (the h264_aac fixture, first 10.24 s at 16 kHz mono) within 1e-5', async () => {
    const media = await openNodeMedia(resolve('e2e/fixtures/out/h264_aac.mp4'));
    try {
      const plan = planMedia(media.info, { fps: 1, maxFrames: 32, minFrames: 1, rule: 'checkpoint' }, { sampleRate: 16000, windowSeconds: 30 });
      let samples: Float32Array | null = null;
      for await (const w of media.audioWindows(plan.audio!, { channel: 0 })) {
        samples ??= w.samples.slice(0, 163_840);
      }
      expect(samples!.length).toBe(163_840);
      expect(samples!.some((v) => Math.abs(v) > 0.01)).toBe(true); // real sound, not silence
      const input = check(samples!);
      // 1022 frames of sound, then 2 zero rows
      expect(input[1022 * 128]).toBeCloseTo(4.2677393 / (2 * 4.5689974), 6);
      expect(input[1021 * 128]).not.toBeCloseTo(4.2677393 / (2 * 4.5689974), 3);
    } finally {
      media.close();
    }
  });

  it('a 440 Hz tone longer than the input (cut to 1024 rows) and a 3-s chirp (padded)', () => {
    check(Float32Array.from({ length: 200_000 }, (_, i) => 0.5 * Math.sin((2 * Math.PI * 440 * i) / 16000)));
    check(Float32Array.from({ length: 48_000 }, (_, i) => 0.8 * Math.sin(2 * Math.PI * (100 + 3000 * (i / 48_000)) * (i / 16000))));
  });
});
