/**
 * The audio in its own worker (src/core/media/audio-worker.ts, OpenOptions.audioWorker; the
 * harness's default, as in the app): for every good fixture with audio, the samples are byte
 * for byte those of the in-thread path, the same windows and decode path; stopping early
 * (the consumer breaks off) and errors terminate the worker; errors carry the in-thread
 * path's code and message. Needs: bash e2e/fixtures/make-fixtures.sh
 */
import { expect, test } from '@playwright/test';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, fetchBytes, loadManifest, runHarness } from './harness/run';

const manifest = loadManifest();
const cases: { file: string; channel?: 'mix' }[] = [
  ...manifest.good.filter((f) => manifest.facts[f].hasAudio).map((file) => ({ file })),
  { file: 'stereo_lr.mp4', channel: 'mix' },
  { file: 'surround51.mp4', channel: 'mix' },
];

test.describe('audio worker: the same samples as on the media thread', () => {
  for (const { file, channel } of cases) {
    test(`${file}${channel ? ` (${channel})` : ''}`, async ({ page }) => {
      const here = await runHarness(page, file, { raw: true, channel, audioWorker: false });
      if (here.status !== 'done') throw new Error(`${file}: ${here.error.message}`);
      expect(here.result.audioInWorker).toBe(false);
      expect(here.result.audioWorkers.spawned).toBe(0);
      const want = await fetchBytes(page, 'audio');
      const there = await runHarness(page, file, { raw: true, channel, concurrent: true });
      if (there.status !== 'done') throw new Error(`${file}: ${there.error.message}`);
      expect(there.result.audioInWorker).toBe(true);
      expect(there.result.audioWorkers).toEqual({ spawned: 1, terminated: 1 }); // gone once the windows are taken
      expect(there.result.audioPath).toBe(here.result.audioPath);
      expect(there.result.windows).toEqual(here.result.windows);
      const got = await fetchBytes(page, 'audio');
      expect(got.length).toBe(want.length);
      expect(want.length).toBeGreaterThan(0);
      expect(Buffer.compare(Buffer.from(got), Buffer.from(want)), 'samples byte for byte').toBe(0);
      console.log(JSON.stringify({ file, channel, audioPath: there.result.audioPath, samples: want.length / 4, inThread: here.result.timings, worker: there.result.timings }));
    });
  }
});

test.describe('audio worker: stopped and failing', () => {
  test('a consumer that stops after 2 windows of a 2-hour file terminates the worker', async ({ page }) => {
    test.skip(!existsSync(join(FIXTURES, 'long2h.mp4')), 'long2h.mp4 missing (make-fixtures.sh)');
    const out = await runHarness(page, 'long2h.mp4', { maxWindows: 2, skipFrames: true });
    if (out.status !== 'done') throw new Error(out.error.message);
    expect(out.result.windows.map((w) => w.length)).toEqual([480000, 480000]);
    expect(out.result.audioInWorker).toBe(true);
    expect(out.result.audioWorkers).toEqual({ spawned: 1, terminated: 1 });
  });

  test('corrupt AAC data: the worker fails with the in-thread error and is terminated', async ({ page }) => {
    // audio_only.m4a with the middle half of its mdat payload scrambled (container intact)
    const bytes = new Uint8Array(readFileSync(join(FIXTURES, 'audio_only.m4a')));
    const view = new DataView(bytes.buffer);
    let at = 0;
    while (at + 8 <= bytes.length && String.fromCharCode(...bytes.subarray(at + 4, at + 8)) !== 'mdat') at += view.getUint32(at);
    const size = view.getUint32(at);
    let x = 12345;
    for (let i = at + 8 + (size >> 2); i < at + size - (size >> 2); i++) bytes[i] ^= (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
    mkdirSync(join(process.cwd(), '.test-output'), { recursive: true });
    const file = join(process.cwd(), '.test-output', 'audio_corrupt.m4a');
    writeFileSync(file, bytes);
    const here = await runHarness(page, file, { audioWorker: false, timeoutMs: 60_000 });
    const there = await runHarness(page, file, { timeoutMs: 60_000 });
    console.log(JSON.stringify({ file: 'audio_corrupt.m4a', inThread: here.status === 'error' ? here.error : 'done', worker: there.status === 'error' ? there.error : 'done' }));
    expect(here.status).toBe('error');
    expect(there.status).toBe('error');
    if (here.status !== 'error' || there.status !== 'error') return;
    expect(['media/corrupt', 'media/decode-failed']).toContain(there.error.code);
    expect(there.error.code).toBe(here.error.code);
    expect(there.error.message).toBe(here.error.message);
    expect(there.error.details).toEqual(here.error.details);
    expect(there.audioWorkers).toEqual({ spawned: 1, terminated: 1 });
  });
});
