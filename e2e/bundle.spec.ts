import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type Page, expect, test } from '@playwright/test';
import { type FakeBundle, makeFakeBundle } from '../src/core/bundle/fake-bundle.testutil';
import { writeFakeBundle } from '../src/core/bundle/fake-bundle-fs.testutil';
import type { BundleHarness } from './harness/bundle';
import type { LoadResult } from './harness/bundle-run';

/**
 * Loading a bundle by URL in real Chromium, with the Cache API: the second visit downloads
 * nothing but bundle.json, and a corrupted cache entry is noticed and repaired. The fake
 * bundle is written under public/bundles/test-* (git-ignored) and removed afterwards.
 */

const NAME = `test-e2e-${process.pid}`;
const DIR = join('public', 'bundles', NAME);
const BASE_PATH = `/bundles/${NAME}/`;
const TINY = join('public', 'bundles', 'tiny', 'bundle.json');

let fake: FakeBundle;

test.beforeAll(async ({ request }) => {
  fake = await makeFakeBundle({ name: 'e2e fake', externalDataBytes: 3_000_000, graphBytes: (_n, i) => 200_000 * (i + 1) });
  await writeFakeBundle(DIR, fake);
  // Vite learns of new public files from its watcher, one by one: wait until it serves
  // every one (an unknown path gets index.html).
  const deadline = Date.now() + 30_000;
  for (const path of fake.files.keys()) {
    for (;;) {
      const res = await request.head(BASE_PATH + path);
      if (res.ok() && !(res.headers()['content-type'] ?? '').includes('text/html')) break;
      if (Date.now() > deadline) throw new Error(`the dev server does not serve ${BASE_PATH}${path}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
});

test.afterAll(async () => {
  await rm(DIR, { recursive: true, force: true });
});

/** Requests the page (and its workers) make under a path, by pathname. */
function track(page: Page, under: string): string[] {
  const seen: string[] = [];
  page.on('request', (req) => {
    const path = new URL(req.url()).pathname;
    if (path.startsWith(under)) seen.push(path);
  });
  return seen;
}

async function open(page: Page): Promise<void> {
  await page.goto('/e2e/harness/bundle.html');
  await expect(page.getByTestId('status')).toHaveText('ready');
}

const harness = (page: Page) => ({
  load: (baseUrl: string, worker = false) =>
    page.evaluate(([u, w]) => (globalThis as unknown as { bundleHarness: BundleHarness }).bundleHarness.load(u, { worker: w }), [baseUrl, worker] as const),
  list: () => page.evaluate(() => (globalThis as unknown as { bundleHarness: BundleHarness }).bundleHarness.list()),
  remove: (baseUrl: string) => page.evaluate((u) => (globalThis as unknown as { bundleHarness: BundleHarness }).bundleHarness.remove(u), baseUrl),
  cachedSha256: (url: string) => page.evaluate((u) => (globalThis as unknown as { bundleHarness: BundleHarness }).bundleHarness.cachedSha256(u), url),
});

function ok(r: LoadResult): Extract<LoadResult, { ok: true }> {
  if (!r.ok) throw new Error(`load failed: ${r.error.code}: ${r.error.message}`);
  return r;
}

const filePaths = () => [...fake.files.keys()].filter((p) => p !== 'bundle.json');

test('a second load comes entirely from the Cache API', async ({ page, baseURL }) => {
  await open(page);
  const base = new URL(BASE_PATH, baseURL).href;
  const h = harness(page);
  const requests = track(page, BASE_PATH);

  const first = ok(await h.load(base));
  expect(first.name).toBe('e2e fake');
  expect(first.fromCache).toBe(false);
  expect(first.monotonic).toBe(true);
  expect(first.lastProgress).toMatchObject({ overallLoaded: first.totalBytes, overallTotal: first.totalBytes });
  expect(first.cacheEvents.filter((e) => e.type === 'stored').map((e) => e.path).sort()).toEqual(filePaths().sort());
  expect(requests.filter((p) => !p.endsWith('/bundle.json')).sort()).toEqual(filePaths().map((p) => BASE_PATH + p).sort());

  requests.length = 0;
  const second = ok(await h.load(base));
  expect(second.fromCache).toBe(true);
  expect(Object.values(second.files).every(Boolean)).toBe(true);
  expect(Object.keys(second.files).sort()).toEqual(filePaths().sort());
  expect(second.totalBytes).toBe(first.totalBytes);
  expect(second.graphBytes).toEqual(first.graphBytes);
  // only the manifest is asked of the network (to notice a changed bundle)
  expect(requests).toEqual([`${BASE_PATH}bundle.json`]);

  const listed = (await h.list()).find((b) => b.baseUrl === base);
  expect(listed).toMatchObject({ name: 'e2e fake', files: filePaths().length, bytes: first.totalBytes, complete: true });

  // the app's worker sees the same cache
  requests.length = 0;
  const inWorker = ok(await h.load(base, true));
  expect(inWorker.where).toBe('worker');
  expect(inWorker.fromCache).toBe(true);
  expect(requests.filter((p) => !p.endsWith('/bundle.json'))).toEqual([]);

  expect(await h.remove(base)).toBe(fake.files.size);
  expect((await h.list()).find((b) => b.baseUrl === base)).toBeUndefined();
});

test('a corrupted cache entry is detected, deleted and downloaded again', async ({ page, baseURL }) => {
  await open(page);
  const base = new URL(BASE_PATH, baseURL).href;
  const h = harness(page);
  const requests = track(page, BASE_PATH);
  ok(await h.load(base));

  const victim = 'onnx/audio_encoder.onnx';
  const url = base + victim;
  const expected = fake.manifest.graphs.audio_encoder.sha256;
  expect(await h.cachedSha256(url)).toBe(expected);
  // wrong bytes of the right size, put straight into the cache from the page
  await page.evaluate(
    async ([u, n]) => {
      const cache = await caches.open('salmonn-bundles-v1');
      const junk = new Uint8Array(n).fill(0x42);
      await cache.put(u, new Response(junk, { headers: { 'content-type': 'application/octet-stream' } }));
    },
    [url, fake.manifest.graphs.audio_encoder.bytes] as const,
  );
  expect(await h.cachedSha256(url)).not.toBe(expected);

  requests.length = 0;
  const repaired = ok(await h.load(base));
  expect(repaired.cacheEvents.filter((e) => e.type === 'corrupt')).toEqual([
    expect.objectContaining({ path: victim, expected }),
  ]);
  expect(repaired.files[victim]).toBe(false);
  expect(repaired.fromCache).toBe(false);
  expect(requests.sort()).toEqual([`${BASE_PATH}bundle.json`, BASE_PATH + victim].sort());
  expect(await h.cachedSha256(url)).toBe(expected);

  requests.length = 0;
  const after = ok(await h.load(base));
  expect(after.fromCache).toBe(true);
  expect(requests).toEqual([`${BASE_PATH}bundle.json`]);
});

test('a URL without a bundle says so', async ({ page, baseURL }) => {
  await open(page);
  const r = await harness(page).load(new URL('/bundles/test-does-not-exist/', baseURL).href);
  expect(r.ok).toBe(false);
  if (r.ok) return;
  expect(r.error.code).toBe('bundle/not-found');
  expect(r.error.message).toContain('bundle.json');
});

test('the tiny bundle loads twice, the second time from the cache', async ({ page, baseURL }) => {
  test.skip(!existsSync(TINY), 'public/bundles/tiny is not built (npm run models:tiny)');
  await open(page);
  const base = new URL('/bundles/tiny/', baseURL).href;
  const h = harness(page);
  const requests = track(page, '/bundles/tiny/');
  const first = ok(await h.load(base));
  expect(first.totalBytes).toBeGreaterThan(0);
  requests.length = 0;
  const second = ok(await h.load(base));
  expect(second.fromCache).toBe(true);
  expect(requests).toEqual(['/bundles/tiny/bundle.json']);
  await h.remove(base);
});
