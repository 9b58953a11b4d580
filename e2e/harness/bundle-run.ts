/**
 * Test-only: loads a bundle by URL with the Cache API and summarizes what happened, for
 * e2e/bundle.spec.ts. Runs on the page (bundle.ts) and in a module worker
 * (bundle-worker.ts), as the app's worker would.
 */
import { type BundleProgress, type CacheEvent, UrlBundleSource, loadBundle } from '../../src/core/bundle';
import { type SerializedError, serializeError } from '../../src/core/errors';

export type LoadResult =
  | {
      ok: true;
      name: string;
      totalBytes: number;
      fromCache: boolean;
      /** Per file: whether its final progress event said fromCache. */
      files: Record<string, boolean>;
      cacheEvents: CacheEvent[];
      progressEvents: number;
      lastProgress: BundleProgress | null;
      /** overallLoaded never went down. */
      monotonic: boolean;
      /** Byte length of every graph's model, as handed out. */
      graphBytes: Record<string, number>;
      where: 'page' | 'worker';
    }
  | { ok: false; error: SerializedError; where: 'page' | 'worker' };

export async function runLoad(baseUrl: string, where: 'page' | 'worker'): Promise<LoadResult> {
  const cacheEvents: CacheEvent[] = [];
  const files: Record<string, boolean> = {};
  let progressEvents = 0;
  let lastProgress: BundleProgress | null = null;
  let monotonic = true;
  try {
    const source = new UrlBundleSource(baseUrl, { cache: true, onCacheEvent: (e) => cacheEvents.push(e) });
    const b = await loadBundle(source, {
      onProgress: (p) => {
        progressEvents++;
        if (lastProgress && p.overallLoaded < lastProgress.overallLoaded && !cacheEvents.some((e) => e.type === 'corrupt')) monotonic = false;
        lastProgress = p;
        files[p.file] = p.fromCache;
      },
    });
    const graphBytes: Record<string, number> = {};
    for (const g of b.graphs) graphBytes[g] = (await b.graph(g)).model.byteLength;
    return {
      ok: true,
      name: b.manifest.name,
      totalBytes: b.totalBytes,
      fromCache: b.fromCache,
      files,
      cacheEvents,
      progressEvents,
      lastProgress,
      monotonic,
      graphBytes,
      where,
    };
  } catch (e) {
    return { ok: false, error: serializeError(e), where };
  }
}
