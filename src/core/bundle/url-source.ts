/**
 * `UrlBundleSource`: a bundle served over HTTP(S) under one base URL, with the files kept
 * in the Cache API (`caches`, in windows and workers) so that a second visit downloads
 * nothing but the small bundle.json.
 *
 * Cache policy
 * - Keys are the files' absolute URLs in the cache `salmonn-bundles-v1`.
 * - Only bytes whose size and sha256 match the manifest are stored; each entry records
 *   the sha256 it was stored for (header `x-salmonn-sha256`).
 * - Large files stream from the network into the cache (`fetchFile`): each chunk is hashed
 *   as it passes (incremental SHA-256, sha256.ts) and the entry is committed only when size
 *   and sha256 match — a failed or aborted download leaves no entry (Cache.put is atomic),
 *   and a finished file is never fetched again (file-level resume after a reload or error).
 *   WebCrypto has no streaming digest, so hashing at download time, once, is what bounds
 *   memory: the entry then records the sha256 it was verified for.
 * - A cached file of at most `rehashCachedUpTo` bytes (64 MiB) is re-hashed on every load;
 *   a larger one is trusted on its recorded sha256 and byte size (re-reading gigabytes on
 *   every visit would cost a minute). An entry stored for another hash (the bundle
 *   changed) or whose bytes no longer match is deleted and downloaded again.
 * - Graph chunks are handed to onnxruntime as the cache entry's Blob (disk-backed), never
 *   copied into one app-made buffer.
 * - Network errors and 5xx answers are retried (`retries`, backoff ×4 from `retryDelayMs`).
 * - Before downloading, `prepare` holds the bytes still missing against
 *   `navigator.storage.estimate()` (`bundle/quota` names both) and asks for persistent
 *   storage (`navigator.storage.persist()`).
 * - Why the Cache API rather than OPFS: it works the same in windows and workers, its
 *   puts are atomic (nothing half-written to clean up), its response Blobs are disk-backed
 *   and go to onnxruntime as they are, and keys are the files' URLs (listing and deleting
 *   per bundle are key scans). OPFS would add byte-range resume inside a file, which
 *   file-level resume over ≤ 1.9 GB chunks does not need.
 * - bundle.json is always asked of the network first (revalidated), so a changed bundle
 *   is noticed; the cached copy is used only when the network fails (offline), and it
 *   names the bundle in `listCachedBundles`.
 * - Where there is no Cache API (Node, insecure contexts) or it fails (quota), files are
 *   simply downloaded.
 */
import { CaptionError, checkAborted } from '../errors';
import { sha256Cached } from './hash';
import { hashMismatch, sizeMismatch } from './load';
import type { BundleFile } from './manifest';
import { formatBytes } from './preflight';
import { Sha256 } from './sha256';
import {
  type BundleSource,
  type ExpectedFile,
  type ReadProgress,
  type StoredFile,
  MANIFEST_FILE,
  blobFile,
  memoryFile,
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
  | { type: 'offline-manifest'; path: string }
  /** A download failed and is tried again after `delayMs`. */
  | { type: 'retry'; path: string; attempt: number; delayMs: number; reason: string }
  /** What `prepare` found: bytes still to download and the storage left (null: unknown). */
  | { type: 'estimate'; missingBytes: number; missingFiles: number; availableBytes: number | null }
  /** navigator.storage.persist()'s answer. */
  | { type: 'persist'; granted: boolean }
  /** Entries this load stored, deleted after the storage ran out. */
  | { type: 'cleaned'; paths: string[] };

/** The part of `navigator.storage` the source uses. */
export interface StorageManagerLike {
  estimate?(): Promise<{ quota?: number; usage?: number }>;
  persist?(): Promise<boolean>;
  persisted?(): Promise<boolean>;
}

export interface UrlBundleSourceOptions {
  /** Use the Cache API when there is one (default true). */
  cache?: boolean;
  /** What the cache did, file by file (for logs and tests). */
  onCacheEvent?: (e: CacheEvent) => void;
  /** Injected CacheStorage (tests); default `globalThis.caches`. */
  cacheStorage?: CacheStorage;
  /** Injected fetch (tests); default `globalThis.fetch`. */
  fetch?: typeof fetch;
  /** Injected storage manager (tests); default `navigator.storage`. */
  storageManager?: StorageManagerLike | null;
  /** Tries after a network error or 5xx answer (default 3). */
  retries?: number;
  /** First retry delay, ×4 per retry (default 500 ms). */
  retryDelayMs?: number;
  /** Cached files up to this size are re-hashed on every load (default 64 MiB). */
  rehashCachedUpTo?: number;
  /**
   * When the cache refuses a file, files up to this size are kept in memory instead and
   * the load goes on (default 256 MiB); a larger one ends the load with `bundle/quota`.
   */
  memoryFallbackBytes?: number;
}

function defaultStorageManager(): StorageManagerLike | null {
  try {
    return (globalThis as { navigator?: { storage?: StorageManagerLike } }).navigator?.storage ?? null;
  } catch {
    return null;
  }
}

/** Aborts with `runtime/interrupted` or resolves after `ms`. */
function sleep(ms: number, signal: AbortSignal | undefined, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(interrupted(path));
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(interrupted(path));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** A download failure worth another try: no answer, a broken stream, a 5xx/408/429. */
function retryable(e: unknown): boolean {
  if (!(e instanceof CaptionError) || e.code !== 'bundle/download-failed') return false;
  const status = e.details.status;
  return typeof status !== 'number' || status >= 500 || status === 408 || status === 429;
}

const isQuotaError = (e: unknown) => typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'QuotaExceededError';

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

export function defaultCaches(): CacheStorage | undefined {
  try {
    return (globalThis as { caches?: CacheStorage }).caches;
  } catch {
    return undefined; // some sandboxed contexts throw on access
  }
}

export async function openCache(storage: CacheStorage | undefined): Promise<Cache | null> {
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
  private readonly storageManager: StorageManagerLike | null;
  private readonly retries: number;
  private readonly retryDelayMs: number;
  private readonly rehashCachedUpTo: number;
  private readonly memoryFallbackBytes: number;
  private cachePromise: Promise<Cache | null> | null = null;
  /** Entries stored by this source (deleted again when the storage runs out mid-way). */
  private readonly storedHere: string[] = [];

  constructor(baseUrl: string, options: UrlBundleSourceOptions = {}) {
    this.baseUrl = normalizeBaseUrl(baseUrl);
    this.label = this.baseUrl;
    this.useCache = options.cache ?? true;
    this.onCacheEvent = options.onCacheEvent;
    this.storage = options.cacheStorage ?? defaultCaches();
    const f = options.fetch ?? globalThis.fetch;
    this.fetchFn = f.bind(globalThis);
    this.storageManager = options.storageManager === undefined ? defaultStorageManager() : options.storageManager;
    this.retries = options.retries ?? 3;
    this.retryDelayMs = options.retryDelayMs ?? 500;
    this.rehashCachedUpTo = options.rehashCachedUpTo ?? 64 * 2 ** 20;
    this.memoryFallbackBytes = options.memoryFallbackBytes ?? 256 * 2 ** 20;
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

  /**
   * Checks, before anything is downloaded, that the storage can take the files still
   * missing (`bundle/quota` naming needed and available bytes otherwise) and asks for
   * persistent storage so the browser does not evict a multi-GB model under pressure.
   */
  async prepare(files: readonly BundleFile[], signal?: AbortSignal): Promise<void> {
    const cache = await this.cache();
    if (!cache) return;
    const missing: BundleFile[] = [];
    for (const f of files) {
      checkAborted(signal, 'bundle', { file: f.path });
      const hit = await cache.match(this.urlOf(f.path)).catch(() => undefined);
      if (!hit || hit.headers.get(SHA_HEADER) !== f.sha256 || hit.headers.get(BYTES_HEADER) !== String(f.bytes)) missing.push(f);
      await hit?.body?.cancel().catch(() => {});
    }
    const missingBytes = missing.reduce((n, f) => n + f.bytes, 0);
    let available: number | null = null;
    if (missingBytes > 0) {
      const est = await this.storageManager?.estimate?.().catch(() => undefined);
      if (est && typeof est.quota === 'number') available = Math.max(0, est.quota - (est.usage ?? 0));
    }
    this.onCacheEvent?.({ type: 'estimate', missingBytes, missingFiles: missing.length, availableBytes: available });
    if (available !== null && missingBytes > available) {
      // Nothing of this bundle stored yet: its bundle.json goes too, so nothing is left behind.
      if (missing.length === files.length) await cache.delete(this.urlOf(MANIFEST_FILE)).catch(() => false);
      throw new CaptionError(
        'bundle/quota',
        `Not enough browser storage for the model at ${this.label}: ${missing.length} file(s) still to download need ${formatBytes(missingBytes)} (${missingBytes} bytes), but this site may store only ${formatBytes(available)} (${available} bytes) more. Nothing was downloaded. Free disk space or delete cached models, then load it again.`,
        { source: this.label, neededBytes: missingBytes, availableBytes: available, shortfallBytes: missingBytes - available, files: missing.map((f) => f.path) },
      );
    }
    if (missingBytes > 0 && this.storageManager?.persist) {
      const already = await this.storageManager.persisted?.().catch(() => false);
      const granted = already || (await this.storageManager.persist().catch(() => false));
      this.onCacheEvent?.({ type: 'persist', granted });
    }
  }

  /**
   * One file, verified: from the cache when it holds it, else downloaded (with retries)
   * straight into the cache — or into memory where there is no cache.
   */
  async fetchFile(file: BundleFile, onProgress?: ReadProgress, signal?: AbortSignal): Promise<StoredFile> {
    checkAborted(signal, 'bundle', { file: file.path });
    const url = this.urlOf(file.path);
    const cache = await this.cache();
    if (cache) {
      const hit = await this.cachedFile(cache, url, file, onProgress, signal);
      if (hit) return hit;
    }
    return this.withRetries(file.path, signal, async () => {
      if (cache) {
        const stored = await this.downloadToCache(cache, url, file, onProgress, signal);
        if (stored) return stored;
      }
      const data = await this.download(url, file.path, file.bytes, onProgress, signal);
      if (data.byteLength !== file.bytes) throw sizeMismatch(file, data.byteLength, this.label);
      const actual = await sha256Cached(data);
      if (actual !== file.sha256) throw hashMismatch(file, actual, this.label);
      return memoryFile(data);
    });
  }

  private async withRetries<T>(path: string, signal: AbortSignal | undefined, run: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await run();
      } catch (e) {
        if (attempt > this.retries || signal?.aborted || !retryable(e)) throw e;
        const delayMs = this.retryDelayMs * 4 ** (attempt - 1);
        this.onCacheEvent?.({ type: 'retry', path, attempt, delayMs, reason: e instanceof Error ? e.message : String(e) });
        await sleep(delayMs, signal, path);
      }
    }
  }

  /** A cached, verified entry as a lazy Blob, or null (missing, stale or corrupt: deleted). */
  private async cachedFile(cache: Cache, url: string, file: BundleFile, onProgress: ReadProgress | undefined, signal: AbortSignal | undefined): Promise<StoredFile | null> {
    if (file.bytes <= this.rehashCachedUpTo) {
      // Small: re-hashed now, read again when used (nothing held meanwhile).
      const data = await this.fromCache(cache, url, file.path, file, onProgress, signal);
      return data ? this.entryFile(cache, url, file.path) : null;
    }
    const hit = await cache.match(url).catch(() => undefined);
    if (!hit) {
      this.onCacheEvent?.({ type: 'miss', path: file.path });
      return null;
    }
    const storedFor = hit.headers.get(SHA_HEADER);
    const size = (await hit.blob().catch(() => null))?.size ?? -1;
    if (storedFor !== file.sha256 || size !== file.bytes) {
      this.onCacheEvent?.(storedFor !== file.sha256 ? { type: 'stale', path: file.path } : { type: 'corrupt', path: file.path, expected: file.sha256, actual: `(${size} bytes, expected ${file.bytes})` });
      await cache.delete(url).catch(() => false);
      return null;
    }
    onProgress?.(file.bytes, file.bytes, true);
    this.onCacheEvent?.({ type: 'hit', path: file.path });
    return this.entryFile(cache, url, file.path);
  }

  /** The entry's Blob, fetched from the cache when asked (nothing held meanwhile). */
  private entryFile(cache: Cache, url: string, path: string): StoredFile {
    return blobFile(async () => {
      const res = await cache.match(url).catch(() => undefined);
      if (!res) throw missingFileError(path, this.label, 'It was deleted from the browser cache while the model loaded: load the model again.', { url });
      return res.blob();
    });
  }

  /**
   * Streams the download into the cache, hashing it on the way; the entry is committed only
   * when size and sha256 match (an errored body makes Cache.put reject and store nothing).
   * Null when the cache refused the entry and the file is small enough to keep in memory.
   */
  private async downloadToCache(cache: Cache, url: string, file: BundleFile, onProgress: ReadProgress | undefined, signal: AbortSignal | undefined): Promise<StoredFile | null> {
    const res = await this.request(url, file.path, signal);
    const reader = res.body!.getReader();
    const hasher = new Sha256();
    let loaded = 0;
    let failure: unknown = null;
    const fail = (ctl: ReadableStreamDefaultController<Uint8Array>, e: unknown) => {
      failure = e;
      ctl.error(e);
      reader.cancel().catch(() => {});
    };
    const body = new ReadableStream<Uint8Array>(
      {
        pull: async (ctl) => {
          let step: ReadableStreamReadResult<Uint8Array>;
          try {
            step = await reader.read();
          } catch (e) {
            return fail(ctl, signal?.aborted || isAbortError(e) ? interrupted(file.path) : this.brokenOff(file.path, url, e));
          }
          if (signal?.aborted) return fail(ctl, interrupted(file.path));
          if (step.done) {
            if (loaded !== file.bytes) return fail(ctl, sizeMismatch(file, loaded, this.label));
            const actual = hasher.hex();
            if (actual !== file.sha256) return fail(ctl, hashMismatch(file, actual, this.label));
            ctl.close();
            return;
          }
          loaded += step.value.byteLength;
          if (loaded > file.bytes) return fail(ctl, sizeMismatch(file, loaded, this.label));
          hasher.update(step.value);
          onProgress?.(loaded, file.bytes, false);
          ctl.enqueue(step.value);
        },
        cancel: (reason) => reader.cancel(reason).catch(() => {}),
      },
      { highWaterMark: 0 },
    );
    try {
      await cache.put(
        url,
        new Response(body, {
          headers: {
            'content-type': 'application/octet-stream',
            'content-length': String(file.bytes),
            [SHA_HEADER]: file.sha256,
            [BYTES_HEADER]: String(file.bytes),
          },
        }),
      );
    } catch (e) {
      if (failure) throw failure;
      if (signal?.aborted) throw interrupted(file.path);
      reader.cancel().catch(() => {});
      return this.refused(cache, file, e);
    }
    this.storedHere.push(url);
    this.onCacheEvent?.({ type: 'stored', path: file.path });
    return this.entryFile(cache, url, file.path);
  }

  /**
   * The cache refused a put: a small file is downloaded again into memory and the load goes
   * on; a large one ends the load with `bundle/quota`, deleting what this load stored.
   */
  private async refused(cache: Cache, file: BundleFile, e: unknown): Promise<null> {
    const reason = e instanceof Error ? e.message : String(e);
    this.onCacheEvent?.({ type: 'store-failed', path: file.path, reason });
    if (file.bytes <= this.memoryFallbackBytes) return null;
    const paths: string[] = [];
    for (const u of this.storedHere.splice(0)) if (await cache.delete(u).catch(() => false)) paths.push(u);
    this.onCacheEvent?.({ type: 'cleaned', paths });
    throw new CaptionError(
      'bundle/quota',
      `The browser's storage refused "${file.path}" (${formatBytes(file.bytes)}) of ${this.label}${isQuotaError(e) ? ': it is full' : ''} (${reason}). The ${paths.length} file(s) this load had stored were deleted again. Free disk space or delete cached models, then load it again.`,
      { file: file.path, source: this.label, neededBytes: file.bytes, cleaned: paths.length, reason },
    );
  }

  private brokenOff(path: string, url: string, e: unknown): CaptionError {
    return new CaptionError(
      'bundle/download-failed',
      `The download of "${path}" from ${this.label} broke off (${e instanceof Error ? e.message : String(e)}). Check your connection and try again; files already verified stay cached.`,
      { file: path, url, source: this.label },
    );
  }

  private async readManifest(url: string, cache: Cache | null, onProgress?: ReadProgress, signal?: AbortSignal): Promise<Uint8Array> {
    // With a cached copy, a network failure falls back to it at once (offline); without one it is retried.
    const hasCopy = cache ? Boolean(await cache.match(url).catch(() => undefined)) : false;
    try {
      const get = () => this.download(url, MANIFEST_FILE, 0, onProgress, signal, 'no-cache');
      const data = hasCopy ? await get() : await this.withRetries(MANIFEST_FILE, signal, get);
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

  /** The response for a file, its status checked (missing-file, download-failed). */
  private async request(url: string, path: string, signal: AbortSignal | undefined, cacheMode: RequestCache = 'default'): Promise<Response> {
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
    if (!res.body) {
      // Only odd fetch implementations answer without a body stream: wrap the bytes.
      const bytes = new Uint8Array(await res.arrayBuffer());
      res = new Response(bytes, { status: res.status, headers: res.headers });
    }
    return res;
  }

  private async download(
    url: string,
    path: string,
    expectedBytes: number,
    onProgress: ReadProgress | undefined,
    signal: AbortSignal | undefined,
    cacheMode: RequestCache = 'default',
  ): Promise<Uint8Array<ArrayBuffer>> {
    const res = await this.request(url, path, signal, cacheMode);
    // Content-Length counts the encoded bytes when the server compresses: then the
    // manifest's size is the better total.
    const encoded = (res.headers.get('content-encoding') ?? 'identity') !== 'identity';
    const header = Number(res.headers.get('content-length') ?? NaN);
    const total = !encoded && Number.isFinite(header) && header >= 0 ? header : expectedBytes;
    try {
      const data = await readStream(res.body!, total || expectedBytes, (n) => onProgress?.(n, Math.max(total, n), false), signal, path);
      onProgress?.(data.byteLength, data.byteLength, false);
      return data;
    } catch (e) {
      if (e instanceof CaptionError) throw e;
      if (signal?.aborted || isAbortError(e)) throw interrupted(path);
      throw this.brokenOff(path, url, e);
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

export function entryBytes(res: Response | undefined): Promise<number> {
  if (!res) return Promise.resolve(0);
  const h = Number(res.headers.get(BYTES_HEADER) ?? res.headers.get('content-length') ?? NaN);
  if (Number.isFinite(h) && h >= 0) return Promise.resolve(h);
  return res.blob().then((b) => b.size);
}

/** Bundles with files in the Cache API, largest first (a bundle.json alone is not listed). Empty where there is no Cache API. */
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
    // Only a bundle.json (a load refused before downloading, by preflight or quota): no model to list.
    if (fileKeys.length === 0) continue;
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
