/** Parity with the PyTorch reference of the tiny bundle: log-mel and pixel values. */

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { BundleManifest } from '../bundle/manifest.ts';
import { MemoryMediaSource } from '../media/memory-source.ts';
import { framesToTensor } from './pixels.ts';
import { planAudio, planFrames } from '../media/plan.ts';
import type { RgbImage } from './pixels.ts';
import { goldenMedia } from '../testing/golden.ts';
import { logMel, makeLogMelExtractor } from './logmel.ts';
import { expectStatsClose, loadGolden, readTiny, stats, type GoldenCase } from './golden.testutil.ts';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const bytesOf = (a: Float32Array | Uint8Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** The case's inputs as the runtime sees them (the reference's exact frames and audio). */
function media(c: GoldenCase, sampleRate: number): MemoryMediaSource {
  const fixture =
    c.source.kind === 'ffmpeg-fixture'
      ? { frames: new Uint8Array(readTiny(c.source.decodedFrames!.path)), audio: floats(readTiny(c.source.decodedAudio!.path)) }
      : undefined;
  return new MemoryMediaSource(goldenMedia(c, sampleRate, fixture));
}

function floats(b: Buffer): Float32Array {
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/** The runtime's own audio path (PIPELINE §3): plan (truncate to T, pad to ≥ 1 s), then windows. */
async function preparedWindows(c: GoldenCase, m: BundleManifest): Promise<Float32Array[]> {
  const src = media(c, m.audio.sampleRate);
  const frames = planFrames(src.info.video!.timeline, { ...m.sampling, rule: 'checkpoint' });
  const plan = planAudio({ audioDuration: src.info.audio!.duration, videoRealTime: frames.realTime }, m.audio);
  const out: Float32Array[] = [];
  for await (const w of src.audioWindows(plan)) out.push(w.samples);
  return out;
}

async function sampledFrames(c: GoldenCase, m: BundleManifest): Promise<RgbImage[]> {
  const src = media(c, m.audio.sampleRate);
  const plan = planFrames(src.info.video!.timeline, { ...m.sampling, rule: 'checkpoint' });
  expect(plan.indices).toEqual(c.frameIndices);
  const out: RgbImage[] = [];
  for await (const f of src.frames(plan)) out.push(f.image);
  return out;
}

describe('golden parity: features', () => {
  const { golden, manifest } = loadGolden();

  describe.each(golden.cases.map((c) => [c.name, c] as const))('%s', (_, c) => {
    it('prepares the same audio (sha256 of float32 samples)', async () => {
      const windows = await preparedWindows(c, manifest);
      expect(windows.length).toBe(c.inputs.windows);
      const audio = new Float32Array(windows.reduce((n, w) => n + w.length, 0));
      windows.reduce((at, w) => (audio.set(w, at), at + w.length), 0);
      expect(audio.length).toBe(c.inputs.preparedAudioSamples);
      expect(sha256(bytesOf(audio))).toBe(c.inputs.preparedAudioSha256);
    });

    it('log-mel of every window matches within 1e-4', async () => {
      const ex = makeLogMelExtractor(manifest.audio);
      const windows = await preparedWindows(c, manifest);
      windows.forEach((w, i) => {
        const ours = stats(logMel(ex, w), [manifest.audio.numMels, manifest.audio.melFrames]);
        expectStatsClose(ours, c.logMel[i], 1e-4);
      });
    });

    it('pixel values match within 1e-4', async () => {
      const imgs = await sampledFrames(c, manifest);
      const flat = new Uint8Array(imgs.length * imgs[0].data.length);
      imgs.forEach((im, i) => flat.set(im.data, i * im.data.length));
      expect(sha256(flat)).toBe(c.inputs.framesSha256);
      const s = manifest.vision.imageSize;
      expectStatsClose(stats(framesToTensor(imgs, manifest.vision), [imgs.length, 3, s, s]), c.pixelValues, 1e-4);
    });
  });
});
