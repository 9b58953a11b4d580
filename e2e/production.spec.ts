import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { expect, test } from '@playwright/test';
import type { GoldenResult } from './harness/golden-worker';

/**
 * The production build (`vite build`, served by `vite preview` with the same isolation
 * headers): the page is cross-origin isolated, onnxruntime-web's threaded WASM loads from
 * the static /ort/ files, and the runtime gives the reference tokens. Bundling ORT's
 * files into the app made session creation hang here (ENVIRONMENT.md).
 */
const PREVIEW = process.env.E2E_PREVIEW_URL!;

test('production build: the page is isolated and names its backend', async ({ page }) => {
  await page.goto(PREVIEW + '/');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('SALMONN Captioner');
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
  const res = await page.request.get(PREVIEW + '/ort/ort-wasm-simd-threaded.asyncify.wasm');
  expect(res.headers()['content-type']).toBe('application/wasm');
  expect(res.headers()['cross-origin-embedder-policy']).toBe('require-corp');
  const jspi = await page.request.get(PREVIEW + '/ort/ort-wasm-simd-threaded.jspi.wasm');
  expect(jspi.headers()['content-type']).toBe('application/wasm');
});

test('production build: /ort/ holds exactly the two builds the worker loads, and every wasm file is the installed onnxruntime-web', () => {
  // dist-e2e/: the build `vite preview --mode e2e` serves (playwright.config.ts).
  expect(readdirSync('dist-e2e/ort').sort()).toEqual(['asyncify.mjs', 'asyncify.wasm', 'jspi.mjs', 'jspi.wasm'].map((f) => `ort-wasm-simd-threaded.${f}`));
  const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
  const installed = new Set(['asyncify', 'jspi'].map((b) => sha(`node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.${b}.wasm`)));
  const wasm = readdirSync('dist-e2e', { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.wasm'));
  expect(wasm.length).toBeGreaterThanOrEqual(2);
  for (const f of wasm) expect(installed.has(sha(join('dist-e2e', f))), f).toBe(true);
});

/** Files under `dir` that `keep` accepts, relative and '/'-separated. */
function walk(dir: string, keep: (path: string) => boolean, root = dir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return walk(p, keep, root);
    const rel = relative(root, p).split('\\').join('/');
    return keep(rel) ? [rel] : [];
  });
}
const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

test('production build: one wasm per ORT build the worker loads (asyncify, JSPI), no bundler copies — the tree\'s only onnxruntime-web, under /ort/', () => {
  // the build the preview serves (vite build --mode e2e → dist-e2e/, the same plugins as dist/)
  const builds = ['asyncify', 'jspi'];
  expect(walk('dist-e2e', (p) => p.endsWith('.wasm')).sort()).toEqual(builds.map((b) => `ort/ort-wasm-simd-threaded.${b}.wasm`));
  for (const b of builds) expect(sha256(`dist-e2e/ort/ort-wasm-simd-threaded.${b}.wasm`), b).toBe(sha256(`node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.${b}.wasm`));
  // one copy in the installed tree too (npm overrides pin @huggingface/transformers' onnxruntime-web to ours)
  const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as { packages: Record<string, { version?: string }> };
  const copies = Object.keys(lock.packages).filter((p) => p.endsWith('node_modules/onnxruntime-web'));
  expect(copies).toEqual(['node_modules/onnxruntime-web']);
  expect(lock.packages['node_modules/onnxruntime-web'].version).toBe((JSON.parse(readFileSync('node_modules/onnxruntime-web/package.json', 'utf8')) as { version: string }).version);
});

test('production build: threaded WASM runs the golden cases', async ({ page }) => {
  await page.goto(PREVIEW + '/e2e/harness/golden.html');
  await expect(page.getByTestId('status')).toHaveText('ready');
  const result: GoldenResult = await page.evaluate(() => window.runGolden({ prefer: 'wasm', cases: ['synthetic_4.5s', 'synthetic_6.5s'], marginTolerance: 1e-3 }));
  expect(result.error).toBeUndefined();
  expect(result.isolated).toBe(true);
  const cores = await page.evaluate(() => navigator.hardwareConcurrency);
  expect(result.threads).toBe(Math.min(4, cores));
  expect(result.runs).toHaveLength(8);
  for (const run of result.runs) expect(run.ids, run.name).toEqual(run.expectedIds);
});
