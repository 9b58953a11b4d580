/**
 * Node side over Debian's ffmpeg/ffprobe: the TS resampler against ffmpeg's, probing and
 * planning the fixtures (the 2-hour file only through the plan + ffprobe), frames and
 * audio windows, and an error for every broken input. Fixture tests need
 * `bash e2e/fixtures/make-fixtures.sh`; without ffmpeg the whole file is skipped.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openNodeMedia } from './node';
import { planMedia } from './pipeline';
import { planAudio, planFrames } from './plan';
import { blockRmsDiff, resample } from './resample';
import { meanAbsDiff } from '../features/pixels';

const hasFfmpeg = spawnSync('ffmpeg', ['-version']).status === 0;
const OUT = join(import.meta.dirname, '../../../e2e/fixtures/out');
const MANIFEST = join(OUT, 'manifest.json');
const hasFixtures = hasFfmpeg && existsSync(MANIFEST);
const SAMPLING = { fps: 1, maxFrames: 30, minFrames: 2 };
const AUDIO = { sampleRate: 16000, windowSeconds: 30 };

function f32(path: string, args: string[]): Float32Array {
  const buf = execFileSync('ffmpeg', ['-v', 'error', '-i', path, ...args, '-f', 'f32le', '-'], { maxBuffer: 1 << 28 });
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

/** Amplitude of a tone at `freq` over the whole block (Goertzel). */
function goertzel(x: Float32Array, rate: number, freq: number): number {
  const c = 2 * Math.cos((2 * Math.PI * freq) / rate);
  let s1 = 0;
  let s2 = 0;
  for (const v of x) {
    const s0 = v + c * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return Math.sqrt(Math.max(0, s1 * s1 + s2 * s2 - c * s1 * s2)) / (x.length / 2);
}

describe.skipIf(!hasFfmpeg)('TS resampler vs ffmpeg -ar 16000', () => {
  const dir = mkdtempSync(join(tmpdir(), 'resample-'));
  for (const rate of [8000, 22050, 44100, 48000, 96000]) {
    it(`${rate} Hz → 16 kHz: RMS difference per 100 ms ≤ 0.01 (chirp + speech-like noise)`, () => {
      const wav = join(dir, `in${rate}.wav`);
      // 3 s chirp 50 Hz → Nyquist plus 1 s of pink noise: energy across the whole band
      execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', `aevalsrc='0.4*sin(2*PI*(50*t+(${rate / 2}-50)/6*t*t))':s=${rate}:d=3`,
        '-f', 'lavfi', '-i', `anoisesrc=color=pink:a=0.3:r=${rate}:d=1`, '-filter_complex', '[0:a][1:a]concat=n=2:v=0:a=1', '-c:a', 'pcm_f32le', wav]);
      const src = f32(wav, []);
      const ref = f32(wav, ['-ar', '16000']);
      const mine = resample(src, rate, 16000);
      expect(Math.abs(mine.length - ref.length)).toBeLessThanOrEqual(2);
      const rms = blockRmsDiff(mine, ref, 1600);
      expect(Math.max(...rms)).toBeLessThanOrEqual(0.01);
    });
  }
});

describe.skipIf(!hasFixtures)('node media source on the fixtures', () => {
  const manifest = hasFixtures ? JSON.parse(readFileSync(MANIFEST, 'utf8')) : { broken: {}, facts: {} };

  it('2-hour file: probe + plan only (30 frames, 30 s windows)', async () => {
    const src = await openNodeMedia(join(OUT, 'long2h.mp4'));
    const v = src.info.video!;
    expect(v.timeline.frameCount).toBe(7200);
    const plan = planMedia(src.info, SAMPLING, AUDIO);
    // ~1 fps source: step 1 → 7200 candidates > 30 → floor(linspace(0, 7199, 30)): k·248.24…
    expect(plan.frames!.indices.slice(0, 4)).toEqual([0, 248, 496, 744]);
    expect(plan.frames!.indices[29]).toBe(7199);
    expect(plan.frames!.timestamps[29]).toBeCloseTo(v.timeline.timestamps![7199], 9);
    const T = plan.frames!.realTime;
    expect(T).toBeGreaterThan(7200);
    expect(T).toBeLessThan(7205);
    const windows = plan.audio!.windows;
    expect(windows.length).toBe(Math.ceil(Math.round(16000 * T) / 480000));
    expect(windows.slice(0, -1).every((w) => w.length === 480000)).toBe(true);
    expect(windows.at(-1)!.length).toBe(Math.round(16000 * T) - 480000 * (windows.length - 1));
  });

  it('frames at the planned timestamps: the planned count, display size, distinct content', async () => {
    const src = await openNodeMedia(join(OUT, 'h264_aac.mp4'));
    const plan = planFrames(src.info.video!.timeline, SAMPLING);
    const frames = [];
    for await (const f of src.frames(plan)) frames.push(f);
    expect(frames.map((f) => f.timestamp)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(frames.every((f) => f.image.width === 320 && f.image.height === 240)).toBe(true);
    expect(meanAbsDiff(frames[0].image.data, frames[1].image.data)).toBeGreaterThan(1);
    // the same timestamp twice gives the same frame
    expect(meanAbsDiff((await src.frameAt(3)).data, frames[3].image.data)).toBe(0);
  });

  it('rotated file: portrait frames', async () => {
    const src = await openNodeMedia(join(OUT, 'rotated.mp4'));
    expect([src.info.video!.width, src.info.video!.height]).toEqual([240, 320]);
    const img = await src.frameAt(1);
    expect([img.width, img.height]).toEqual([240, 320]);
  });

  it('audio windows: 40 s file → 30 s + 10 s, the 33 s beep in window 1 at 3 s', async () => {
    const src = await openNodeMedia(join(OUT, 'long40.mp4'));
    const plan = planMedia(src.info, SAMPLING, AUDIO).audio!;
    const wins = [];
    for await (const w of src.audioWindows(plan)) wins.push(w);
    expect(wins.map((w) => w.samples.length)).toEqual([480000, 160000]);
    const w1 = wins[1].samples;
    const rms = (a: Float32Array) => Math.sqrt(a.reduce((s, v) => s + v * v, 0) / a.length);
    expect(rms(w1.subarray(3.05 * 16000, 3.45 * 16000))).toBeGreaterThan(0.1); // beep
    expect(rms(w1.subarray(2.0 * 16000, 2.9 * 16000))).toBeLessThan(0.01); // silence before it
  });

  it('short audio is zero-padded to the plan (≥ 1 s for audio-only)', async () => {
    const src = await openNodeMedia(join(OUT, 'audio_only.m4a'));
    const plan = planAudio({ audioDuration: 0.5, videoRealTime: null }, AUDIO); // first 0.5 s, padded to 1 s
    const wins = [];
    for await (const w of src.audioWindows(plan)) wins.push(w);
    expect(wins).toHaveLength(1);
    expect(wins[0].samples.length).toBe(16000);
  });

  it('stereo with different channels: channel 0 (default) is the left speech, the right 440 Hz tone is not in it; the mix is (L + R) / 2', async () => {
    const src = await openNodeMedia(join(OUT, 'stereo_lr.mp4'));
    expect(src.info.audio!.channels).toBe(2);
    const plan = planMedia(src.info, SAMPLING, AUDIO).audio!;
    const read = async (channel?: 0 | 'mix') => {
      const out = new Float32Array(plan.totalSamples);
      for await (const w of src.audioWindows(plan, channel === undefined ? undefined : { channel })) out.set(w.samples, w.start);
      return out;
    };
    const [def, c0, mix] = [await read(), await read(0), await read('mix')];
    expect(meanAbsDiff(new Uint8Array(def.buffer), new Uint8Array(c0.buffer))).toBe(0); // default = channel 0
    // the right channel on its own (ffmpeg's pan), to check the mix against
    const right = f32(join(OUT, 'stereo_lr.mp4'), ['-af', 'pan=mono|c0=c1', '-ar', '16000']).subarray(0, plan.totalSamples);
    const tone = (x: Float32Array) => goertzel(x.subarray(16000, 80000), 16000, 440);
    expect(tone(right)).toBeGreaterThan(0.25); // the 0.3 sine
    expect(tone(c0)).toBeLessThan(0.01); // not in channel 0
    expect(tone(mix)).toBeGreaterThan(0.12); // half of it in the mix
    expect(tone(mix)).toBeLessThan(0.18);
    const rms = (a: Float32Array) => Math.sqrt(a.reduce((s, v) => s + v * v, 0) / a.length);
    expect(rms(c0.subarray(8000, 32000))).toBeGreaterThan(0.02); // speech from 0.5 s
    let worst = 0;
    for (let i = 0; i < mix.length; i++) worst = Math.max(worst, Math.abs(mix[i] - (c0[i] + right[i]) / 2));
    expect(worst).toBeLessThan(1e-4); // resampling is linear: mix = (L + R) / 2
    await expect(src.audioWindows(plan, { channel: 1 as unknown as 0 }).next()).rejects.toThrow(/channel must be 0 or 'mix'/);
  });

  it('MPEG-4 Part 2 .mov: named mp4v (as the browser names it), and ffmpeg decodes it', async () => {
    const src = await openNodeMedia(join(OUT, 'mpeg4.mov'));
    expect(src.info.video!.codec).toBe('mp4v');
    const plan = planFrames(src.info.video!.timeline, SAMPLING);
    let n = 0;
    for await (const f of src.frames(plan)) n += f.image.width === 320 ? 1 : 0;
    expect(n).toBe(plan.indices.length);
  });

  for (const [file, exp] of Object.entries(manifest.broken as Record<string, { node: string[] }>)) {
    it(`${file} → ${exp.node.join(' | ') || 'opens (ffmpeg decodes it)'}`, async () => {
      const run = async () => {
        const src = await openNodeMedia(join(OUT, file));
        const plan = planMedia(src.info, SAMPLING, AUDIO);
        if (plan.frames) for await (const _ of src.frames(plan.frames)) void _;
        return src;
      };
      if (exp.node.length === 0) {
        await expect(run()).resolves.toBeTruthy();
        return;
      }
      const err = await run().then(
        () => null,
        (e) => e,
      );
      expect(err, `${file} must fail`).not.toBeNull();
      expect(exp.node).toContain(err.code);
      expect(err.message).toContain(file);
    });
  }
});
