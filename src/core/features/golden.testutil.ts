/**
 * Test helper: the tiny bundle's golden outputs (public/bundles/tiny/golden.json, written
 * by models/export from the PyTorch reference). Tests that use it skip, saying why, when
 * the bundle has not been generated.
 */

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { BundleManifest } from '../bundle/manifest.ts';
import { statsMismatch, type Golden, type Stats } from '../testing/golden.ts';

export { stats } from '../testing/golden.ts';
export type { Golden, GoldenCase, GoldenRun, Stats } from '../testing/golden.ts';

export const TINY_DIR = 'public/bundles/tiny';
const GOLDEN = join(TINY_DIR, 'golden.json');
const MANIFEST = join(TINY_DIR, 'bundle.json');

if (!existsSync(GOLDEN) || !existsSync(MANIFEST)) {
  throw new Error(`${GOLDEN} is absent: generate the tiny bundle first (npm run models:tiny)`);
}

export function loadGolden(): { golden: Golden; manifest: BundleManifest } {
  return {
    golden: JSON.parse(readFileSync(GOLDEN, 'utf8')) as Golden,
    manifest: JSON.parse(readFileSync(MANIFEST, 'utf8')) as BundleManifest,
  };
}

/** Reads a file of the tiny bundle. */
export function readTiny(path: string): Buffer {
  return readFileSync(join(TINY_DIR, path));
}

/** Fails the test at the first statistic that differs (see statsMismatch). */
export function expectStatsClose(ours: Stats, ref: Stats, tol: number, sumTol = tol / 100): void {
  expect(statsMismatch(ours, ref, tol, sumTol)).toBeNull();
}
