/**
 * Test helper: the tiny bundle's golden outputs (public/bundles/tiny/golden.json, written
 * by models/export from the PyTorch reference). Tests that use it skip, saying why, when
 * the bundle has not been generated.
 */

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { BundleManifest } from '../bundle/manifest.ts';
import type { Golden, Stats } from '../testing/golden.ts';

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

/** Stats as golden.json computes them: float64 sums over the float32 values, row-major. */
export function stats(values: Float32Array, shape: number[]): Stats {
  let sum = 0;
  let absSum = 0;
  for (const v of values) {
    sum += v;
    absSum += Math.abs(v);
  }
  const n = values.length;
  const at = [0, Math.floor(n / 7), Math.floor(n / 3), Math.floor(n / 2), Math.floor((2 * n) / 3), n - 1];
  return { shape, sum, absSum, first: [...values.subarray(0, 8)], at: at.map((i) => [i, values[i]]) };
}

/**
 * Sampled values within `tol`; sums within `sumTol` per element (errors of float32
 * rounding cancel, so the sums are held much tighter than n·tol).
 */
export function expectStatsClose(ours: Stats, ref: Stats, tol: number, sumTol = tol / 100): void {
  expect(ours.shape).toEqual(ref.shape);
  const n = ref.shape.reduce((a, b) => a * b, 1);
  expect(Math.abs(ours.sum - ref.sum)).toBeLessThan(n * sumTol);
  expect(Math.abs(ours.absSum - ref.absSum)).toBeLessThan(n * sumTol);
  ref.first.forEach((v, i) => expect(Math.abs(ours.first[i] - v)).toBeLessThan(tol));
  ref.at.forEach(([index, v], i) => {
    expect(ours.at[i][0]).toBe(index);
    expect(Math.abs(ours.at[i][1] - v)).toBeLessThan(tol);
  });
}
