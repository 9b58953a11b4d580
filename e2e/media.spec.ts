/**
 * Media ingestion in headless Chromium: each fixture goes through the real file input to
 * the worker (mediabunny + WebCodecs); frames and 16 kHz audio are checked against the
 * plan and against ffmpeg (src/core/media/node.ts) for the same timestamps.
 * Needs the fixtures: bash e2e/fixtures/make-fixtures.sh
 */
import { expect, test } from '@playwright/test';
import { join } from 'node:path';
import { openNodeMedia, type NodeMediaSource } from '../src/core/media/node';
import { detectScenes } from '../src/core/timed/scenes';
import { planAudio, planFrames } from '../src/core/media/plan';
import { blockRmsDiff } from '../src/core/media/resample';
import { meanAbsDiff, resizeBicubic } from '../src/core/features/pixels';
import { FIXTURES, fetchAudio, fetchBytes, loadManifest, runHarness, tonePower } from './harness/run';

const manifest = loadManifest();
const SAMPLING = { fps: 1, maxFrames: 30, minFrames: 2 };
const AUDIO = { sampleRate: 16000, windowSeconds: 30 };
/** Mean absolute RGB difference (0–255) allowed between Chromium's and ffmpeg's frames. */
const MAX_FRAME_MAD = 1.5;
/** RMS difference per 100 ms allowed between our resampler and ffmpeg's `-ac 1 -ar 16000`. */
const MAX_AUDIO_RMS = 0.01;

async function ffmpegAudio(src: NodeMediaSource, total: number, channel?: 0 | 'mix'): Promise<Float32Array> {
  const plan = planAudio({ audioSamples: total, videoRealTime: null, minSeconds: 0 }, AUDIO);
  const out = new Float32Array(total);
  for await (const w of src.audioWindows(plan, channel === undefined ? undefined : { channel })) out.set(w.samples, w.start);
  return out;
}

/** What the unsupported-codec message must name, per fixture. */
const CODEC_NAMED: Record<string, RegExp> = { 'hevc.mp4': /HEVC/, 'mpeg4.mov': /MPEG-4 Part 2 \(mp4v\)/ };

test.describe('good fixtures decode in the worker', () => {
  for (const file of manifest.good) {
    const facts = manifest.facts[file];
    test(file, async ({ page }) => {
      const out = await runHarness(page, file, { raw: true });
      if (out.status !== 'done') throw new Error(`${file}: ${out.error.code}: ${out.error.message}`);
      const r = out.result;
      const node = await openNodeMedia(join(FIXTURES, file));
      const log: Record<string, unknown> = { file, ms: out.ms, timings: r.timings };

      // ---- frames ----
      if (facts.hasVideo) {
        const v = r.info.video!;
        expect(v.timeline.frameCount, 'frame count (mediabunny vs ffprobe)').toBe(facts.frames);
        expect(v.timeline.avgFps).toBeCloseTo(facts.fps!, 1);
        expect([v.width, v.height]).toEqual([facts.width, facts.height]);
        // the plan made from ffprobe's timeline is the plan the browser made
        const expected = planFrames(node.info.video!.timeline, SAMPLING);
        expect(r.framePlan!.indices).toEqual(expected.indices);
        r.framePlan!.timestamps.forEach((t, i) => expect(t).toBeCloseTo(expected.timestamps[i], 4));
        expect(r.frames).toHaveLength(expected.indices.length);
        const mads: number[] = [];
        for (const f of r.frames) {
          // the decoded frame is the planned one
          expect(f.frameTimestamp).toBeCloseTo(f.timestamp, 3);
          expect([f.width, f.height]).toEqual([facts.width, facts.height]);
          expect([f.pixelsWidth, f.pixelsHeight]).toEqual([384, 384]);
          expect(f.thumbWidth).toBe(Math.min(160, facts.width!));
        }
        // compare up to 4 frames with ffmpeg's at the same timestamps
        const pick = [...new Set([0, 1, Math.floor(r.frames.length / 2), r.frames.length - 1])].filter((i) => i < r.frames.length);
        for (const i of pick) {
          const f = r.frames[i];
          const mine = await fetchBytes(page, 'rgb', i);
          const ref = await node.frameAt(f.timestamp);
          expect([ref.width, ref.height]).toEqual([f.width, f.height]);
          const mad = meanAbsDiff(mine, ref.data);
          mads.push(mad);
          expect(mad, `frame ${i} at ${f.timestamp.toFixed(3)} s vs ffmpeg`).toBeLessThan(MAX_FRAME_MAD);
          // and the model's 384×384 pixels are the PIL-bicubic resize of that frame
          const pixels = await fetchBytes(page, 'pixels', i);
          const mineResized = resizeBicubic({ width: f.width, height: f.height, data: mine }, 384, 384).data;
          expect(meanAbsDiff(pixels, mineResized)).toBe(0);
        }
        // frames differ from each other (not the same frame repeated), except 1-frame clips
        if (r.frames.length > 2) {
          const a = await fetchBytes(page, 'rgb', 0);
          const b = await fetchBytes(page, 'rgb', r.frames.length - 1);
          expect(meanAbsDiff(a, b)).toBeGreaterThan(1);
        }
        log.frameMad = mads.map((m) => +m.toFixed(3));
      } else {
        expect(r.frames).toHaveLength(0);
        expect(r.framePlan).toBeNull();
      }

      // ---- audio ----
      if (facts.hasAudio) {
        const realTime = r.framePlan?.realTime ?? null;
        // mediabunny's audio end agrees with ffprobe's within 50 ms (Vorbis packets); the plan follows from it
        expect(Math.abs(r.info.audio!.duration - facts.audioDuration!)).toBeLessThan(0.05);
        const plan = planAudio({ audioDuration: r.info.audio!.duration, videoRealTime: realTime }, AUDIO);
        expect(plan.totalSamples).toBeGreaterThanOrEqual(Math.round(16000 * Math.min(facts.audioDuration!, realTime ?? Infinity)) - 320);
        expect(r.audioPlan!.totalSamples).toBe(plan.totalSamples);
        expect(r.windows.map((w) => w.length)).toEqual(plan.windows.map((w) => w.length));
        const audio = await fetchAudio(page);
        expect(audio.length).toBe(plan.totalSamples);
        const ref = await ffmpegAudio(node, plan.totalSamples);
        const rms = blockRmsDiff(audio, ref, 1600);
        const worst = Math.max(...rms);
        log.audioWorstRms = +worst.toFixed(5);
        expect(worst, 'RMS difference per 100 ms vs ffmpeg').toBeLessThanOrEqual(MAX_AUDIO_RMS);
        // the audio is really there (not silence)
        expect(Math.max(...r.windows.map((w) => w.peak))).toBeGreaterThan(0.05);
        // beeps land where they were put: onset within 30 ms, in the right 30 s window
        for (const beep of facts.beeps) {
          if (beep.end > plan.totalSamples / 16000) continue;
          const block = 160; // 10 ms
          const p = tonePower(audio, 16000, beep.freq, block);
          const from = Math.floor((beep.start - 1) * 100);
          const to = Math.ceil((beep.end + 1) * 100);
          const seg = p.slice(from, to);
          const onset = (from + seg.findIndex((x) => x > 0.1)) / 100;
          expect(onset, `beep onset (s) in ${file}`).toBeGreaterThan(beep.start - 0.03);
          expect(onset).toBeLessThan(beep.start + 0.03);
          const win = Math.floor(onset / 30);
          expect(win).toBe(Math.floor(beep.start / 30));
          expect(r.windows[win].start / 16000).toBe(win * 30);
          (log.beeps ??= []) as number[];
          (log.beeps as number[]).push(onset);
        }
      } else {
        expect(r.windows).toHaveLength(0);
      }
      console.log(JSON.stringify(log));
    });
  }

  test('rotation is respected (portrait output)', async ({ page }) => {
    const out = await runHarness(page, 'rotated.mp4', { raw: true });
    if (out.status !== 'done') throw new Error(out.error.message);
    const v = out.result.info.video!;
    expect(v.rotation % 180).toBe(90);
    expect([out.result.frames[0].width, out.result.frames[0].height]).toEqual([240, 320]);
    // the same pixels as ffmpeg's autorotated frame, and not the other rotation
    const node = await openNodeMedia(join(FIXTURES, 'rotated.mp4'));
    const ref = await node.frameAt(out.result.frames[1].timestamp);
    const mine = await fetchBytes(page, 'rgb', 1);
    expect(meanAbsDiff(mine, ref.data)).toBeLessThan(MAX_FRAME_MAD);
    const flipped = new Uint8Array(ref.data.length); // 180° turned: the wrong direction
    const n = 240 * 320;
    for (let i = 0; i < n; i++) flipped.set(ref.data.subarray(i * 3, i * 3 + 3), (n - 1 - i) * 3);
    expect(meanAbsDiff(mine, flipped)).toBeGreaterThan(10);
  });

  test('the worker has no OfflineAudioContext (so the TS resampler is needed)', async ({ page }) => {
    const out = await runHarness(page, 'short.mp4');
    if (out.status !== 'done') throw new Error(out.error.message);
    expect(out.result.workerHasOfflineAudioContext).toBe(false);
    // 0.4 s clip: first and last of its 12 frames, 0.4 s of audio (padded to 1 s, cut to the video)
    expect(out.result.framePlan!.indices).toEqual([0, 11]);
    expect(out.result.audioPlan!.totalSamples).toBe(6400);
  });
});

test.describe('audio channel and concurrency', () => {
  test('stereo with different channels: channel 0 is the left speech, the mix is (L + R) / 2, both as ffmpeg', async ({ page }) => {
    const node = await openNodeMedia(join(FIXTURES, 'stereo_lr.mp4'));
    const tone = (x: Float32Array) => tonePower(x.subarray(16000, 80000), 16000, 440, 64000)[0]; // 1 … 5 s, one block
    const got: Record<string, Float32Array> = {};
    for (const channel of [0, 'mix'] as const) {
      const out = await runHarness(page, 'stereo_lr.mp4', { raw: true, channel });
      if (out.status !== 'done') throw new Error(out.error.message);
      const audio = await fetchAudio(page);
      const ref = await ffmpegAudio(node, audio.length, channel);
      const worst = Math.max(...blockRmsDiff(audio, ref, 1600));
      console.log(JSON.stringify({ file: 'stereo_lr.mp4', channel, worstRms: +worst.toFixed(5), tone440: +tone(audio).toFixed(4) }));
      expect(worst, `channel ${channel}: RMS difference per 100 ms vs ffmpeg`).toBeLessThanOrEqual(MAX_AUDIO_RMS);
      got[channel] = audio;
    }
    expect(tone(got[0])).toBeLessThan(0.01); // the right channel's 0.3 sine is not in channel 0
    expect(tone(got.mix)).toBeGreaterThan(0.12); // half of it is in the mix
    expect(tone(got.mix)).toBeLessThan(0.18);
    const rms = (a: Float32Array) => Math.sqrt(a.reduce((s, v) => s + v * v, 0) / a.length);
    expect(rms(got[0].subarray(8000, 32000))).toBeGreaterThan(0.02); // the speech is there
    // the default is channel 0
    const def = await runHarness(page, 'stereo_lr.mp4', { raw: true });
    if (def.status !== 'done') throw new Error(def.error.message);
    expect(meanAbsDiff(new Uint8Array((await fetchAudio(page)).buffer), new Uint8Array(got[0].buffer))).toBe(0);
  });

  for (const file of ['h264_aac.mp4', 'long40.mp4', 'vp9_opus.webm']) {
    test(`${file}: audio decoded while the frames are gives the same frames and samples as one after the other`, async ({ page }) => {
      const seq = await runHarness(page, file, { raw: true });
      if (seq.status !== 'done') throw new Error(seq.error.message);
      const seqAudio = new Uint8Array((await fetchAudio(page)).buffer);
      const seqFrames = [];
      for (let i = 0; i < seq.result.frames.length; i++) seqFrames.push(await fetchBytes(page, 'rgb', i));
      const con = await runHarness(page, file, { raw: true, concurrent: true });
      if (con.status !== 'done') throw new Error(con.error.message);
      expect(con.result.frames.map((f) => f.frameTimestamp)).toEqual(seq.result.frames.map((f) => f.frameTimestamp));
      expect(con.result.windows).toEqual(seq.result.windows);
      const conAudio = new Uint8Array((await fetchAudio(page)).buffer);
      expect(conAudio.length).toBe(seqAudio.length);
      expect(meanAbsDiff(conAudio, seqAudio)).toBe(0);
      for (let i = 0; i < seqFrames.length; i++) expect(meanAbsDiff(await fetchBytes(page, 'rgb', i), seqFrames[i]), `frame ${i}`).toBe(0);
      console.log(JSON.stringify({ file, audioPath: con.result.audioPath, sequential: seq.result.timings, concurrent: con.result.timings }));
      // the AAC files went through the grouped fast path (the probe passed on this Chromium), and still match ffmpeg above
      if (file.endsWith('.mp4')) expect(con.result.audioPath).toBe('AudioDecoder, AAC in groups of 16');
    });
  }
});

test.describe('long files', () => {
  test('2-hour file: probe + plan in the browser agree with ffprobe; audio streams window by window', async ({ page }) => {
    const facts = manifest.facts['long2h.mp4'];
    const out = await runHarness(page, 'long2h.mp4', { planOnly: true });
    if (out.status !== 'done') throw new Error(out.error.message);
    const r = out.result;
    expect(r.info.video!.timeline.frameCount).toBe(facts.frames);
    const node = await openNodeMedia(join(FIXTURES, 'long2h.mp4'));
    const expected = planFrames(node.info.video!.timeline, SAMPLING);
    expect(r.framePlan!.indices).toEqual(expected.indices);
    expect(r.framePlan!.indices).toHaveLength(30);
    expect(r.audioPlan!.windows.length).toBe(Math.ceil(Math.round(16000 * r.framePlan!.realTime) / 480000));
    expect(r.audioPlan!.windows.length).toBeGreaterThanOrEqual(240);
    // the first two 30 s windows arrive without decoding the other 118 minutes
    const t0 = Date.now();
    const part = await runHarness(page, 'long2h.mp4', { maxWindows: 2 });
    if (part.status !== 'done') throw new Error(part.error.message);
    expect(part.result.windows.map((w) => w.length)).toEqual([480000, 480000]);
    console.log(JSON.stringify({ file: 'long2h.mp4', openMs: r.timings.open, twoWindowsMs: part.result.timings.audio, wallMs: Date.now() - t0 }));
  });
});

test.describe('broken and unsupported inputs end in a specific error', () => {
  for (const [file, exp] of Object.entries(manifest.broken)) {
    test(`${file} (${exp.why})`, async ({ page }) => {
      const out = await runHarness(page, file, { timeoutMs: 60_000 });
      expect(out.status, `${file} must fail`).toBe('error');
      if (out.status !== 'error') return;
      console.log(JSON.stringify({ file, ms: out.ms, ...out.error }));
      expect(exp.browser).toContain(out.error.code);
      expect(out.error.message.length).toBeGreaterThan(30);
      expect(out.error.message).not.toMatch(/\n\s+at /); // no stack trace
      expect(out.error.message).toContain(file); // says which file
      if (out.error.code === 'media/unsupported-codec') {
        expect(out.error.message).toMatch(CODEC_NAMED[file]);
        expect(out.error.message).not.toMatch(/unknown/);
        expect(out.error.message).toMatch(/ffmpeg -i .* -c:v libx264/);
      }
    });
  }
});

test.describe('scene cuts', () => {
  test('scenes.mp4 in the worker: the cuts at 3, 7, 9.5 and 10.5 s and the segments ffmpeg\'s frames give', async ({ page }) => {
    const out = await runHarness(page, 'scenes.mp4', { scenes: true });
    if (out.status !== 'done') throw new Error(`${out.error.code}: ${out.error.message}`);
    const s = out.result.scenes!;
    // 30 fps at 2 fps: every 15th frame, 0, 0.5, …, 12.5 s; the cuts by make-fixtures.sh.
    s.samples.forEach((t, i) => expect(t).toBeCloseTo(i / 2, 3));
    expect(s.samples).toHaveLength(26);
    expect(s.cuts.map((c) => c.time)).toEqual(s.samples.filter((t) => [3, 7, 9.5, 10.5].some((cut) => Math.abs(t - cut) < 1e-3)));
    expect(s.segments.map((g) => [g.start, g.end].map((x) => +x.toFixed(3)))).toEqual([[0, 3], [3, 7], [7, 9.5], [9.5, 13]]);
    // The same scores as over ffmpeg's frames, within the decoders' pixel difference.
    const node = await detectScenes(await openNodeMedia(join(FIXTURES, 'scenes.mp4')));
    s.scores.forEach((x, i) => expect(Math.abs(x - node.scores[i])).toBeLessThan(0.02));
  });
});
