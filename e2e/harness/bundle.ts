/** Test-only page script for e2e/bundle.spec.ts: exposes `window.bundleHarness`. */
import { type CachedBundle, deleteCachedBundle, listCachedBundles, sha256Hex } from '../../src/core/bundle';
import { type LoadResult, runLoad } from './bundle-run';

export interface BundleHarness {
  load(baseUrl: string, options?: { worker?: boolean }): Promise<LoadResult>;
  list(): Promise<CachedBundle[]>;
  remove(baseUrl: string): Promise<number>;
  /** sha256 of a cache entry's bytes (null when absent). */
  cachedSha256(url: string): Promise<string | null>;
}

function loadInWorker(baseUrl: string): Promise<LoadResult> {
  const worker = new Worker(new URL('./bundle-worker.ts', import.meta.url), { type: 'module' });
  return new Promise<LoadResult>((resolve, reject) => {
    worker.onmessage = (ev: MessageEvent<LoadResult>) => {
      worker.terminate();
      resolve(ev.data);
    };
    worker.onerror = (ev) => {
      worker.terminate();
      reject(new Error(ev.message || 'worker failed'));
    };
    worker.postMessage({ baseUrl });
  });
}

const harness: BundleHarness = {
  load: (baseUrl, options) => (options?.worker ? loadInWorker(baseUrl) : runLoad(baseUrl, 'page')),
  list: () => listCachedBundles(),
  remove: (baseUrl) => deleteCachedBundle(baseUrl),
  async cachedSha256(url) {
    const cache = await caches.open('salmonn-bundles-v1');
    const res = await cache.match(url);
    return res ? sha256Hex(new Uint8Array(await res.arrayBuffer())) : null;
  },
};

(globalThis as unknown as { bundleHarness: BundleHarness }).bundleHarness = harness;
document.getElementById('status')!.textContent = 'ready';
