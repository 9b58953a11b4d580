/** Parity with the PyTorch reference of the tiny bundle: log-mel and pixel values. */

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { pythonRound } from '../model/interleave.ts';
import { logMel, makeLogMelExtractor, splitWindows } from './logmel.ts';
import { framesToTensor } from '../media/pipeline.ts';
import type { RgbImage } from '../media/resize.ts';
import { expectStatsClose, goldenSkipReason, hasGolden, loadGolden, readTiny, stats, type GoldenCase } from './golden.testutil.ts';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const bytesOf = (a: Float32Array | Uint8Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** The case's raw audio: golden formula, or the fixture's decoded track. */
function rawAudio(c: GoldenCase): Float32Array {
  if (c.source.kind === 'ffmpeg-fixture') {
    const b = readTiny(c.source.decodedAudio!.path);
    return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  }
  return Float32Array.from({ length: c.source.audioSamples! }, (_, n) => ((n % 160) - 80) / 320 + (((n * 7919) % 2001) - 1000) / 8000);
}

/** PIPELINE §3 audio preparation: truncate to the video's duration, pad to ≥ 1 s. */
function prepareAudio(raw: Float32Array, duration: number, sampleRate: number): Float32Array {
  const cut = raw.subarray(0, pythonRound(duration * sampleRate));
  const out = new Float32Array(Math.max(cut.length, sampleRate));
  out.set(cut);
  return out;
}

/** The case's sampled frames, RGB uint8. */
function frames(c: GoldenCase): RgbImage[] {
  const { width, height } = c.source;
  const size = width * height * 3;
  if (c.source.kind === 'ffmpeg-fixture') {
    const b = readTiny(c.source.decodedFrames!.path);
    return c.frameIndices.map((_, f) => ({ data: new Uint8Array(b.subarray(f * size, (f + 1) * size)), width, height }));
  }
  return c.frameIndices.map((i) => {
    const data = new Uint8Array(size);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        for (let ch = 0; ch < 3; ch++) data[(y * width + x) * 3 + ch] = (x * 7 + y * 13 + ch * 50 + i * 31) % 256;
      }
    }
    return { data, width, height };
  });
}

describe.skipIf(!hasGolden)('golden parity: features', () => {
  if (!hasGolden) return;
  const { golden, manifest } = loadGolden();

  describe.each(golden.cases.map((c) => [c.name, c] as const))('%s', (_, c) => {
    it('prepares the same audio (sha256 of float32 samples)', () => {
      const audio = prepareAudio(rawAudio(c), c.duration, manifest.audio.sampleRate);
      expect(audio.length).toBe(c.inputs.preparedAudioSamples);
      expect(sha256(bytesOf(audio))).toBe(c.inputs.preparedAudioSha256);
    });

    it('log-mel of every window matches within 1e-4', () => {
      const ex = makeLogMelExtractor(manifest.audio);
      const audio = prepareAudio(rawAudio(c), c.duration, manifest.audio.sampleRate);
      const windows = splitWindows(audio, ex.windowSamples);
      expect(windows.length).toBe(c.inputs.windows);
      windows.forEach((w, i) => {
        const ours = stats(logMel(ex, w), [manifest.audio.numMels, manifest.audio.melFrames]);
        expectStatsClose(ours, c.logMel[i], 1e-4);
      });
    });

    it('pixel values match within 1e-4', () => {
      const imgs = frames(c);
      const flat = new Uint8Array(imgs.length * imgs[0].data.length);
      imgs.forEach((im, i) => flat.set(im.data, i * im.data.length));
      expect(sha256(flat)).toBe(c.inputs.framesSha256);
      const s = manifest.vision.imageSize;
      expectStatsClose(stats(framesToTensor(imgs, manifest.vision), [imgs.length, 3, s, s]), c.pixelValues, 1e-4);
    });
  });
});

describe.skipIf(hasGolden)('golden parity: features (skipped)', () => {
  it.skip(goldenSkipReason, () => {});
});
