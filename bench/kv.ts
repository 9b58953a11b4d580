/**
 * KV cache bench (`npx tsx bench/kv.ts [--bundle DIR]... [--context N] [--steps N]`; not CI):
 * decode steps of a bundle's LLM on WebGPU in headless Chromium, the decoder's `present.*`
 * kept on the GPU as `gpu-buffer` and fed back as the next `past_key_values.*` (what the app
 * does, runtime/sessions.ts) against read back to the CPU every step (`cpu`), in the same
 * run. Default bundle: public/bundles/tiny-q4. On the software adapter only the ratio means
 * anything (bench/README.md).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium } from '@playwright/test';
import { createServer } from 'vite';
import { chromiumArgs } from '../playwright.config';
import type { KvRequest, KvResult } from './kv-page';

const ROOT = resolve(import.meta.dirname, '..');
const PORT = Number(process.env.BENCH_KV_PORT ?? 5261);
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback);
const bundles = args.flatMap((a, i) => (a === '--bundle' ? [resolve(args[i + 1])] : []));
if (!bundles.length) bundles.push(join(ROOT, 'public/bundles/tiny-q4'));
const context = flag('--context', 256);
const steps = flag('--steps', 16);

async function main() {
  const server = await createServer({ root: ROOT, logLevel: 'error', server: { port: PORT, strictPort: true, host: '127.0.0.1', hmr: false, fs: { allow: [ROOT, ...bundles] } } });
  await server.listen();
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: chromiumArgs });
  const rows: (KvResult & { bundle: string })[] = [];
  try {
    const page = await browser.newPage();
    page.on('console', (m) => console.log(`  [chromium] ${m.text()}`));
    await page.goto(`http://127.0.0.1:${PORT}/bench/kv.html`);
    await page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready');
    for (const dir of bundles) {
      // Alternating order, twice each, so a warmer second run does not favour one mode.
      for (const kv of ['gpu-buffer', 'cpu', 'cpu', 'gpu-buffer'] as const) {
        const req: KvRequest = { bundleUrl: `/@fs${dir}/`, kv, context, steps };
        const r = await page.evaluate((q) => window.benchKv(q), req);
        console.log(`${dir} ${kv}: ${r.stepMs.toFixed(1)} ms/step (run ${r.runMs.toFixed(1)}, cache ${r.cacheMs.toFixed(2)}) on ${r.backends.join('+')}`);
        rows.push({ ...r, bundle: dir });
      }
    }
  } finally {
    await browser.close();
    await server.close();
  }
  const table = ['| bundle | context | KV | ms/step (mean of 2 runs) | decoder run (median) | cache swap (median) | cpu / gpu-buffer |', '|---|---|---|---|---|---|---|'];
  for (const dir of bundles) {
    const of = (kv: string) => rows.filter((r) => r.bundle === dir && r.kv === kv);
    const mean = (rs: KvResult[], k: 'stepMs' | 'runMs' | 'cacheMs') => rs.reduce((s, r) => s + r[k], 0) / rs.length;
    const [g, c] = [of('gpu-buffer'), of('cpu')];
    for (const [kv, rs] of [['gpu-buffer', g], ['cpu', c]] as const) {
      table.push(`| ${dir.split('/').pop()} | ${context} | ${kv} | ${mean(rs, 'stepMs').toFixed(1)} | ${mean(rs, 'runMs').toFixed(1)} | ${mean(rs, 'cacheMs').toFixed(2)} | ${kv === 'cpu' ? (mean(c, 'stepMs') / mean(g, 'stepMs')).toFixed(2) : ''} |`);
    }
  }
  console.log(`\n${table.join('\n')}`);
  mkdirSync(join(ROOT, '.test-output'), { recursive: true });
  writeFileSync(join(ROOT, '.test-output', 'bench-kv.json'), JSON.stringify({ context, steps, rows }, null, 2));
  console.log('\nwrote .test-output/bench-kv.json');
}

await main();
