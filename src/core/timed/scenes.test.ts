/**
 * Scene-change segments: the ffmpeg scene score on luma grids, the min/max segment rules,
 * and the real cuts of an ffmpeg-made video decoded through the Node media path
 * (e2e/fixtures/make-fixtures.sh scenes.mp4: red 0–3 s, testsrc2 3–7 s, blue 7–9.5 s,
 * green 9.5–10.5 s, SMPTE bars 10.5–13 s).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openNodeMedia } from '../media/node';
import type { MediaSource } from '../media/types';
import { MemoryMediaSource } from '../media/memory-source';
import { detectScenes, lumaGrid, scenePlan, SceneScorer, sceneSegments, type SceneReport } from './scenes';

const solid = (w: number, h: number, rgb: [number, number, number]) => {
  const data = new Uint8Array(w * h * 3);
  for (let i = 0; i < data.length; i += 3) data.set(rgb, i);
  return { width: w, height: h, data };
};

describe('the scene score (ffmpeg vf_select: min(mafd, |mafd − prev mafd|) / 100)', () => {
  it('scores a hard cut by its luma difference and steady change not at all', () => {
    // BT.601 luma by hand: red 0.299·255 = 76.245, blue 0.114·255 = 29.07, grey 100.
    expect(lumaGrid(solid(8, 6, [255, 0, 0]))[0]).toBeCloseTo(76.245, 3);
    expect(lumaGrid(solid(200, 100, [0, 0, 255]))).toHaveLength(64 * 64);
    const s = new SceneScorer();
    expect(s.push(lumaGrid(solid(8, 6, [255, 0, 0])))).toBe(0); // first sample
    expect(s.push(lumaGrid(solid(8, 6, [0, 0, 255])))).toBeCloseTo((76.245 - 29.07) / 100, 4); // mafd 47.175, prev 0
    // A steady fade: mafd 20 every step → |mafd − prev| = 0 after the first step.
    const f = new SceneScorer();
    const grey = (v: number) => lumaGrid(solid(4, 4, [v, v, v]));
    expect([f.push(grey(0)), f.push(grey(20)), f.push(grey(40)), f.push(grey(60))].map((x) => +x.toFixed(4))).toEqual([0, 0.2, 0, 0]);
  });
});

describe('sceneSegments: ordered, non-overlapping, covering; min and max lengths', () => {
  it('drops cuts closer than minSeconds to a boundary and splits scenes over maxSeconds evenly', () => {
    // By hand: cuts 3, 7, 9.5, 10.5 over 13 s; 10.5 is 1 s after 9.5 (< 2) → dropped.
    expect(sceneSegments([3, 7, 9.5, 10.5], 13, { minSeconds: 2, maxSeconds: 30 })).toEqual([
      { start: 0, end: 3 },
      { start: 3, end: 7 },
      { start: 7, end: 9.5 },
      { start: 9.5, end: 13 },
    ]);
    // maxSeconds 3: 3–7 → 3–5, 5–7; 9.5–13 → 9.5–11.25, 11.25–13.
    expect(sceneSegments([3, 7, 9.5, 10.5], 13, { minSeconds: 2, maxSeconds: 3 })).toEqual([
      { start: 0, end: 3 },
      { start: 3, end: 5 },
      { start: 5, end: 7 },
      { start: 7, end: 9.5 },
      { start: 9.5, end: 11.25 },
      { start: 11.25, end: 13 },
    ]);
    // A cut 1 s before the end would leave a sliver: dropped. No cuts: one scene, split by maxSeconds.
    expect(sceneSegments([12], 13, { minSeconds: 2, maxSeconds: 30 })).toEqual([{ start: 0, end: 13 }]);
    expect(sceneSegments([], 25, { minSeconds: 2, maxSeconds: 10 })).toEqual([
      { start: 0, end: 25 / 3 },
      { start: 25 / 3, end: 50 / 3 },
      { start: 50 / 3, end: 25 },
    ]);
    expect(() => sceneSegments([], 10, { minSeconds: 5, maxSeconds: 2 })).toThrow('minSeconds ≤ maxSeconds');
  });
});

describe('detectScenes on a real video (ffmpeg-made cuts, decoded by the Node media path)', () => {
  let media: MediaSource;
  let report: SceneReport;
  const fractions: number[] = [];
  beforeAll(async () => {
    media = await openNodeMedia('e2e/fixtures/out/scenes.mp4');
    report = await detectScenes(media, {}, (f) => fractions.push(f));
  });
  afterAll(() => media.close());

  it('finds the four cuts at their times (within one 0.5 s sampling step) and none inside the moving testsrc2', () => {
    expect(report.options).toEqual({ fps: 2, threshold: 0.3, minSeconds: 2, maxSeconds: 30 });
    // 30 fps, 2 fps → step round(30 / 2) = 15 frames: samples at 0, 0.5, …, 12.5 s (26 of them).
    expect(report.samples).toEqual(Array.from({ length: 26 }, (_, i) => i / 2));
    const truth = [3, 7, 9.5, 10.5];
    expect(report.cuts).toHaveLength(truth.length);
    for (const [i, cut] of report.cuts.entries()) {
      expect(cut.time).toBeGreaterThanOrEqual(truth[i]);
      expect(cut.time - truth[i]).toBeLessThan(0.5);
      expect(cut.score).toBeGreaterThan(0.3);
    }
    expect(report.duration).toBe(13);
    expect(report.segments).toEqual([
      { start: 0, end: 3 },
      { start: 3, end: 7 },
      { start: 7, end: 9.5 },
      { start: 9.5, end: 13 },
    ]);
    expect(fractions[fractions.length - 1]).toBe(1);
  });

  it('a video without a video track, and bad options, are refused with specific messages', async () => {
    const audioOnly = new MemoryMediaSource({ name: 'tone.wav', audio: { sampleRate: 16000, samples: new Float32Array(16000) } });
    await expect(detectScenes(audioOnly)).rejects.toMatchObject({ code: 'media/no-video-track', message: expect.stringContaining('“tone.wav” has no video track') as unknown });
    await expect(detectScenes(media, { threshold: 1.5 })).rejects.toThrow('between 0 and 1, got 1.5');
  });

  it('the Node side decodes the dense sample plan in one ffmpeg pass: the same frames as its per-frame seeks', async () => {
    const plan = scenePlan(media, 2);
    const seek = [];
    for await (const f of media.frames(plan)) seek.push(f);
    const pass = [];
    for await (const f of media.frames(plan, { sequential: true })) pass.push(f);
    expect(pass.map((f) => [f.index, f.frameIndex, f.timestamp])).toEqual(seek.map((f) => [f.index, f.frameIndex, f.timestamp]));
    expect(pass.map((f) => f.frameIndex)).toEqual(Array.from({ length: 26 }, (_, i) => 15 * i));
    for (const [i, f] of pass.entries()) expect(Buffer.compare(Buffer.from(f.image.data), Buffer.from(seek[i].image.data)), `frame ${i}`).toBe(0);
  });

  it('stops at the next sample when aborted (decode stage)', async () => {
    const abort = new AbortController();
    const err = await detectScenes(media, {}, (f) => f > 0.1 && abort.abort(), abort.signal).then(() => null, (e: unknown) => e);
    expect(err).toMatchObject({ code: 'runtime/interrupted', details: { stage: 'decode' } });
  });
});
