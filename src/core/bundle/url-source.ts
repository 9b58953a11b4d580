/**
 * `UrlBundleSource`: a bundle served over HTTP(S) under one base URL, with the files kept
 * in the Cache API (`caches`, in windows and workers) so that a second visit downloads
 * nothing but the small bundle.json.
 *
 * Cache policy
 * - Keys are the files' absolute URLs in the cache `salmonn-bundles-v1`.
 * - Only bytes whose size and sha256 match the manifest are stored; each entry records
 *   the sha256 it was stored for (header `x-salmonn-sha256`).
 * - A cached file is re-hashed on every read; an entry stored for another hash (the
 *   bundle changed) or whose bytes no longer match is deleted and downloaded again.
 * - bundle.json is always asked of the network first (revalidated), so a changed bundle
 *   is noticed; the cached copy is used only when the network fails (offline), and it
 *   names the bundle in `listCachedBundles`.
 * - Where there is no Cache API (Node, insecure contexts) or it fails (quota), files are
 *   simply downloaded.
 */
import { CaptionError, checkAborted } from '../errors';
import { sha256Cached } from './hash';
import {
  type BundleSource,
  type ExpectedFile,
  type ReadProgress,
  MANIFEST_FILE,
  checkRelativePath,
  interrupted,
  isAbortError,
  missingFileError,
  readStream,
} from './source';
import { manifestFiles, validateManifest } from './validate';

export const BUNDLE_CACHE_NAME = 'salmonn-bundles-v1';
const SHA_HEADER = 'x-salmonn-sha256';
const BYTES_HEADER = 'x-salmonn-bytes';

export type CacheEvent =
  | { type: 'hit'; path: string }
  | { type: 'miss'; path: string }
  /** The entry was stored for another sha256 (the bundle changed): deleted. */
  | { type: 'stale'; path: string }
  /** The cached bytes no longer match their sha256: deleted, downloaded again. */
  | { type: 'corrupt'; path: string; expected: string; actual: string }
  | { type: 'stored'; path: string }
  | { type: 'store-failed'; path: string; reason: string }
  /** bundle.json came from the cache because the network failed. */
  | { type: 'offline-manifest'; path: string };

export interface UrlBundleSourceOptions {
  /** Use the Cache API when there is one (default true). */
  cache?: boolean;
  /** What the cache did, file by file (for logs and tests). */
  onCacheEvent?: (e: CacheEvent) => void;
  /** Injected CacheStorage (tests); default `globalThis.caches`. */
  cacheStorage?: CacheStorage;
  /** Injected fetch (tests); default `globalThis.fetch`. */
  fetch?: typeof fetch;
}

/**
 * Absolute base URL with a trailing slash. A relative one resolves against `location`
 * (in a worker: the worker script's URL), so give workers absolute or root-relative URLs.
 */
export function normalizeBaseUrl(baseUrl: string): string {
  const here = (globalThis as { location?: { href?: string } }).location?.href;
  let url: URL;
  try {
    url = here ? new URL(baseUrl, here) : new URL(baseUrl);
  } catch {
    throw new CaptionError('bundle/not-found', `"${baseUrl}" is not a valid bundle URL. Give the full address of the bundle's folder (the one holding bundle.json).`, { url: baseUrl });
  }
  url.search = '';
  url.hash = '';
  let href = url.href;
  if (href.endsWith(`/${MANIFEST_FILE}`)) href = href.slice(0, -MANIFEST_FILE.length);
  if (!href.endsWith('/')) href += '/';
  return href;
}

function defaultCaches(): CacheStorage | undefined {
  try {
    return (globalThis as { caches?: CacheStorage }).caches;
  } catch {
    return undefined; // some sandboxed contexts throw on access
  }
}

async function openCache(storage: CacheStorage | undefined): Promise<Cache | null> {
  if (!storage) return null;
  try {
    return await storage.open(BUNDLE_CACHE_NAME);
  } catch {
    return null;
  }
}

export class UrlBundleSource implements BundleSource {
  readonly label: string;
  readonly baseUrl: string;
  private readonly useCache: boolean;
  private readonly onCacheEvent?: (e: CacheEvent) => void;
  private readonly storage?: CacheStorage;
  private readonly fetchFn: typeof fetch;
  private cachePromise: Promise<Cache | null> | null = null;

  constructor(baseUrl: string, options: UrlBundleSourceOptions = {}) {
    this.baseUrl = normalizeBaseUrl(baseUrl);
    this.label = this.baseUrl;
    this.useCache = options.cache ?? true;
    this.onCacheEvent = options.onCacheEvent;
    this.storage = options.cacheStorage ?? defaultCaches();
    const f = options.fetch ?? globalThis.fetch;
    this.fetchFn = f.bind(globalThis);
  }

  /** A bundle path under the base URL; an absolute http(s) URL (a preset's public file) as it is. */
  urlOf(path: string): string {
    if (/^https?:\/\//.test(path)) return new URL(path).href;
    checkRelativePath(path, this.label);
    return new URL(path, this.baseUrl).href;
  }

  private cache(): Promise<Cache | null> {
    if (!this.useCache) return Promise.resolve(null);
    this.cachePromise ??= openCache(this.storage);
    return this.cachePromise;
  }

  async read(path: string, onProgress?: ReadProgress, signal?: AbortSignal, expected?: ExpectedFile): Promise<Uint8Array> {
    checkAborted(signal, 'bundle', { file: path });
    const url = this.urlOf(path);
    const cache = await this.cache();

    if (path === MANIFEST_FILE) return this.readManifest(url, cache, onProgress, signal);

    if (cache && expected) {
      const hit = await this.fromCache(cache, url, path, expected, onProgress, signal);
      if (hit) return hit;
    }
    const data = await this.download(url, path, expected?.bytes ?? 0, onProgress, signal);
    if (cache && expected) await this.store(cache, url, path, data, expected);
    return data;
  }

  private async readManifest(url: string, cache: Cache | null, onProgress?: ReadProgress, signal?: AbortSignal): Promise<Uint8Array> {
    try {
      const data = await this.download(url, MANIFEST_FILE, 0, onProgress, signal, 'no-cache');
      if (cache) {
        try {
          await cache.put(url, new Response(data as Uint8Array<ArrayBuffer>, { headers: { 'content-type': 'application/json' } }));
        } catch {
          // not worth failing a load over
        }
      }
      return data;
    } catch (e) {
      if (cache && e instanceof CaptionError && e.code === 'bundle/download-failed') {
        const hit = await cache.match(url).catch(() => undefined);
        if (hit) {
          this.onCacheEvent?.({ type: 'offline-manifest', path: MANIFEST_FILE });
          const data = new Uint8Array(await hit.arrayBuffer());
          onProgress?.(data.byteLength, data.byteLength, true);
          return data;
        }
      }
      throw e;
    }
  }

  private async fromCache(
    cache: Cache,
    url: string,
    path: string,
    expected: ExpectedFile,
    onProgress: ReadProgress | undefined,
    signal: AbortSignal | undefined,
  ): Promise<Uint8Array | null> {
    let hit: Response | undefined;
    try {
      hit = await cache.match(url);
    } catch {
      return null;
    }
    if (!hit) {
      this.onCacheEvent?.({ type: 'miss', path });
      return null;
    }
    const storedFor = hit.headers.get(SHA_HEADER);
    if (storedFor !== null && storedFor !== expected.sha256) {
      this.onCacheEvent?.({ type: 'stale', path });
      await cache.delete(url).catch(() => false);
      return null;
    }
    let data: Uint8Array;
    try {
      data = hit.body
        ? await readStream(hit.body, expected.bytes, (n) => onProgress?.(n, Math.max(expected.bytes, n), true), signal, path)
        : new Uint8Array(await hit.arrayBuffer());
    } catch (e) {
      if (e instanceof CaptionError && e.code === 'runtime/interrupted') throw e;
      // An unreadable entry is as good as a corrupt one.
      data = new Uint8Array(0);
    }
    const actual = data.byteLength === expected.bytes ? await sha256Cached(data) : `(${data.byteLength} bytes, expected ${expected.bytes})`;
    if (actual !== expected.sha256) {
      this.onCacheEvent?.({ type: 'corrupt', path, expected: expected.sha256, actual });
      await cache.delete(url).catch(() => false);
      return null;
    }
    onProgress?.(data.byteLength, data.byteLength, true);
    this.onCacheEvent?.({ type: 'hit', path });
    return data;
  }

  private async store(cache: Cache, url: string, path: string, data: Uint8Array, expected: ExpectedFile): Promise<void> {
    // Only verified bytes go into the cache.
    if (data.byteLength !== expected.bytes) return;
    if ((await sha256Cached(data)) !== expected.sha256) return;
    try {
      await cache.put(
        url,
        new Response(data as Uint8Array<ArrayBuffer>, {
          headers: {
            'content-type': 'application/octet-stream',
            'content-length': String(data.byteLength),
            [SHA_HEADER]: expected.sha256,
            [BYTES_HEADER]: String(data.byteLength),
          },
        }),
      );
      this.onCacheEvent?.({ type: 'stored', path });
    } catch (e) {
      // Quota exceeded or a cache gone away: the load goes on without caching.
      this.onCacheEvent?.({ type: 'store-failed', path, reason: e instanceof Error ? e.message : String(e) });
    }
  }

  private async download(
    url: string,
    path: string,
    expectedBytes: number,
    onProgress: ReadProgress | undefined,
    signal: AbortSignal | undefined,
    cacheMode: RequestCache = 'default',
  ): Promise<Uint8Array<ArrayBuffer>> {
    let res: Response;
    try {
      res = await this.fetchFn(url, { signal, cache: cacheMode });
    } catch (e) {
      if (signal?.aborted || isAbortError(e)) throw interrupted(path);
      throw new CaptionError(
        'bundle/download-failed',
        `Could not download "${path}" from ${this.label} (${e instanceof Error ? e.message : String(e)}). Check your connection and that the server is up, then try again.`,
        { file: path, url, source: this.label },
      );
    }
    const contentType = res.headers.get('content-type') ?? '';
    // A single-page-app server answers unknown paths with its index.html (status 200).
    const htmlFallback = res.ok && contentType.includes('text/html') && !/\.html?$/i.test(path);
    if (res.status === 404 || res.status === 410 || htmlFallback) {
      res.body?.cancel().catch(() => {});
      throw missingFileError(
        path,
        this.label,
        path === MANIFEST_FILE
          ? 'Check the address: it must be the folder that holds bundle.json.'
          : 'Upload the whole bundle folder again (or export it again), then reload.',
        { url, status: res.status },
      );
    }
    if (!res.ok) {
      res.body?.cancel().catch(() => {});
      throw new CaptionError(
        'bundle/download-failed',
        `Could not download "${path}" from ${this.label}: the server answered ${res.status} ${res.statusText}. Try again later, or check the address and the server's permissions.`,
        { file: path, url, status: res.status, source: this.label },
      );
    }
    // Content-Length counts the encoded bytes when the server compresses: then the
    // manifest's size is the better total.
    const encoded = (res.headers.get('content-encoding') ?? 'identity') !== 'identity';
    const header = Number(res.headers.get('content-length') ?? NaN);
    const total = !encoded && Number.isFinite(header) && header >= 0 ? header : expectedBytes;
    try {
      if (!res.body) {
        const data = new Uint8Array(await res.arrayBuffer());
        onProgress?.(data.byteLength, Math.max(total, data.byteLength), false);
        return data;
      }
      const data = await readStream(res.body, total || expectedBytes, (n) => onProgress?.(n, Math.max(total, n), false), signal, path);
      onProgress?.(data.byteLength, data.byteLength, false);
      return data;
    } catch (e) {
      if (e instanceof CaptionError) throw e;
      if (signal?.aborted || isAbortError(e)) throw interrupted(path);
      throw new CaptionError(
        'bundle/download-failed',
        `The download of "${path}" from ${this.label} broke off (${e instanceof Error ? e.message : String(e)}). Check your connection and try again; files already verified stay cached.`,
        { file: path, url, source: this.label },
      );
    }
  }
}

// ---------------------------------------------------------------------------------------
// Cached-bundle management for the UI.

export interface CachedBundle {
  /** The bundle's base URL (ends with "/"). */
  baseUrl: string;
  /** The manifest's name (the base URL when the cached manifest is unreadable). */
  name: string;
  /** Bytes of the cached files (bundle.json excluded). */
  bytes: number;
  /** Number of cached files (bundle.json excluded). */
  files: number;
  /** Whether every file the cached manifest names is in the cache. */
  complete: boolean;
}

function entryBytes(res: Response | undefined): Promise<number> {
  if (!res) return Promise.resolve(0);
  const h = Number(res.headers.get(BYTES_HEADER) ?? res.headers.get('content-length') ?? NaN);
  if (Number.isFinite(h) && h >= 0) return Promise.resolve(h);
  return res.blob().then((b) => b.size);
}

/** Bundles with files in the Cache API, largest first. Empty where there is no Cache API. */
export async function listCachedBundles(options: { cacheStorage?: CacheStorage } = {}): Promise<CachedBundle[]> {
  const storage = options.cacheStorage ?? defaultCaches();
  if (!storage || !(await storage.has(BUNDLE_CACHE_NAME).catch(() => false))) return [];
  const cache = await openCache(storage);
  if (!cache) return [];
  const keys = (await cache.keys()).map((r) => r.url);
  const bases = keys.filter((u) => u.endsWith(`/${MANIFEST_FILE}`)).map((u) => u.slice(0, -MANIFEST_FILE.length));
  // Each file belongs to the longest base that prefixes it.
  const owner = (u: string) => bases.filter((b) => u.startsWith(b)).sort((a, b) => b.length - a.length)[0];

  const out: CachedBundle[] = [];
  for (const base of bases) {
    const fileKeys = keys.filter((u) => u !== base + MANIFEST_FILE && owner(u) === base);
    let name = base;
    let complete = false;
    try {
      const res = await cache.match(base + MANIFEST_FILE);
      const m = res ? validateManifest(await res.json()) : null;
      if (m) {
        name = m.name;
        complete = manifestFiles(m).every((f) => fileKeys.includes(new URL(f.path, base).href));
      }
    } catch {
      // an unreadable or outdated cached manifest: list the bundle by its URL
    }
    let bytes = 0;
    for (const u of fileKeys) bytes += await entryBytes(await cache.match(u).catch(() => undefined));
    out.push({ baseUrl: base, name, bytes, files: fileKeys.length, complete });
  }
  return out.sort((a, b) => b.bytes - a.bytes);
}

/**
 * Deletes every cached entry of the bundle at `baseUrl` (its manifest and files; not
 * those of another bundle nested below it). Returns the number of entries deleted.
 */
export async function deleteCachedBundle(baseUrl: string, options: { cacheStorage?: CacheStorage } = {}): Promise<number> {
  const storage = options.cacheStorage ?? defaultCaches();
  if (!storage || !(await storage.has(BUNDLE_CACHE_NAME).catch(() => false))) return 0;
  const cache = await openCache(storage);
  if (!cache) return 0;
  const base = normalizeBaseUrl(baseUrl);
  const keys = (await cache.keys()).map((r) => r.url);
  const nested = keys
    .filter((u) => u.endsWith(`/${MANIFEST_FILE}`) && u.startsWith(base) && u !== base + MANIFEST_FILE)
    .map((u) => u.slice(0, -MANIFEST_FILE.length));
  let n = 0;
  for (const u of keys) {
    if (!u.startsWith(base) || nested.some((b) => u.startsWith(b))) continue;
    if (await cache.delete(u)) n++;
  }
  return n;
}
