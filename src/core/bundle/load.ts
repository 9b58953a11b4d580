/**
 * `loadBundle`: reads bundle.json from a source, validates it, then reads every file the
 * run needs, checking each one's byte size and sha256 before anything uses it. Progress is
 * in bytes over the whole bundle. Abort with `signal` (→ `runtime/interrupted`).
 */
import { CaptionError, checkAborted } from '../errors';
import { sha256Cached } from './hash';
import type { BundleFile, BundleManifest, GraphName } from './manifest';
import { type BundleSource, MANIFEST_FILE } from './source';
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
}

export interface LoadBundleOptions {
  /** Called as bytes arrive (often: throttle before posting it across threads). */
  onProgress?: (p: BundleProgress) => void;
  signal?: AbortSignal;
  /** The graphs to load (default: all five). Tokenizer and golden files always load. */
  graphs?: GraphName[];
}

/** What onnxruntime needs to create a session: the graph and its external-data chunks. */
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
  /** The bytes of a loaded graph; throws for a graph not in `options.graphs`. */
  graph(name: GraphName): GraphBytes;
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

/** Throws `bundle/integrity` unless `data` has the size and sha256 the manifest gives. */
export async function verifyFile(file: BundleFile, data: Uint8Array, label: string): Promise<void> {
  if (data.byteLength !== file.bytes) {
    const how = data.byteLength < file.bytes ? 'is truncated' : 'is larger than expected';
    throw new CaptionError(
      'bundle/integrity',
      `The file "${file.path}" of ${label} ${how}: ${data.byteLength} bytes instead of ${file.bytes}. Download or copy the bundle again (delete the cached copy first).`,
      { file: file.path, source: label, expectedBytes: file.bytes, actualBytes: data.byteLength },
    );
  }
  const actual = await sha256Cached(data);
  if (actual !== file.sha256) {
    throw new CaptionError(
      'bundle/integrity',
      `The file "${file.path}" of ${label} is corrupt: its sha256 is ${actual}, but bundle.json expects ${file.sha256}. Download or copy the bundle again (delete the cached copy first).`,
      { file: file.path, source: label, expected: file.sha256, actual },
    );
  }
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

/** Path of an external-data file relative to its graph's folder. */
function relativeToGraph(graphPath: string, dataPath: string): string {
  const dir = graphPath.includes('/') ? graphPath.slice(0, graphPath.lastIndexOf('/') + 1) : '';
  return dir && dataPath.startsWith(dir) ? dataPath.slice(dir.length) : dataPath;
}

export async function loadBundle(source: BundleSource, options: LoadBundleOptions = {}): Promise<LoadedBundle> {
  const { onProgress, signal } = options;
  checkAborted(signal, 'bundle');

  const manifest = parseManifest(await source.read(MANIFEST_FILE, undefined, signal), source.label);

  const roles = graphRoles(manifest);
  const wanted = options.graphs ?? roles;
  for (const g of wanted) {
    if (!roles.includes(g)) {
      throw new CaptionError('runtime/internal', `Unknown graph "${String(g)}" asked of loadBundle.`, { graph: g });
    }
  }
  const files = manifestFiles(manifest, wanted);
  const overallTotal = files.reduce((s, f) => s + f.bytes, 0);

  const bytes = new Map<string, Uint8Array>();
  let done = 0;
  let allCached = files.length > 0;
  for (const file of files) {
    checkAborted(signal, 'bundle', { file: file.path });
    let fromCache = false;
    let last = -1;
    const report = (loaded: number) => {
      const l = Math.min(loaded, file.bytes);
      if (l === last) return;
      last = l;
      onProgress?.({ file: file.path, loaded: l, total: file.bytes, overallLoaded: done + l, overallTotal, fromCache });
    };
    const data = await source.read(
      file.path,
      (loaded, _total, cached) => {
        fromCache = cached ?? false;
        report(loaded);
      },
      signal,
      { bytes: file.bytes, sha256: file.sha256 },
    );
    checkAborted(signal, 'bundle', { file: file.path });
    await verifyFile(file, data, source.label);
    bytes.set(file.path, data);
    last = -1; // always end a file with a complete event
    report(file.bytes);
    done += file.bytes;
    allCached &&= fromCache;
  }

  const tokenizerFile = (name: string) => manifest.tokenizer.files.find((f) => basename(f.path) === name)!.path;
  const tokJsonPath = tokenizerFile('tokenizer.json');
  const tokCfgPath = tokenizerFile('tokenizer_config.json');
  const tokenizerJson = parseJsonFile(tokJsonPath, bytes.get(tokJsonPath)!, source.label);
  const tokenizerConfig = parseJsonFile(tokCfgPath, bytes.get(tokCfgPath)!, source.label);
  const golden = manifest.golden ? parseJsonFile(manifest.golden.path, bytes.get(manifest.golden.path)!, source.label) : undefined;

  const loaded = new Set<GraphName>(wanted);
  return {
    manifest,
    source: source.label,
    graphs: [...loaded],
    graph(name: GraphName): GraphBytes {
      const entry = manifest.graphs[name];
      if (!loaded.has(name) || !entry) {
        throw new CaptionError('runtime/internal', `The graph "${name}" was not loaded (loadBundle was asked for ${[...loaded].join(', ')}).`, { graph: name });
      }
      return {
        model: bytes.get(entry.path)!,
        externalData: entry.externalData.map((e) => ({ path: relativeToGraph(entry.path, e.path), data: bytes.get(e.path)! })),
      };
    },
    file(path: string): Uint8Array {
      const data = bytes.get(path);
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
