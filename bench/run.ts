/**
 * `npm run bench`: every benchmark of the project, one after the other. Each prints its
 * own table of ratios against a reference measured in the same run.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const benches = ['bench/features.ts', 'bench/media.ts', 'bench/runtime.ts', 'bench/followup.ts', 'bench/orchestration.ts', 'bench/transformers-generate.ts'].filter((f) => existsSync(f));
let failed = 0;
for (const file of benches) {
  console.log(`\n=== ${file} ===`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', file, ...process.argv.slice(2)], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
