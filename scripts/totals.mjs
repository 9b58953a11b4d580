// Adds up every runner's results from .test-output and prints one plain totals line.
// Exit code: 0 when nothing failed and something ran.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const out = process.argv[2] ?? '.test-output';
const rows = [];
const read = (f) => (existsSync(join(out, f)) ? readFileSync(join(out, f), 'utf8') : null);

const checks = read('checks.tsv');
if (checks) {
  const lines = checks.trim().split('\n').filter(Boolean);
  rows.push(['checks', lines.filter((l) => l.endsWith('\tpassed')).length, lines.filter((l) => !l.endsWith('\tpassed')).length, 0]);
}

const vitest = read('vitest.json');
if (vitest) {
  const v = JSON.parse(vitest);
  // A suite that failed to load has no tests: count it as a failure.
  const brokenFiles = (v.testResults ?? []).filter((r) => r.status === 'failed' && (r.assertionResults ?? []).length === 0).length;
  rows.push(['vitest', v.numPassedTests, v.numFailedTests + brokenFiles, v.numPendingTests + v.numTodoTests]);
} else rows.push(['vitest', 0, 1, 0]);

const pytest = read('pytest.xml');
if (pytest) {
  const attr = (name) => [...pytest.matchAll(new RegExp(`<testsuite[^>]*\\s${name}="(\\d+)"`, 'g'))].reduce((s, m) => s + Number(m[1]), 0);
  const total = attr('tests'), failed = attr('failures') + attr('errors'), skipped = attr('skipped');
  rows.push(['pytest', total - failed - skipped, failed, skipped]);
} else if (existsSync('models/export/tests')) rows.push(['pytest', 0, 1, 0]);

const pw = read('playwright.json');
if (pw) {
  const s = JSON.parse(pw).stats ?? {};
  const loadErrors = (JSON.parse(pw).errors ?? []).length;
  rows.push(['playwright', s.expected ?? 0, (s.unexpected ?? 0) + (s.flaky ?? 0) + loadErrors, s.skipped ?? 0]);
} else rows.push(['playwright', 0, 1, 0]);

let passed = 0, failed = 0, skipped = 0;
console.log('\nTest totals by runner:');
for (const [name, p, f, s] of rows) {
  console.log(`  ${name.padEnd(11)} ${p} passed, ${f} failed${s ? `, ${s} skipped` : ''}`);
  passed += p; failed += f; skipped += s;
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
