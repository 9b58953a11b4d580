import { describe, expect, it } from 'vitest';
import {
  hzToMel, logMel, logMelWindows, makeLogMelExtractor, melFilterbank, melToHz, splitWindows, stackWindows,
  type LogMelConfig,
} from './logmel.ts';
import { hasNumpy, maxAbsDiff, runPython } from './pyref.testutil.ts';

const WHISPER: LogMelConfig = { sampleRate: 16000, windowSeconds: 30, numMels: 128, nFft: 400, hopLength: 160, melFrames: 3000 };
const SR = WHISPER.sampleRate;

/** Independent float64 numpy reference (librosa slaney filters + whisper's STFT recipe). */
const REFERENCE = (c: LogMelConfig) => `
import sys, numpy as np
d = sys.argv[1]
sr, n_fft, hop, n_mels, n_frames = ${c.sampleRate}, ${c.nFft}, ${c.hopLength}, ${c.numMels}, ${c.melFrames}
N = int(round(sr * ${c.windowSeconds}))
x = np.fromfile(d + '/x.bin', dtype=np.float32).astype(np.float64)
x = np.pad(x, (0, N - len(x)))
def hz_to_mel(f):
    f = np.asanyarray(f, dtype=np.float64); m = f / (200.0 / 3)
    log = f >= 1000.0
    m = np.where(log, 15.0 + np.log(np.maximum(f, 1e-300) / 1000.0) / (np.log(6.4) / 27.0), m)
    return m
def mel_to_hz(m):
    m = np.asanyarray(m, dtype=np.float64); f = m * (200.0 / 3)
    return np.where(m >= 15.0, 1000.0 * np.exp(np.log(6.4) / 27.0 * (m - 15.0)), f)
fft_f = np.fft.rfftfreq(n_fft, 1.0 / sr)
mel_f = mel_to_hz(np.linspace(hz_to_mel(0.0), hz_to_mel(sr / 2.0), n_mels + 2))
fdiff = np.diff(mel_f); ramps = np.subtract.outer(mel_f, fft_f)
W = np.zeros((n_mels, len(fft_f)))
for i in range(n_mels):
    W[i] = np.maximum(0, np.minimum(-ramps[i] / fdiff[i], ramps[i + 2] / fdiff[i + 1]))
W *= (2.0 / (mel_f[2:n_mels + 2] - mel_f[:n_mels]))[:, None]
win = np.hanning(n_fft + 1)[:-1]
xp = np.pad(x, n_fft // 2, mode='reflect')
frames = 1 + (len(xp) - n_fft) // hop
idx = np.arange(n_fft)[None, :] + hop * np.arange(frames)[:, None]
power = np.abs(np.fft.rfft(xp[idx] * win, axis=1)) ** 2
mel = (W @ power.T)[:, :n_frames]
log = np.log10(np.maximum(mel, 1e-10))
log = np.maximum(log, log.max() - 8.0)
((log + 4.0) / 4.0).astype(np.float64).tofile(d + '/out.bin')
`;

const signals: Record<string, (n: number) => Float32Array> = {
  silence: (n) => new Float32Array(n),
  sine: (n) => Float32Array.from({ length: n }, (_, i) => 0.5 * Math.sin((2 * Math.PI * 440 * i) / SR)),
  noise: (n) => Float32Array.from({ length: n }, (_, i) => {
    const h = Math.sin(i * 12.9898 + 78.233) * 43758.5453;
    return 0.3 * (2 * (h - Math.floor(h)) - 1);
  }),
  chirp: (n) => Float32Array.from({ length: n }, (_, i) => 0.8 * Math.sin(2 * Math.PI * (100 + 2000 * (i / n)) * (i / SR))),
};

describe('mel scale', () => {
  it('is linear below 1 kHz and logarithmic above, as slaney', () => {
    expect(hzToMel(1000)).toBeCloseTo(15, 12);
    expect(hzToMel(200 / 3)).toBeCloseTo(1, 12);
    expect(hzToMel(6400)).toBeCloseTo(15 + 27, 10); // log step = ln(6.4)/27
    for (const f of [0, 123, 999, 1000, 4321, 8000]) expect(melToHz(hzToMel(f))).toBeCloseTo(f, 8);
  });

  it('gives slaney-normalised triangles (area ∝ 2/bandwidth) covering the spectrum', () => {
    const filters = melFilterbank(16000, 400, 80);
    expect(filters).toHaveLength(80);
    // Whisper's 80-mel filter 0 peaks at bin 1 (40 Hz) and spans bins 0..2 at most.
    expect(filters[0].first).toBeLessThanOrEqual(1);
    for (const f of filters) expect(f.weights.length).toBeGreaterThan(0);
  });
});

describe('logMel', () => {
  it('maps silence to the floor: log10(1e-10) = −10 → (−10 + 4)/4 = −1.5 everywhere', () => {
    const ex = makeLogMelExtractor({ ...WHISPER, numMels: 16 });
    const out = logMel(ex, new Float32Array(1000));
    expect(out).toHaveLength(16 * 3000);
    expect(out.every((v) => v === -1.5)).toBe(true);
  });

  it('rejects a window longer than 30 s', () => {
    const ex = makeLogMelExtractor({ ...WHISPER, numMels: 16 });
    expect(() => logMel(ex, new Float32Array(480001))).toThrow(RangeError);
  });

  describe.skipIf(!hasNumpy)('equals a float64 numpy reference within 1e-4', () => {
    const cases: [string, number, number][] = [
      ['silence', 128, 480000],
      ['sine', 128, 480000],
      ['noise', 128, 480000],
      ['noise', 80, 123457],
      ['chirp', 128, 21000],
      ['sine', 16, 16000],
    ];
    it.each(cases)('%s, %i mels, %i samples', (name, numMels, n) => {
      const config = { ...WHISPER, numMels };
      const x = signals[name](n);
      const ours = logMel(makeLogMelExtractor(config), x);
      const ref = runPython(REFERENCE(config), { x });
      expect(maxAbsDiff(ours, ref)).toBeLessThan(1e-4);
    });
  });
});

describe('windows', () => {
  it('splits 65 s into 30 + 30 + 5 s and stacks [W, n_mels, frames]', () => {
    const parts = splitWindows(new Float32Array(65 * SR), 30 * SR);
    expect(parts.map((p) => p.length)).toEqual([480000, 480000, 80000]);
    const stacked = stackWindows([new Float32Array([1, 2]), new Float32Array([3, 4])]);
    expect([...stacked]).toEqual([1, 2, 3, 4]);
    expect(() => stackWindows([new Float32Array(2), new Float32Array(3)])).toThrow();
  });

  it('logMelWindows equals per-window logMel laid out back to back', () => {
    const config = { ...WHISPER, numMels: 8 };
    const ex = makeLogMelExtractor(config);
    const x = signals.chirp(31 * SR);
    const { data, windows } = logMelWindows(ex, x);
    expect(windows).toBe(2);
    const size = 8 * 3000;
    expect(maxAbsDiff(data.subarray(0, size), logMel(ex, x.subarray(0, 30 * SR)))).toBe(0);
    expect(maxAbsDiff(data.subarray(size), logMel(ex, x.subarray(30 * SR)))).toBe(0);
  });
});
