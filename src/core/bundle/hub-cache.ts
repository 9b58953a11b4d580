/**
 * The lite preset's files in the Cache API, as one model: every cached entry under the
 * pinned repos' `resolve/<commit>/` URLs (graphs, configs, tokenizers, and the built
 * manifest beside the LLaVA files, hub-preset.ts). Those URLs name commits, so they belong
 * to these pins and no other bundle; deleting the model deletes exactly them.
 */
import { BUNDLE_CACHE_NAME, defaultCaches, entryBytes, openCache } from './url-source';
import { hubFileUrl, HUB_ENDPOINT, type HubRepoKey, type LitePins } from './hub-preset';

export interface CachedHubPreset {
  /** The pinned revisions, "repo@commit7" each. */
  pins: string[];
  /** Bytes and number of the cached entries (the built manifest included). */
  bytes: number;
  files: number;
  /** The cached URLs (what a delete removes). */
  urls: string[];
}

export interface HubCacheOptions {
  endpoint?: string;
  cacheStorage?: CacheStorage;
}

const KEYS: HubRepoKey[] = ['llava', 'whisper', 'ast'];

/** The pinned repos' URL prefixes at `endpoint`. */
function prefixes(pins: LitePins, endpoint: string): string[] {
  return KEYS.flatMap((k) => (pins[k] ? [hubFileUrl(endpoint, pins[k]!, '')] : []));
}

async function cachedUrls(pins: LitePins, options: HubCacheOptions): Promise<{ cache: Cache; urls: string[] } | null> {
  const storage = options.cacheStorage ?? defaultCaches();
  if (!storage || !(await storage.has(BUNDLE_CACHE_NAME).catch(() => false))) return null;
  const cache = await openCache(storage);
  if (!cache) return null;
  const under = prefixes(pins, options.endpoint ?? HUB_ENDPOINT);
  const urls = (await cache.keys()).map((r) => r.url).filter((u) => under.some((p) => u.startsWith(p)));
  return { cache, urls };
}

/** The preset's cached files (null: none cached). */
export async function listCachedHubPreset(pins: LitePins, options: HubCacheOptions = {}): Promise<CachedHubPreset | null> {
  const found = await cachedUrls(pins, options);
  if (!found || found.urls.length === 0) return null;
  let bytes = 0;
  for (const u of found.urls) bytes += await entryBytes(await found.cache.match(u).catch(() => undefined));
  const pinned = KEYS.flatMap((k) => (pins[k] ? [`${pins[k]!.repo}@${pins[k]!.revision.slice(0, 7)}`] : []));
  return { pins: pinned, bytes, files: found.urls.length, urls: found.urls };
}

/** Deletes every cached file of the preset and its built manifests; returns how many entries went. */
export async function deleteCachedHubPreset(pins: LitePins, options: HubCacheOptions = {}): Promise<number> {
  const found = await cachedUrls(pins, options);
  if (!found) return 0;
  let n = 0;
  for (const u of found.urls) if (await found.cache.delete(u)) n++;
  return n;
}
