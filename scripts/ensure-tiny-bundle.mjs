#!/usr/bin/env node
// Runs before `npm run dev` / `npm run preview` / `npm start`: the default model preset
// (/bundles/tiny/) is generated, not committed, so a fresh clone builds it here with the
// package's own `models:tiny` script. Never fails the command: without Python/torch it
// says what to install and the server starts anyway (the page names the same command).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const bundleDir = join(root, 'public/bundles/tiny');
const manifestPath = join(bundleDir, 'bundle.json');

/** Every file bundle.json lists is present (a half-written export counts as missing). */
function complete() {
  if (!existsSync(manifestPath)) return false;
  try {
    const m = JSON.parse(readFileSync(manifestPath, 'utf8'));
    const files = [...Object.values(m.graphs ?? {}).flatMap((g) => [g, ...(g.externalData ?? [])]), ...(m.tokenizer?.files ?? [])];
    return files.length > 0 && files.every((f) => existsSync(join(bundleDir, f.path)));
  } catch {
    return false;
  }
}

if (complete()) process.exit(0);

const script = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts['models:tiny'];
const python = '/usr/bin/python3';
const probe = existsSync(python) ? spawnSync(python, ['-c', 'import torch, onnx, numpy'], { stdio: 'ignore' }) : { status: 1 };
if (probe.status !== 0) {
  console.warn(
    '\nThe default model preset (public/bundles/tiny/) is not built, and it cannot be built here:\n' +
      `${python} with torch, onnx and numpy is missing.\n` +
      'Install them (Debian/Ubuntu): sudo apt-get install -y python3-torch python3-onnx python3-numpy\n' +
      '(or run `bash scripts/ensure-system.sh`), then `npm run models:tiny`.\n',
  );
  process.exit(0);
}

console.log('\nThe default model preset (public/bundles/tiny/) is not built yet: running `npm run models:tiny` (about 20 s)…');
const run = spawnSync(script, { cwd: root, shell: true, stdio: 'inherit' });
if (run.status !== 0 || !complete()) {
  console.warn('\n`npm run models:tiny` failed (see above). The app starts anyway; run that command again to get the default preset.\n');
}
process.exit(0);
