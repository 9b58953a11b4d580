/**
 * Test helper: computes reference values with Debian's Python (numpy / torch) so tests
 * compare against an independent implementation. Inputs go to the script as raw
 * little-endian files; the script writes float64 `out.bin` into the same folder.
 */

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const PYTHON = '/usr/bin/python3';

function canImport(module: string): boolean {
  if (!existsSync(PYTHON)) return false;
  try {
    execFileSync(PYTHON, ['-c', `import ${module}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export const hasNumpy = canImport('numpy');
export const hasTorch = canImport('torch');

/**
 * Runs `script` with `sys.argv[1]` = a folder holding `<name>.bin` for each input;
 * the script must write float64 values to `<folder>/out.bin`.
 */
export function runPython(script: string, inputs: Record<string, ArrayBufferView> = {}): Float64Array {
  const dir = mkdtempSync(join(tmpdir(), 'pyref-'));
  try {
    for (const [name, view] of Object.entries(inputs)) {
      writeFileSync(join(dir, `${name}.bin`), new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
    }
    writeFileSync(join(dir, 'script.py'), script);
    execFileSync(PYTHON, [join(dir, 'script.py'), dir], { stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 26 });
    const bytes = readFileSync(join(dir, 'out.bin'));
    return new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} ≠ ${b.length}`);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}
