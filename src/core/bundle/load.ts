/**
 * `loadBundle`: reads bundle.json from a source, validates it, runs the caller's preflight
 * (before any other file is fetched), lets the source check its storage (`prepare`), then
 * makes every file the run needs available, each one's byte size and sha256 checked before
 * anything uses it. Graph bytes are not kept: `graph(role)` reads one graph (its proto, and
 * its external-data chunks as storage-backed Blobs where the source has them) when a
 * session is created, so the caller holds one graph at a time. Progress is in bytes over
 * the whole bundle, with download speed and time left. Abort with `signal` (→ `runtime/interrupted`).
 */
import { CaptionError, checkAborted } from '../errors';
import { now } from '../runtime/ort';
import { sha256Cached } from './hash';
import type { BundleFile, BundleManifest, GraphName } from './manifest';
import { type BundleSource, MANIFEST_FILE, type StoredFile, memoryFile } from './source';
import { basename, graphRoles, manifestFiles, validateManifest } from './validate';

export interface BundleProgress {
  /** The file being read, relative to the bundle root. */
  file: string;
  loaded: number;
  total: number;
  /** Bytes over every file of this load (bundle.json excluded). */
  overallLoaded: number;
  overallTotal: number;
  /** True when this file's bytes come from the local cache. */
  fromCache: boolean;
  /** Bytes that came over the network in this load so far (cache hits excluded). */
  downloadedBytes: number;
  /** Download speed since the first downloaded byte (0 before). */
  bytesPerSecond: number;
  /** Seconds left at that speed for the rest of the load (null while unknown). */
  etaSeconds: number | null;
}

export interface LoadBundleOptions {
  /** Called as bytes arrive (often: throttle before posting it across threads). */
  onProgress?: (p: BundleProgress) => void;
  signal?: AbortSignal;
  /** The graphs to load (default: all five). Tokenizer and golden files always load. */
  graphs?: GraphName[];
  /**
   * Called with the validated manifest before any other file is fetched; throw (e.g.
   * `bundle/unsupported`, preflight.ts) to stop the load with nothing downloaded.
   */
  preflight?: (manifest: BundleManifest) => void | Promise<void>;
  /** Milliseconds clock for the speed (tests); default performance.now. */
  clock?: () => number;
}

/**
 * What onnxruntime needs to create a session: the graph proto and its external-data chunks,
 * each a storage-backed Blob (Cache API, picked file) or bytes. Drop it once the session exists.
 */
export interface GraphData {
  model: Uint8Array;
  /** `path` relative to the graph's own folder, ready for `SessionOptions.externalData`. */
  externalData: { path: string; data: Uint8Array | Blob }[];
}

/** GraphData with every chunk in memory (benchmarks). */
export interface GraphBytes {
  model: Uint8Array;
  /**
   * External-data files, `path` relative to the graph's own folder (as ONNX external-data
   * locations are written), ready for `SessionOptions.externalData`.
   */
  externalData: { path: string; data: Uint8Array }[];
}

export interface LoadedBundle {
  manifest: BundleManifest;
  /** The source's label (URL, folder). */
  source: string;
  /**
   * One loaded graph, read from where the source keeps it (call it once per session and
   * drop the result after creating the session); rejects for a graph not in `options.graphs`.
   */
  graph(name: GraphName): Promise<GraphData>;
  /**
   * The graph's proto as a file on local disk, when the source keeps it and every one of its
   * external-data chunks there, side by side as the proto's locations name them
   * (FsBundleSource); else null. onnxruntime-node opens such a graph itself and memory-maps
   * its weights: no copy of them passes through JS buffers (bench/README "Node load memory").
   */
  graphFile(name: GraphName): string | null;
  /** The bytes of a loaded non-graph file (tokenizer, golden) by its manifest path. */
  file(path: string): Uint8Array;
  /** The graphs that were loaded. */
  graphs: GraphName[];
  tokenizerJson: Record<string, unknown>;
  tokenizerConfig: Record<string, unknown>;
  /** golden.json of test bundles. */
  golden?: Record<string, unknown>;
  /** Bytes of the files read (bundle.json excluded). */
  totalBytes: number;
  /** True when every file came from the local cache (nothing downloaded). */
  fromCache: boolean;
}

/** Parses bundle.json bytes and validates them (`bundle/bad-manifest`). */
export function parseManifest(bytes: Uint8Array, label = 'the bundle'): BundleManifest {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: false }).decode(bytes));
  } catch (e) {
    throw new CaptionError(
      'bundle/bad-manifest',
      `bundle.json of ${label} is not valid JSON (${e instanceof Error ? e.message : String(e)}). The bundle is damaged: re-export it or download it again.`,
      { file: MANIFEST_FILE, source: label },
    );
  }
  try {
    return validateManifest(json);
  } catch (e) {
    if (e instanceof CaptionError) e.details.source = label;
    throw e;
  }
}

/** The `bundle/integrity` error for a file of the wrong size. */
export function sizeMismatch(file: BundleFile, actualBytes: number, label: string): CaptionError {
  const how = actualBytes < file.bytes ? 'is truncated' : 'is larger than expected';
  return new CaptionError(
    'bundle/integrity',
    `The file "${file.path}" of ${label} ${how}: ${actualBytes} bytes instead of ${file.bytes}. Download or copy the bundle again (delete the cached copy first).`,
    { file: file.path, source: label, expectedBytes: file.bytes, actualBytes },
  );
}

/** The `bundle/integrity` error for a file whose sha256 is not the manifest's. */
export function hashMismatch(file: BundleFile, actual: string, label: string): CaptionError {
  return new CaptionError(
    'bundle/integrity',
    `The file "${file.path}" of ${label} is corrupt: its sha256 is ${actual}, but bundle.json expects ${file.sha256}. Download or copy the bundle again (delete the cached copy first).`,
    { file: file.path, source: label, expected: file.sha256, actual },
  );
}

/** Throws `bundle/integrity` unless `data` has the size and sha256 the manifest gives. */
export async function verifyFile(file: BundleFile, data: Uint8Array, label: string): Promise<void> {
  if (data.byteLength !== file.bytes) throw sizeMismatch(file, data.byteLength, label);
  const actual = await sha256Cached(data);
  if (actual !== file.sha256) throw hashMismatch(file, actual, label);
}

function parseJsonFile(path: string, data: Uint8Array, label: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder().decode(data));
  } catch (e) {
    v = e;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Error) {
    throw new CaptionError(
      'bundle/bad-manifest',
      `The file "${path}" of ${label} is not a JSON object${v instanceof Error ? ` (${v.message})` : ''}, though its sha256 matches bundle.json: the bundle was exported wrongly. Re-export it.`,
      { file: path, source: label },
    );
  }
  return v as Record<string, unknown>;
}

/**
 * The local path of a graph's proto when the proto and each of its chunks are local files,
 * every chunk at the proto's folder + its location relative to the graph (ORT resolves
 * external-data locations against the proto's folder); else null.
 */
function localGraphFile(entry: { path: string; externalData: BundleFile[] }, stored: Map<string, StoredFile>): string | null {
  const proto = stored.get(entry.path)?.path;
  const name = basename(entry.path);
  if (!proto || !proto.endsWith(name)) return null;
  const dir = proto.slice(0, proto.length - name.length);
  const sep = dir.at(-1) ?? '/';
  for (const e of entry.externalData) {
    if (stored.get(e.path)?.path !== dir + relativeToGraph(entry.path, e.path).split('/').join(sep)) return null;
  }
  return proto;
}

/** Path of an external-data file relative to its graph's folder. */
function relativeToGraph(graphPath: string, dataPath: string): string {
  const dir = graphPath.includes('/') ? graphPath.slice(0, graphPath.lastIndexOf('/') + 1) : '';
  return dir && dataPath.startsWith(dir) ? dataPath.slice(dir.length) : dataPath;
}

export async function loadBundle(source: BundleSource, options: LoadBundleOptions = {}): Promise<LoadedBundle> {
  const { onProgress, signal } = options;
  const clock = options.clock ?? now;
  checkAborted(signal, 'bundle');

  const manifest = parseManifest(await source.read(MANIFEST_FILE, undefined, signal), source.label);

  const roles = graphRoles(manifest);
  const wanted = options.graphs ?? roles;
  for (const g of wanted) {
    if (!roles.includes(g)) {
      throw new CaptionError('runtime/internal', `Unknown graph "${String(g)}" asked of loadBundle.`, { graph: g });
    }
  }
  await options.preflight?.(manifest);
  checkAborted(signal, 'bundle');
  const files = manifestFiles(manifest, wanted);
  const overallTotal = files.reduce((s, f) => s + f.bytes, 0);
  await source.prepare?.(files, signal);

  const stored = new Map<string, StoredFile>();
  let done = 0;
  let downloaded = 0;
  let firstByteAt: number | null = null;
  let allCached = files.length > 0;
  for (const file of files) {
    checkAborted(signal, 'bundle', { file: file.path });
    let fromCache = false;
    let last = -1;
    let network = 0;
    const report = (loaded: number) => {
      const l = Math.min(loaded, file.bytes);
      if (l === last) return;
      if (!fromCache && l > network) {
        if (firstByteAt === null) firstByteAt = clock();
        downloaded += l - network;
        network = l;
      }
      last = l;
      const seconds = firstByteAt === null ? 0 : (clock() - firstByteAt) / 1000;
      const bytesPerSecond = seconds > 0 ? downloaded / seconds : 0;
      const left = overallTotal - done - l;
      const etaSeconds = left <= 0 ? 0 : bytesPerSecond > 0 ? left / bytesPerSecond : null;
      onProgress?.({ file: file.path, loaded: l, total: file.bytes, overallLoaded: done + l, overallTotal, fromCache, downloadedBytes: downloaded, bytesPerSecond, etaSeconds });
    };
    const progress = (loaded: number, _total: number, cached?: boolean) => {
      fromCache = cached ?? false;
      report(loaded);
    };
    let handle: StoredFile;
    if (source.fetchFile) {
      handle = await source.fetchFile(file, progress, signal);
    } else {
      const data = await source.read(file.path, progress, signal, { bytes: file.bytes, sha256: file.sha256 });
      checkAborted(signal, 'bundle', { file: file.path });
      await verifyFile(file, data, source.label);
      handle = memoryFile(data);
    }
    checkAborted(signal, 'bundle', { file: file.path });
    stored.set(file.path, handle);
    last = -1; // always end a file with a complete event
    report(file.bytes);
    done += file.bytes;
    allCached &&= fromCache;
  }

  // Non-graph files (tokenizer, golden) are small: kept in memory for `file(path)`.
  const small = new Map<string, Uint8Array>();
  for (const f of [...manifest.tokenizer.files, ...(manifest.golden ? [manifest.golden] : [])]) small.set(f.path, await stored.get(f.path)!.bytes());
  const json = async (path: string) => parseJsonFile(path, small.get(path)!, source.label);
  const tokenizerFile = (name: string) => manifest.tokenizer.files.find((f) => basename(f.path) === name)!.path;
  const tokJsonPath = tokenizerFile('tokenizer.json');
  const tokCfgPath = tokenizerFile('tokenizer_config.json');
  const tokenizerJson = await json(tokJsonPath);
  const tokenizerConfig = await json(tokCfgPath);
  const golden = manifest.golden ? await json(manifest.golden.path) : undefined;

  const loaded = new Set<GraphName>(wanted);
  const loadedEntry = (name: GraphName) => {
    const entry = manifest.graphs[name];
    if (!loaded.has(name) || !entry) {
      throw new CaptionError('runtime/internal', `The graph "${name}" was not loaded (loadBundle was asked for ${[...loaded].join(', ')}).`, { graph: name });
    }
    return entry;
  };
  return {
    manifest,
    source: source.label,
    graphs: [...loaded],
    graphFile: (name: GraphName) => localGraphFile(loadedEntry(name), stored),
    async graph(name: GraphName): Promise<GraphData> {
      const entry = loadedEntry(name);
      const model = await stored.get(entry.path)!.bytes();
      const externalData = [];
      for (const e of entry.externalData) externalData.push({ path: relativeToGraph(entry.path, e.path), data: await stored.get(e.path)!.data() });
      return { model, externalData };
    },
    file(path: string): Uint8Array {
      const data = small.get(path);
      if (!data) throw new CaptionError('runtime/internal', `The file "${path}" is not part of this load of the bundle.`, { file: path });
      return data;
    },
    tokenizerJson,
    tokenizerConfig,
    golden,
    totalBytes: overallTotal,
    fromCache: allCached,
  };
}
