/**
 * The H.264 non-reference skip (src/core/media/avc-ref.ts, OpenOptions.skipNonReference):
 * for every good fixture with video and for bframes.mp4 (x264 B-frames, ≈ 45 % of its
 * packets non-reference), the frames decoded with the skip and two video decoders (the
 * default) are byte for byte those decoded feeding every packet to one decoder (mediabunny as
 * it is), at the same timestamps. Needs: bash e2e/fixtures/make-fixtures.sh
 */
import { expect, test } from '@playwright/test';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, fetchBytes, loadManifest, runHarness } from './harness/run';

const manifest = loadManifest();
const files = ['bframes.mp4', ...manifest.good.filter((f) => manifest.facts[f].hasVideo)];

test.describe('non-reference H.264 pictures left out, two decoders: the same frames', () => {
  for (const file of files) {
    test(file, async ({ page }) => {
      test.skip(!existsSync(join(FIXTURES, file)), `${file} missing (make-fixtures.sh)`);
      const all = await runHarness(page, file, { raw: true, skipNonReference: false, videoDecoders: 1 });
      if (all.status !== 'done') throw new Error(`${file}: ${all.error.message}`);
      const want: Uint8Array[] = [];
      const wantPixels: Uint8Array[] = [];
      for (let i = 0; i < all.result.frames.length; i++) {
        want.push(await fetchBytes(page, 'rgb', i));
        wantPixels.push(await fetchBytes(page, 'pixels', i));
      }
      expect(all.result.frameStats!.skipped).toBe(0);
      const skip = await runHarness(page, file, { raw: true });
      if (skip.status !== 'done') throw new Error(`${file}: ${skip.error.message}`);
      expect(skip.result.frames.map((f) => f.frameTimestamp)).toEqual(all.result.frames.map((f) => f.frameTimestamp));
      expect(skip.result.frames.length).toBe(want.length);
      for (let i = 0; i < want.length; i++) {
        const got = await fetchBytes(page, 'rgb', i);
        expect(got.length, `frame ${i}`).toBe(want[i].length);
        expect(Buffer.compare(Buffer.from(got), Buffer.from(want[i])), `frame ${i} RGB bytes`).toBe(0);
        expect(Buffer.compare(Buffer.from(await fetchBytes(page, 'pixels', i)), Buffer.from(wantPixels[i])), `frame ${i} model pixels`).toBe(0);
      }
      const s = skip.result.frameStats!;
      console.log(JSON.stringify({ file, frames: want.length, withSkip: s, without: all.result.frameStats }));
      if (file === 'bframes.mp4') {
        // the planned frames sit mid-GOP: some non-reference pictures were on the way
        expect(s.skipped).toBeGreaterThan(0);
        expect(s.fed + s.skipped).toBe(all.result.frameStats!.fed);
      }
    });
  }
});
