import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CaptionError } from '../errors';
import { type FakeBundle, makeFakeBundle } from './fake-bundle.testutil';
import { type BundleProgress, loadBundle } from './load';
import { MemoryCacheStorage } from './memory-cache.testutil';
import { BUNDLE_CACHE_NAME, type CacheEvent, UrlBundleSource, deleteCachedBundle, listCachedBundles, normalizeBaseUrl } from './url-source';
import { rejection } from './rejection.testutil';

/** A loopback server for one fake bundle under /b/, counting requests per path. */
interface TestServer {
  base: string;
  origin: string;
  requests: string[];
  /** Answer unknown paths with index.html (200), as a single-page-app server does. */
  spa: boolean;
  /** Send no Content-Length (chunked). */
  chunked: boolean;
  /** Status overrides by path. */
  status: Map<string, number>;
  /** Paths whose body stalls after the first chunk until the client goes away. */
  stall: Set<string>;
  files: Map<string, Uint8Array>;
  close(): Promise<void>;
}

async function startServer(files: Map<string, Uint8Array>): Promise<TestServer> {
  const state = { requests: [] as string[], spa: false, chunked: false, status: new Map<string, number>(), stall: new Set<string>(), files };
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    state.requests.push(path);
    const rel = path.startsWith('/b/') ? path.slice(3) : null;
    const forced = rel !== null ? state.status.get(rel) : undefined;
    if (forced) {
      res.writeHead(forced).end('nope');
      return;
    }
    const data = rel !== null ? state.files.get(rel) : undefined;
    if (!data) {
      if (state.spa) res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>app</title>');
      else res.writeHead(404).end('not found');
      return;
    }
    const headers: Record<string, string> = { 'content-type': rel!.endsWith('.json') ? 'application/json' : 'application/octet-stream' };
    if (!state.chunked) headers['content-length'] = String(data.byteLength);
    res.writeHead(200, headers);
    if (state.stall.has(rel!)) {
      res.write(data.subarray(0, 1024));
      return; // never ends; the client aborts
    }
    // several writes so that progress has steps
    const step = Math.max(1, Math.ceil(data.byteLength / 8));
    for (let i = 0; i < data.byteLength; i += step) res.write(data.subarray(i, i + step));
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return Object.assign(state, {
    origin,
    base: `${origin}/b/`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  });
}

let fake: FakeBundle;
let srv: TestServer;

beforeAll(async () => {
  fake = await makeFakeBundle({ externalDataBytes: 200_000 });
  srv = await startServer(new Map(fake.files));
});
afterAll(() => srv.close());
beforeEach(() => {
  srv.requests.length = 0;
  srv.spa = false;
  srv.chunked = false;
  srv.status.clear();
  srv.stall.clear();
  srv.files = new Map(fake.files);
});

const fileCount = () => fake.files.size - 1;

describe('UrlBundleSource without a Cache API', () => {
  it('normalizes the base URL', () => {
    expect(normalizeBaseUrl('http://h/x/tiny')).toBe('http://h/x/tiny/');
    expect(normalizeBaseUrl('http://h/x/tiny/bundle.json?v=1')).toBe('http://h/x/tiny/');
    expect(() => normalizeBaseUrl('not a url')).toThrow(CaptionError);
  });

  it('loads a bundle over HTTP with progress from Content-Length', async () => {
    const events: BundleProgress[] = [];
    const b = await loadBundle(new UrlBundleSource(srv.base), { onProgress: (p) => events.push(p) });
    expect(b.source).toBe(srv.base);
    expect((await b.graph('decoder_model_merged')).externalData[0].data).toEqual(fake.files.get('onnx/decoder_model_merged.onnx_data'));
    expect(b.fromCache).toBe(false);
    expect(srv.requests).toHaveLength(fake.files.size);
    expect(events.at(-1)!.overallLoaded).toBe(b.totalBytes);
    for (let i = 1; i < events.length; i++) expect(events[i].overallLoaded).toBeGreaterThanOrEqual(events[i - 1].overallLoaded);
    expect(events.filter((e) => e.file === 'onnx/decoder_model_merged.onnx_data').length).toBeGreaterThan(2);
  });

  it('uses the manifest sizes for progress when the server sends no Content-Length', async () => {
    srv.chunked = true;
    const raw: [number, number][] = [];
    const src = new UrlBundleSource(srv.base);
    const data = await src.read('onnx/decoder_model_merged.onnx_data', (l, t) => raw.push([l, t]), undefined, { bytes: 200_000, sha256: 'x' });
    expect(data.byteLength).toBe(200_000);
    expect(raw.every(([l, t]) => t === 200_000 && l <= t)).toBe(true);
    expect(raw.at(-1)).toEqual([200_000, 200_000]);
  });

  it('reports 404 on a file as missing-file and on bundle.json as not-found', async () => {
    srv.files.delete('onnx/audio_encoder.onnx');
    const err = await rejection(loadBundle(new UrlBundleSource(srv.base)));
    expect(err.code).toBe('bundle/missing-file');
    expect(err.message).toContain('onnx/audio_encoder.onnx');
    expect(err.details.status).toBe(404);

    const none = await rejection(loadBundle(new UrlBundleSource(`${srv.origin}/elsewhere/`)));
    expect(none.code).toBe('bundle/not-found');
    expect(none.message).toContain(`${srv.origin}/elsewhere/`);
  });

  it("treats a single-page-app server's index.html as a missing file", async () => {
    srv.spa = true;
    srv.files.delete('tokenizer.json');
    const err = await rejection(loadBundle(new UrlBundleSource(srv.base)));
    expect(err.code).toBe('bundle/missing-file');
    expect(err.details.file).toBe('tokenizer.json');
    expect((await rejection(loadBundle(new UrlBundleSource(`${srv.origin}/spa/`)))).code).toBe('bundle/not-found');
  });

  it('reports server errors and unreachable servers as download-failed', async () => {
    srv.status.set('golden.json', 503);
    const err = await rejection(loadBundle(new UrlBundleSource(srv.base, { retryDelayMs: 1 })));
    expect(err.code).toBe('bundle/download-failed');
    expect(err.message).toContain('golden.json');
    expect(err.message).toContain('503');

    const dead = await startServer(new Map());
    const deadBase = dead.base;
    await dead.close();
    const gone = await rejection(loadBundle(new UrlBundleSource(deadBase, { retryDelayMs: 1 })));
    expect(gone.code).toBe('bundle/download-failed');
    expect(gone.message).toContain('bundle.json');
  });

  it('detects a corrupted download', async () => {
    const bad = fake.files.get('onnx/embed_tokens.onnx')!.slice();
    bad[7] ^= 1;
    srv.files.set('onnx/embed_tokens.onnx', bad);
    const err = await rejection(loadBundle(new UrlBundleSource(srv.base)));
    expect(err.code).toBe('bundle/integrity');
    expect(err.details.file).toBe('onnx/embed_tokens.onnx');
  });

  // Without the abort the stalled download never ends and the test times out.
  it('aborts a download in flight', async () => {
    srv.stall.add('onnx/audio_aligner.onnx');
    const ctl = new AbortController();
    const err = await rejection(
      loadBundle(new UrlBundleSource(srv.base), {
        signal: ctl.signal,
        onProgress: (p) => {
          if (p.file === 'onnx/audio_aligner.onnx' && p.loaded > 0) ctl.abort();
        },
      }),
    );
    expect(err.code).toBe('runtime/interrupted');
    expect(err.details.file).toBe('onnx/audio_aligner.onnx');
  });
});

describe('UrlBundleSource with a Cache API', () => {
  let storage: MemoryCacheStorage;
  let events: CacheEvent[];
  const source = () => new UrlBundleSource(srv.base, { cacheStorage: storage.asCacheStorage(), onCacheEvent: (e) => events.push(e) });
  const entries = async () => (await storage.open(BUNDLE_CACHE_NAME)).entries;

  beforeEach(() => {
    storage = new MemoryCacheStorage();
    events = [];
  });

  it('downloads once, then loads everything but bundle.json from the cache', async () => {
    const first = await loadBundle(source());
    expect(first.fromCache).toBe(false);
    expect(events.filter((e) => e.type === 'stored')).toHaveLength(fileCount());
    expect((await entries()).size).toBe(fake.files.size);

    srv.requests.length = 0;
    events = [];
    const progress: BundleProgress[] = [];
    const second = await loadBundle(source(), { onProgress: (p) => progress.push(p) });
    expect(second.fromCache).toBe(true);
    expect(srv.requests).toEqual(['/b/bundle.json']);
    expect(events.filter((e) => e.type === 'hit')).toHaveLength(fileCount());
    expect(progress.every((p) => p.fromCache)).toBe(true);
    expect(progress.at(-1)!.overallLoaded).toBe(second.totalBytes);
    expect((await second.graph('vision_encoder')).model).toEqual((await first.graph('vision_encoder')).model);
  });

  it('never caches bytes that fail verification', async () => {
    const bad = fake.files.get('onnx/embed_tokens.onnx')!.slice();
    bad[0] ^= 1;
    srv.files.set('onnx/embed_tokens.onnx', bad);
    await rejection(loadBundle(source()));
    const keys = [...(await entries()).keys()];
    expect(keys).not.toContain(`${srv.base}onnx/embed_tokens.onnx`);
    expect(keys).toContain(`${srv.base}tokenizer.json`);
  });

  it('deletes and downloads again a cached file whose bytes changed', async () => {
    await loadBundle(source());
    const url = `${srv.base}onnx/audio_encoder.onnx`;
    const entry = (await entries()).get(url)!;
    entry.body[10] ^= 0xff;
    srv.requests.length = 0;
    events = [];
    const b = await loadBundle(source());
    expect(b.fromCache).toBe(false);
    expect(srv.requests).toEqual(['/b/bundle.json', '/b/onnx/audio_encoder.onnx']);
    expect(events.find((e) => e.type === 'corrupt')).toMatchObject({ path: 'onnx/audio_encoder.onnx', expected: fake.manifest.graphs.audio_encoder.sha256 });
    expect((await b.graph('audio_encoder')).model).toEqual(fake.files.get('onnx/audio_encoder.onnx'));
    // repaired: the next load is all cache again
    srv.requests.length = 0;
    expect((await loadBundle(source())).fromCache).toBe(true);
    expect(srv.requests).toEqual(['/b/bundle.json']);
  });

  it('drops entries stored for another version of the bundle', async () => {
    await loadBundle(source());
    const next = await makeFakeBundle({ seed: 2, externalDataBytes: 200_000 });
    // same paths, new bytes for one graph
    const path = 'onnx/vision_encoder.onnx';
    srv.files.set(path, next.files.get(path)!);
    const m = structuredClone(fake.manifest);
    Object.assign(m.graphs.vision_encoder, { bytes: next.manifest.graphs.vision_encoder.bytes, sha256: next.manifest.graphs.vision_encoder.sha256 });
    srv.files.set('bundle.json', new TextEncoder().encode(JSON.stringify(m)));
    srv.requests.length = 0;
    events = [];
    const b = await loadBundle(source());
    expect(events.find((e) => e.type === 'stale')).toMatchObject({ path });
    expect(srv.requests).toEqual(['/b/bundle.json', `/b/${path}`]);
    expect((await b.graph('vision_encoder')).model).toEqual(next.files.get(path));
  });

  it('loads from the cache when the server is gone (offline)', async () => {
    const own = await startServer(new Map(fake.files));
    const src = () => new UrlBundleSource(own.base, { cacheStorage: storage.asCacheStorage(), onCacheEvent: (e) => events.push(e) });
    await loadBundle(src());
    await own.close();
    const b = await loadBundle(src());
    expect(b.fromCache).toBe(true);
    expect(events.some((e) => e.type === 'offline-manifest')).toBe(true);
  });

  it('still loads when the cache is full', async () => {
    (await storage.open(BUNDLE_CACHE_NAME)).failPuts = true;
    const b = await loadBundle(source());
    expect(b.totalBytes).toBeGreaterThan(0);
    expect(events.filter((e) => e.type === 'store-failed')).toHaveLength(fileCount());
  });

  it('lists and deletes cached bundles', async () => {
    expect(await listCachedBundles({ cacheStorage: storage.asCacheStorage() })).toEqual([]);
    await loadBundle(source(), { graphs: ['embed_tokens'] });
    let list = await listCachedBundles({ cacheStorage: storage.asCacheStorage() });
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ baseUrl: srv.base, name: 'fake', complete: false, files: 4 });
    await loadBundle(source());
    list = await listCachedBundles({ cacheStorage: storage.asCacheStorage() });
    const bytes = [...fake.files].filter(([p]) => p !== 'bundle.json').reduce((s, [, d]) => s + d.byteLength, 0);
    expect(list[0]).toMatchObject({ baseUrl: srv.base, name: 'fake', complete: true, files: fileCount(), bytes });

    expect(await deleteCachedBundle(srv.base, { cacheStorage: storage.asCacheStorage() })).toBe(fake.files.size);
    expect(await listCachedBundles({ cacheStorage: storage.asCacheStorage() })).toEqual([]);
    expect((await entries()).size).toBe(0);
  });

  it('with cache: false, neither reads nor writes the cache', async () => {
    const src = new UrlBundleSource(srv.base, { cache: false, cacheStorage: storage.asCacheStorage() });
    await loadBundle(src);
    expect(storage.caches.size).toBe(0);
  });
});
