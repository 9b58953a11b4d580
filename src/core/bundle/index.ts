/**
 * Model bundles: manifest schema and validation, sources (URL + Cache API, picked
 * folder), loading with integrity checks and progress, cached-bundle management.
 * The Node file-system source lives in `./fs-source` (import it only from Node code).
 */
export * from './manifest';
export { validateManifest, manifestFiles, graphRoles } from './validate';
export { sha256Hex } from './hash';
export { MANIFEST_FILE, type BundleSource, type ExpectedFile, type ReadProgress } from './source';
export {
  UrlBundleSource,
  BUNDLE_CACHE_NAME,
  listCachedBundles,
  deleteCachedBundle,
  normalizeBaseUrl,
  type CacheEvent,
  type CachedBundle,
  type UrlBundleSourceOptions,
} from './url-source';
export { FileListBundleSource } from './filelist-source';
export {
  loadBundle,
  parseManifest,
  verifyFile,
  type BundleProgress,
  type GraphBytes,
  type LoadBundleOptions,
  type LoadedBundle,
} from './load';
