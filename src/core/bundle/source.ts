/**
 * Where a bundle's bytes come from. A source only reads; `loadBundle` validates the
 * manifest and verifies every file's size and sha256 before anything uses it.
 *
 * Sources: `UrlBundleSource` (fetch + Cache API), `FileListBundleSource` (a folder the
 * user picked), `FsBundleSource` (Node, in `fs-source.ts`, kept out of the browser build).
 */
import { CaptionError, checkAborted, interruptedError } from '../errors';
import type { BundleFile } from './manifest';

/** Name of the manifest at the bundle root. */
export const MANIFEST_FILE = 'bundle.json';

/**
 * Progress of one file read, in bytes. `total` is the best known size (0 when unknown).
 * `fromCache` is true when the bytes come from a local cache rather than the network;
 * sources that cache call it at least once per read, at the end.
 */
export type ReadProgress = (loaded: number, total: number, fromCache?: boolean) => void;

/** Size and hash the manifest promises for a file, handed to `read` when known. */
export interface ExpectedFile {
  bytes: number;
  sha256: string;
}

/**
 * A file the source has made available and verified (size and sha256), kept where the
 * source keeps it (Cache API entry, picked File, disk, or memory when there is no storage).
 * Nothing is held in memory for it until asked: `loadBundle` asks one graph at a time.
 */
export interface StoredFile {
  /** The whole file in memory (graph protos, tokenizer files). */
  bytes(): Promise<Uint8Array>;
  /**
   * The file as onnxruntime should get it as external data: a storage-backed Blob where
   * the source has one (onnxruntime-web's JSPI build reads its ranges on demand), else bytes.
   */
  data(): Promise<Uint8Array | Blob>;
  /**
   * Node only (FsBundleSource): the verified file on local disk. onnxruntime-node opens a graph
   * by path and memory-maps the external data beside it, so no weights pass through JS buffers.
   */
  path?: string;
}

/** A StoredFile over bytes already in memory. */
export function memoryFile(data: Uint8Array): StoredFile {
  return { bytes: async () => data, data: async () => data };
}

/** A StoredFile over a Blob (a picked File, a Cache API response body). */
export function blobFile(get: () => Promise<Blob>): StoredFile {
  return { bytes: async () => new Uint8Array(await (await get()).arrayBuffer()), data: get };
}

export interface BundleSource {
  /** Human-readable origin (URL, folder name, directory) for messages and reports. */
  readonly label: string;
  /** A preset source with dtype variants: the one it chose for this runtime, and why. */
  readonly variant?: { id: string; reason: string };
  /**
   * Optional: called once with every file a load needs, before any of them is fetched
   * (a storing source checks its quota here: `bundle/quota`).
   */
  prepare?(files: readonly BundleFile[], signal?: AbortSignal): Promise<void>;
  /**
   * Optional: makes one file available — from storage, or downloaded, verified (size and
   * sha256, `bundle/integrity`) and stored — without keeping its bytes in memory. Sources
   * without it are read whole with `read` and verified by `loadBundle`.
   */
  fetchFile?(file: BundleFile, onProgress?: ReadProgress, signal?: AbortSignal): Promise<StoredFile>;
  /**
   * The bytes of `path` (relative to the bundle root, `/`-separated). Throws
   * `CaptionError` `bundle/not-found` (bundle.json missing), `bundle/missing-file`,
   * `bundle/download-failed`, or `runtime/interrupted` when `signal` aborts.
   * `expected` lets a caching source verify bytes before it stores them and re-check
   * what it has stored; it never replaces the verification `loadBundle` does.
   */
  read(path: string, onProgress?: ReadProgress, signal?: AbortSignal, expected?: ExpectedFile): Promise<Uint8Array>;
}

// ---------------------------------------------------------------------------------------
// Shared helpers for the sources (not part of the public API).

export function interrupted(file?: string): CaptionError {
  return interruptedError('bundle', file ? { file } : {});
}

export function isAbortError(e: unknown): boolean {
  return (
    typeof e === 'object' &&
    e !== null &&
    'name' in e &&
    ((e as { name: unknown }).name === 'AbortError' || (e as { name: unknown }).name === 'TimeoutError')
  );
}

/** The error for a file the source does not have; bundle.json gets `bundle/not-found`. */
export function missingFileError(path: string, label: string, hint: string, details: Record<string, unknown> = {}): CaptionError {
  if (path === MANIFEST_FILE) {
    return new CaptionError(
      'bundle/not-found',
      `No model bundle at ${label}: ${MANIFEST_FILE} is missing. ${hint}`,
      { file: path, source: label, ...details },
    );
  }
  return new CaptionError(
    'bundle/missing-file',
    `The model bundle at ${label} is incomplete: the file "${path}" is missing. ${hint}`,
    { file: path, source: label, ...details },
  );
}

/** A plain `/`-separated path that stays inside the bundle root. */
export function isPlainRelativePath(path: string): boolean {
  return !(
    path === '' ||
    path.startsWith('/') ||
    path.includes('\\') ||
    /^[a-zA-Z]:/.test(path) ||
    path.split('/').some((seg) => seg === '..' || seg === '.' || seg === '')
  );
}

/** Rejects paths that could leave the bundle root. */
export function checkRelativePath(path: string, label: string): void {
  if (!isPlainRelativePath(path)) {
    throw new CaptionError(
      'bundle/bad-manifest',
      `The model bundle at ${label} names the file "${path}", which is not a plain relative path inside the bundle. Re-export the bundle.`,
      { file: path, source: label },
    );
  }
}

/**
 * Reads a byte stream to the end, reporting progress. `sizeHint` preallocates (the
 * buffer grows if the stream turns out longer, and is trimmed if shorter).
 */
export async function readStream(
  stream: ReadableStream<Uint8Array>,
  sizeHint: number,
  onChunk: (loaded: number) => void,
  signal: AbortSignal | undefined,
  file: string,
): Promise<Uint8Array<ArrayBuffer>> {
  const reader = stream.getReader();
  const onAbort = () => {
    reader.cancel().catch(() => {});
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  let buf = new Uint8Array(Math.max(0, sizeHint));
  let loaded = 0;
  try {
    for (;;) {
      checkAborted(signal, 'bundle', { file });
      const { done, value } = await reader.read();
      checkAborted(signal, 'bundle', { file });
      if (done) break;
      if (loaded + value.byteLength > buf.byteLength) {
        const grown = new Uint8Array(Math.max(loaded + value.byteLength, buf.byteLength * 2, 1 << 16));
        grown.set(buf.subarray(0, loaded));
        buf = grown;
      }
      buf.set(value, loaded);
      loaded += value.byteLength;
      onChunk(loaded);
    }
  } catch (e) {
    if (signal?.aborted || isAbortError(e)) throw interrupted(file);
    throw e;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    try {
      reader.releaseLock();
    } catch {
      // a cancelled reader may refuse; nothing to release then
    }
  }
  return loaded === buf.byteLength ? buf : buf.slice(0, loaded);
}
