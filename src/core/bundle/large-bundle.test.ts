/**
 * Multi-file bundles over HTTP into the Cache API (fake CacheStorage): streamed, verified
 * chunks handed out as Blobs, file-level resume, retries, quota, storage refusal, preflight
 * before any fetch, progress with speed and time left.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeBundle, makeFakeBundle } from './fake-bundle.testutil';
import { type BundleServer, startBundleServer } from './http-bundle-server.testutil';
import { type BundleProgress, loadBundle } from './load';
import { MemoryCacheStorage } from './memory-cache.testutil';
import { rejection } from './rejection.testutil';
import { BUNDLE_CACHE_NAME, type CacheEvent, type StorageManagerLike, type UrlBundleSourceOptions, UrlBundleSource, listCachedBundles } from './url-source';
import { CaptionError } from '../errors';

const CHUNKS = [300_000, 250_000, 120_001];
const DATA = 'onnx/decoder_model_merged.onnx_data';
const chunkPaths = [DATA, `${DATA}_1`, `${DATA}_2`];

let fake: FakeBundle;
let srv: BundleServer;
let storage: MemoryCacheStorage;
let events: CacheEvent[];
let quota: { quota: number; usage: number };
let persistCalls: number;

const manager: StorageManagerLike = {
  estimate: async () => quota,
  persist: async () => (persistCalls++, true),
  persisted: async () => false,
};

/** Every file is a "large" one (streamed into the cache, not re-hashed when read). */
const source = (o: UrlBundleSourceOptions = {}) =>
  new UrlBundleSource(srv.base, { cacheStorage: storage.asCacheStorage(), onCacheEvent: (e) => events.push(e), storageManager: manager, rehashCachedUpTo: 0, retryDelayMs: 1, ...o });
const entries = async () => (await storage.open(BUNDLE_CACHE_NAME)).entries;
const nonManifest = () => [...fake.files.keys()].filter((p) => p !== 'bundle.json');
const sum = (paths: string[]) => paths.reduce((n, p) => n + fake.files.get(p)!.byteLength, 0);

beforeAll(async () => {
  fake = await makeFakeBundle({ externalDataChunks: CHUNKS });
  srv = await startBundleServer(new Map(fake.files));
});
afterAll(() => srv.close());
beforeEach(() => {
  srv.requests.length = 0;
  srv.failNext.clear();
  srv.cutNext.clear();
  srv.sentBytes.clear();
  storage = new MemoryCacheStorage();
  events = [];
  quota = { quota: 10e9, usage: 1e9 };
  persistCalls = 0;
});

describe('a multi-chunk bundle through the Cache API', () => {
  it('hands every chunk out as a Blob from storage, in order, with the bytes the manifest names', async () => {
    const b = await loadBundle(source());
    const dec = await b.graph('decoder_model_merged');
    expect(dec.externalData.map((e) => e.path)).toEqual(chunkPaths.map((p) => p.slice('onnx/'.length)));
    for (const [i, e] of dec.externalData.entries()) {
      expect(e.data).toBeInstanceOf(Blob);
      expect(new Uint8Array(await (e.data as Blob).arrayBuffer())).toEqual(fake.files.get(chunkPaths[i]));
    }
    expect(dec.model).toEqual(fake.files.get('onnx/decoder_model_merged.onnx'));
    expect(events.filter((e) => e.type === 'stored').map((e) => (e as { path: string }).path).sort()).toEqual(nonManifest().sort());
    expect(events.find((e) => e.type === 'estimate')).toEqual({ type: 'estimate', missingBytes: sum(nonManifest()), missingFiles: nonManifest().length, availableBytes: 9e9 });
    expect(persistCalls).toBe(1);
  });

  it('a second visit downloads nothing but bundle.json and asks no storage question', async () => {
    await loadBundle(source());
    srv.requests.length = 0;
    events = [];
    persistCalls = 0;
    const progress: BundleProgress[] = [];
    const b = await loadBundle(source(), { onProgress: (p) => progress.push(p) });
    expect(srv.requests).toEqual(['/b/bundle.json']);
    expect(b.fromCache).toBe(true);
    expect(progress.at(-1)).toMatchObject({ overallLoaded: b.totalBytes, downloadedBytes: 0 });
    expect(events.find((e) => e.type === 'estimate')).toMatchObject({ missingBytes: 0, missingFiles: 0 });
    expect(persistCalls).toBe(0);
  });

  it('resumes after a failure mid-way: only the unfinished files are fetched again', async () => {
    // The second chunk answers 500 more times than the retries allow: the load fails there.
    srv.failNext.set(chunkPaths[1], [500, 4]);
    const err = await rejection(loadBundle(source()));
    expect(err.code).toBe('bundle/download-failed');
    expect(err.details.file).toBe(chunkPaths[1]);
    expect(events.filter((e) => e.type === 'retry')).toHaveLength(3);
    const before = new Set((await entries()).keys());
    expect(before.has(`${srv.base}${chunkPaths[0]}`)).toBe(true);
    expect(before.has(`${srv.base}${chunkPaths[1]}`)).toBe(false);

    // "Reload": a new source over the same storage.
    srv.requests.length = 0;
    const b = await loadBundle(source());
    const order = fake.manifest.graphs.decoder_model_merged;
    const finished = [...before].map((u) => u.slice(srv.base.length)).filter((p) => p !== 'bundle.json');
    const unfinished = nonManifest().filter((p) => !finished.includes(p));
    expect(unfinished).toContain(chunkPaths[1]);
    expect(srv.requests.sort()).toEqual(['/b/bundle.json', ...unfinished.map((p) => `/b/${p}`)].sort());
    expect((await b.graph('decoder_model_merged')).externalData).toHaveLength(order.externalData.length);
  });

  it('retries a connection cut mid-file and stores nothing partial', async () => {
    srv.cutNext.set(chunkPaths[0], 100_000);
    const seen: number[] = [];
    const b = await loadBundle(source(), { onProgress: (p) => p.file === chunkPaths[0] && seen.push(p.loaded) });
    expect(srv.count(chunkPaths[0])).toBe(2);
    expect(events.find((e) => e.type === 'retry')).toMatchObject({ path: chunkPaths[0], attempt: 1 });
    expect(seen.at(-1)).toBe(CHUNKS[0]);
    const stored = await (await b.graph('decoder_model_merged')).externalData[0].data;
    expect((stored as Blob).size).toBe(CHUNKS[0]);
  });

  it('an abort mid-file leaves no entry for that file', async () => {
    const ctl = new AbortController();
    srv.cutNext.set(chunkPaths[2], 60_000); // slow enough to abort inside it
    const err = await rejection(
      loadBundle(source({ retries: 0 }), {
        signal: ctl.signal,
        onProgress: (p) => {
          if (p.file === chunkPaths[2] && p.loaded > 0) ctl.abort();
        },
      }),
    );
    expect(err.code).toBe('runtime/interrupted');
    expect((await entries()).has(`${srv.base}${chunkPaths[2]}`)).toBe(false);
    expect((await entries()).has(`${srv.base}${chunkPaths[1]}`)).toBe(true);
  });

  it('never commits a chunk whose sha256 is wrong', async () => {
    const bad = fake.files.get(chunkPaths[1])!.slice();
    bad[1234] ^= 1;
    srv.files.set(chunkPaths[1], bad);
    try {
      const err = await rejection(loadBundle(source()));
      expect(err.code).toBe('bundle/integrity');
      expect(err.details).toMatchObject({ file: chunkPaths[1], expected: fake.manifest.graphs.decoder_model_merged.externalData[1].sha256 });
      expect((await entries()).has(`${srv.base}${chunkPaths[1]}`)).toBe(false);
    } finally {
      srv.files.set(chunkPaths[1], fake.files.get(chunkPaths[1])!);
    }
  });

  it('drops a large cached entry whose size changed and downloads it again', async () => {
    await loadBundle(source());
    const e = (await entries()).get(`${srv.base}${chunkPaths[2]}`)!;
    e.body = e.body.slice(0, 1000);
    srv.requests.length = 0;
    events = [];
    await loadBundle(source());
    expect(events.find((x) => x.type === 'corrupt')).toMatchObject({ path: chunkPaths[2] });
    expect(srv.requests).toEqual(['/b/bundle.json', `/b/${chunkPaths[2]}`]);
  });

  it('refuses before downloading when the quota is too small, naming needed and available bytes, leaving nothing', async () => {
    const need = sum(nonManifest());
    quota = { quota: 1_000_000, usage: 600_000 };
    const err = await rejection(loadBundle(source()));
    expect(err.code).toBe('bundle/quota');
    expect(err.details).toMatchObject({ neededBytes: need, availableBytes: 400_000, shortfallBytes: need - 400_000 });
    expect(err.message).toContain(`${need} bytes`);
    expect(err.message).toContain('400000 bytes');
    expect(srv.requests).toEqual(['/b/bundle.json']);
    expect((await entries()).size).toBe(0);
    expect(await listCachedBundles({ cacheStorage: storage.asCacheStorage() })).toEqual([]);
    expect(persistCalls).toBe(0);
  });

  it('counts only the missing files against the quota', async () => {
    srv.failNext.set(chunkPaths[2], [503, 1]);
    await rejection(loadBundle(source({ retries: 0 })));
    const missing = [chunkPaths[2]];
    quota = { quota: 2e6, usage: 2e6 - CHUNKS[2] };
    await loadBundle(source());
    expect(events.filter((e) => e.type === 'estimate').at(-1)).toMatchObject({ missingBytes: sum(missing), availableBytes: CHUNKS[2] });
  });

  it('when the storage refuses a large file mid-way, deletes what this load stored and says so', async () => {
    const cache = await storage.open(BUNDLE_CACHE_NAME);
    const put = cache.put.bind(cache);
    cache.put = async (req, res) => {
      if (String(typeof req === 'string' ? req : (req as Request).url).endsWith(chunkPaths[1])) {
        await res.arrayBuffer();
        throw new DOMException('Quota exceeded', 'QuotaExceededError');
      }
      return put(req, res);
    };
    const err = await rejection(loadBundle(source({ memoryFallbackBytes: 200_000 })));
    expect(err.code).toBe('bundle/quota');
    expect(err.details.file).toBe(chunkPaths[1]);
    expect(events.find((e) => e.type === 'cleaned')).toBeTruthy();
    const left = [...(await entries()).keys()].filter((u) => !u.endsWith('bundle.json'));
    expect(left).toEqual([]);
  });

  it('reports download speed and time left with bytes', async () => {
    let t = 0;
    const progress: BundleProgress[] = [];
    await loadBundle(source(), { clock: () => (t += 10), onProgress: (p) => progress.push(p) });
    const last = progress.at(-1)!;
    expect(last.downloadedBytes).toBe(sum(nonManifest()));
    expect(last.etaSeconds).toBe(0);
    const mid = progress.filter((p) => p.downloadedBytes > 0 && p.overallLoaded < p.overallTotal);
    expect(mid.length).toBeGreaterThan(5);
    for (const p of mid) {
      expect(p.bytesPerSecond).toBeGreaterThan(0);
      expect(p.etaSeconds).toBeCloseTo((p.overallTotal - p.overallLoaded) / p.bytesPerSecond, 6);
    }
    for (let i = 1; i < progress.length; i++) expect(progress[i].downloadedBytes).toBeGreaterThanOrEqual(progress[i - 1].downloadedBytes);
  });

  it('runs the preflight before fetching anything but bundle.json', async () => {
    const err = await rejection(
      loadBundle(source(), {
        preflight: (m) => {
          throw new CaptionError('bundle/unsupported', `no room for ${m.name}`);
        },
      }),
    );
    expect(err.code).toBe('bundle/unsupported');
    expect(srv.requests).toEqual(['/b/bundle.json']);
    expect(events.some((e) => e.type === 'estimate')).toBe(false);
  });
});

describe('the engine refuses what the device cannot run before downloading', () => {
  it('a 7B-shaped decoder whose tensor exceeds maxBufferSize: only bundle.json is fetched', async () => {
    const { InProcessEngine } = await import('../engine');
    const m = structuredClone(fake.manifest);
    const dec = m.graphs.decoder_model_merged;
    dec.externalData = [1.9e9, 1.9e9, 0.5e9].map((bytes, i) => ({ path: `onnx/big.onnx_data${i ? `_${i}` : ''}`, bytes, sha256: 'a'.repeat(64) }));
    dec.largestTensorBytes = 1.09e9;
    const own = await startBundleServer(new Map([...fake.files, ['bundle.json', new TextEncoder().encode(JSON.stringify(m))]]));
    try {
      const engine = new InProcessEngine<string, never>({
        ort: {} as never,
        platform: 'web',
        source: (url) => new UrlBundleSource(url, { cacheStorage: storage.asCacheStorage(), storageManager: manager }),
        openMedia: async () => {
          throw new Error('unused');
        },
        adapter: async () => ({ vendor: 'v', architecture: 'a', device: '', description: '', isFallback: false, shaderF16: true, maxBufferSize: 2 ** 30 }),
      });
      const err = await rejection(engine.load(own.base));
      expect(err.code).toBe('bundle/unsupported');
      expect(err.message).toMatch(/maxBufferSize \(1073741824 bytes\)/);
      expect(own.requests).toEqual(['/b/bundle.json']);
      expect([...(await entries()).keys()].filter((u) => !u.endsWith('bundle.json'))).toEqual([]);
      expect(await listCachedBundles({ cacheStorage: storage.asCacheStorage() })).toEqual([]);
    } finally {
      await own.close();
    }
  });
});
