/**
 * `FileListBundleSource`: a bundle folder the user picked with
 * `<input type=file webkitdirectory>` (or dropped). Each File's `webkitRelativePath`
 * ("tiny/onnx/x.onnx") locates it; the folder that holds the shallowest bundle.json is the
 * bundle root (so picking the bundle folder itself or its parent both work). Without any
 * bundle.json the common top folder is stripped and reading bundle.json fails with
 * `bundle/not-found`.
 */
import { checkAborted } from '../errors';
import { sha256Hex } from './hash';
import { hashMismatch, sizeMismatch } from './load';
import type { BundleFile } from './manifest';
import { Sha256 } from './sha256';
import { type BundleSource, type ReadProgress, type StoredFile, MANIFEST_FILE, blobFile, interrupted, missingFileError, readStream } from './source';

/** Files up to this size are hashed whole with WebCrypto; larger ones streamed (sha256.ts). */
const WHOLE_HASH_LIMIT = 64 * 2 ** 20;

type PickedFile = File & { webkitRelativePath?: string };

function relPathOf(f: PickedFile): string {
  const p = f.webkitRelativePath || f.name;
  return p.replace(/\\/g, '/').replace(/^\/+/, '');
}

export class FileListBundleSource implements BundleSource {
  readonly label: string;
  /** Bundle-relative path → File. */
  private readonly files = new Map<string, File>();

  constructor(files: ArrayLike<File> | Iterable<File>) {
    const list = Array.from(files as ArrayLike<File>) as PickedFile[];
    const paths = list.map(relPathOf);

    let root = '';
    const manifests = paths
      .filter((p) => p === MANIFEST_FILE || p.endsWith(`/${MANIFEST_FILE}`))
      .sort((a, b) => a.split('/').length - b.split('/').length || a.length - b.length);
    if (manifests.length > 0) {
      root = manifests[0].slice(0, -MANIFEST_FILE.length);
    } else if (paths.length > 0 && paths.every((p) => p.includes('/'))) {
      const top = paths[0].split('/')[0];
      if (paths.every((p) => p.startsWith(`${top}/`))) root = `${top}/`;
    }

    list.forEach((f, i) => {
      const p = paths[i];
      if (p.startsWith(root)) this.files.set(p.slice(root.length), f);
    });
    const folder = root.replace(/\/$/, '') || (list.length ? 'the chosen files' : 'an empty selection');
    this.label = root ? `the folder "${folder}"` : folder;
  }

  /** Bundle-relative paths of the picked files. */
  paths(): string[] {
    return [...this.files.keys()];
  }

  /** Verifies a picked file (streamed when large) and hands out the File itself: nothing is copied. */
  async fetchFile(file: BundleFile, onProgress?: ReadProgress, signal?: AbortSignal): Promise<StoredFile> {
    const f = this.file(file.path, signal);
    if (f.size !== file.bytes) throw sizeMismatch(file, f.size, this.label);
    let actual: string;
    if (f.size <= WHOLE_HASH_LIMIT || typeof f.stream !== 'function') {
      actual = await sha256Hex(new Uint8Array(await f.arrayBuffer()));
    } else {
      const h = new Sha256();
      const reader = (f.stream() as ReadableStream<Uint8Array>).getReader();
      let n = 0;
      try {
        for (;;) {
          if (signal?.aborted) throw interrupted(file.path);
          const { done, value } = await reader.read();
          if (done) break;
          h.update(value);
          n += value.byteLength;
          onProgress?.(n, f.size, false);
        }
      } finally {
        reader.cancel().catch(() => {});
      }
      actual = h.hex();
    }
    checkAborted(signal, 'bundle', { file: file.path });
    if (actual !== file.sha256) throw hashMismatch(file, actual, this.label);
    onProgress?.(f.size, f.size, false);
    return blobFile(async () => f);
  }

  private file(path: string, signal?: AbortSignal): File {
    checkAborted(signal, 'bundle', { file: path });
    const f = this.files.get(path);
    if (!f) {
      throw missingFileError(
        path,
        this.label,
        path === MANIFEST_FILE
          ? 'Choose the bundle folder itself: the one that holds bundle.json.'
          : 'Choose the complete bundle folder (every file the bundle lists must be inside it).',
      );
    }
    return f;
  }

  async read(path: string, onProgress?: ReadProgress, signal?: AbortSignal): Promise<Uint8Array> {
    const f = this.file(path, signal);
    const total = f.size;
    const data =
      typeof f.stream === 'function'
        ? await readStream(f.stream() as ReadableStream<Uint8Array>, total, (n) => onProgress?.(n, Math.max(total, n), false), signal, path)
        : new Uint8Array(await f.arrayBuffer());
    onProgress?.(data.byteLength, data.byteLength, false);
    return data;
  }
}
