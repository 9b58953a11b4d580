/**
 * `FsBundleSource`: a bundle folder on disk, for Node (the CLI, tests, benchmarks). Kept
 * apart from the rest of `src/core/bundle` because it imports `node:fs`; never import it
 * from browser or worker code.
 */
import { createHash } from 'node:crypto';
import { open, readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { CaptionError, checkAborted } from '../errors';
import { hashMismatch, sizeMismatch } from './load';
import type { BundleFile } from './manifest';
import { type BundleSource, type ReadProgress, type StoredFile, MANIFEST_FILE, checkRelativePath, missingFileError } from './source';

const CHUNK = 4 << 20;

export class FsBundleSource implements BundleSource {
  readonly label: string;
  readonly dir: string;

  constructor(dir: string) {
    this.dir = resolve(dir);
    this.label = this.dir;
  }

  /**
   * Verifies a file by streaming it through sha256 (4 MiB at a time). Its path goes with it:
   * onnxruntime-node opens graphs by path (`LoadedBundle.graphFile`) and maps their weights;
   * `bytes()` / `data()` read the file again for callers that want it in memory.
   */
  async fetchFile(file: BundleFile, onProgress?: ReadProgress, signal?: AbortSignal): Promise<StoredFile> {
    checkAborted(signal, 'bundle', { file: file.path });
    checkRelativePath(file.path, this.label);
    const full = resolve(this.dir, ...file.path.split('/'));
    let fh;
    try {
      const st = await stat(full);
      if (!st.isFile()) throw Object.assign(new Error('not a file'), { code: 'EISDIR' });
      if (st.size !== file.bytes) throw sizeMismatch(file, st.size, this.label);
      fh = await open(full, 'r');
    } catch (e) {
      if (e instanceof CaptionError) throw e;
      throw this.error(file.path, full, e);
    }
    const hash = createHash('sha256');
    try {
      const buf = new Uint8Array(Math.min(CHUNK, Math.max(1, file.bytes)));
      let loaded = 0;
      while (loaded < file.bytes) {
        checkAborted(signal, 'bundle', { file: file.path });
        const { bytesRead } = await fh.read(buf, 0, Math.min(buf.byteLength, file.bytes - loaded), loaded);
        if (bytesRead === 0) break;
        hash.update(buf.subarray(0, bytesRead));
        loaded += bytesRead;
        onProgress?.(loaded, file.bytes, false);
      }
      if (loaded !== file.bytes) throw sizeMismatch(file, loaded, this.label);
    } catch (e) {
      if (e instanceof CaptionError) throw e;
      throw this.error(file.path, full, e);
    } finally {
      await fh.close();
    }
    const actual = hash.digest('hex');
    if (actual !== file.sha256) throw hashMismatch(file, actual, this.label);
    const bytes = async () => new Uint8Array(await readFile(full));
    return { bytes, data: bytes, path: full };
  }

  async read(path: string, onProgress?: ReadProgress, signal?: AbortSignal): Promise<Uint8Array> {
    checkAborted(signal, 'bundle', { file: path });
    checkRelativePath(path, this.label);
    const full = resolve(this.dir, ...path.split('/'));

    let size: number;
    try {
      const st = await stat(full);
      if (!st.isFile()) throw Object.assign(new Error('not a file'), { code: 'EISDIR' });
      size = st.size;
    } catch (e) {
      throw this.error(path, full, e);
    }

    let fh;
    try {
      fh = await open(full, 'r');
    } catch (e) {
      throw this.error(path, full, e);
    }
    try {
      const buf = new Uint8Array(size);
      let loaded = 0;
      while (loaded < size) {
        checkAborted(signal, 'bundle', { file: path });
        const { bytesRead } = await fh.read(buf, loaded, Math.min(CHUNK, size - loaded), loaded);
        if (bytesRead === 0) break; // the file shrank while we read it
        loaded += bytesRead;
        onProgress?.(loaded, size, false);
      }
      checkAborted(signal, 'bundle', { file: path });
      onProgress?.(loaded, size, false);
      return loaded === size ? buf : buf.slice(0, loaded);
    } catch (e) {
      if (e instanceof CaptionError) throw e;
      throw this.error(path, full, e);
    } finally {
      await fh.close();
    }
  }

  private error(path: string, full: string, e: unknown): CaptionError {
    const code = (e as { code?: string }).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') {
      return missingFileError(
        path,
        this.label,
        path === MANIFEST_FILE
          ? 'Give the path of the bundle folder: the one that holds bundle.json.'
          : 'Copy the complete bundle folder again (or export it again).',
        { fsPath: full },
      );
    }
    return new CaptionError(
      'bundle/download-failed',
      `Could not read "${path}" in ${this.label} (${e instanceof Error ? e.message : String(e)}). Check the file's permissions and the disk, then try again.`,
      { file: path, fsPath: full, source: this.label },
    );
  }
}
