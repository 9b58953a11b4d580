/** Test helper (Node only): writes a fake bundle's files under a directory. */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { type FakeBundle } from './fake-bundle.testutil';

export async function writeFakeBundle(dir: string, bundle: Pick<FakeBundle, 'files'>): Promise<void> {
  for (const [path, data] of bundle.files) {
    const full = join(dir, ...path.split('/'));
    await mkdir(dirname(full), { recursive: true });
    await writeFile(full, data);
  }
}
