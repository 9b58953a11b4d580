/**
 * MatMulNBits on WASM (`npx tsx bench/matmul-wasm.ts [--threads 1,2] [--m 1,32] [--runs N]
 * [--warmup N] [--only SHAPE,...] [--variants V,...] [--lm-head] [--ort-log]`; not CI): one Linear layer of the Qwen2-0.5B
 * decoder at its real shapes, as MatMulNBits 4-bit (accuracy_level 0 and 4), as an fp32
 * MatMul of the same dequantised weight, and as a 'q8' export's DynamicQuantizeLinear +
 * MatMulInteger (int8 / uint8 weights), timed in onnxruntime-node (CPU EP) and in headless
 * Chromium (onnxruntime-web WASM EP in a module worker, as the app loads it) at each thread
 * count, in the same run. Graphs: bench/matmul_graphs.py (numpy, seed 0) into
 * .test-output/matmul-wasm/ (`--lm-head` adds the 896 × 151936 lm_head: ≈ 1.1 GB of graphs in all).
 * Prints the ms table with the MatMulNBits/fp32 and MatMulNBits/q8 ratios per platform, the
 * WASM/Node ratios, each output's max |Δ| against the fp32 graph's, and a 0.5B decode step
 * extrapolated from it (24 layers × q, k, v, o, gate, up, down + lm_head). Writes
 * .test-output/bench-matmul-wasm.json. Only ratios within one run mean anything. `--ort-log`:
 * every session at ORT's INFO log level (which MatMulNBits path the kernel takes).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from '@playwright/test';
import { createServer } from 'vite';
import { chromiumArgs } from '../playwright.config';
import { ortNode } from '../src/cli/ort-node';
import { benchMatmul, VARIANTS, type MatmulConfig, type MatmulManifest, type MatmulRow, type Variant } from './matmul-core';
import type { MatmulRequest } from './matmul-worker';

const ROOT = resolve(import.meta.dirname, '..');
const DIR = join(ROOT, '.test-output', 'matmul-wasm');
const PORT = Number(process.env.BENCH_RUNTIME_PORT ?? 5251);
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const args = process.argv.slice(2);
const opt = (name: string, fallback: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const list = (name: string, fallback: string) => opt(name, fallback).split(',').filter(Boolean);
const THREADS = list('--threads', '1,2').map(Number);
const LM_HEAD = args.includes('--lm-head');
const config: MatmulConfig = { ms: list('--m', '1,32').map(Number), warmup: Number(opt('--warmup', '3')), runs: Number(opt('--runs', '15')), variants: list('--variants', VARIANTS.join(',')) as Variant[], shapes: list('--only', ''), ortLog: args.includes('--ort-log') };

/** Linears per decoder layer by shape (q/o, k/v, gate/up, down), 24 layers, and the lm_head (one row per run). */
const PER_LAYER: Record<string, number> = { attn_q_o: 2, attn_k_v: 2, mlp_gate_up: 2, mlp_down: 1 };
const LAYERS = 24;
const LM_HEAD_N = 151936;

type Platform = 'Node' | 'WASM';
type Row = MatmulRow & { platform: Platform };

function ensureGraphs(): MatmulManifest {
  const path = join(DIR, 'manifest.json');
  const has = existsSync(path) && (JSON.parse(readFileSync(path, 'utf8')) as MatmulManifest).shapes.some((s) => s.name === 'lm_head');
  if (!existsSync(path) || (LM_HEAD && !has)) {
    console.log(`building the graphs into ${DIR} (bench/matmul_graphs.py)`);
    execFileSync('/usr/bin/python3', [join(ROOT, 'bench/matmul_graphs.py'), DIR, ...(LM_HEAD ? ['--lm-head'] : [])], { stdio: 'inherit' });
  }
  const m = JSON.parse(readFileSync(path, 'utf8')) as MatmulManifest;
  if (!LM_HEAD) m.shapes = m.shapes.filter((s) => s.name !== 'lm_head');
  return m;
}

const load1 = () => loadavg()[0].toFixed(2);
const f = (x: number | undefined, d = 2) => (x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(d));

function tables(rows: Row[], shapes: MatmulManifest['shapes']): string {
  const get = (p: Platform, s: string, v: Variant, m: number, t: number) => rows.find((r) => r.platform === p && r.shape === s && r.variant === v && r.M === m && r.threads === t)?.ms;
  const out: string[] = [];
  out.push(`| shape (K × N) | M | threads | platform | ${VARIANTS.map((v) => `${v} ms`).join(' | ')} | nbits0 / fp32 | nbits4 / fp32 | nbits4 / q8 | nbits4 / q8u |`);
  out.push(`|---|---:|---:|---|${VARIANTS.map(() => '---:').join('|')}|---:|---:|---:|---:|`);
  for (const s of shapes)
    for (const t of THREADS)
      for (const m of s.ms ?? config.ms) {
        for (const p of ['Node', 'WASM'] as const) {
          const ms = (v: Variant) => get(p, s.name, v, m, t);
          const ratio = (a: Variant, b: Variant) => f(ms(a)! / ms(b)!, 1) + '×';
          out.push(`| ${s.name} (${s.K} × ${s.N}) | ${m} | ${t} | ${p} | ${VARIANTS.map((v) => f(ms(v))).join(' | ')} | ${ratio('nbits0', 'fp32')} | ${ratio('nbits4', 'fp32')} | ${ratio('nbits4', 'q8')} | ${ratio('nbits4', 'q8u')} |`);
        }
        out.push(`| | | | WASM / Node | ${VARIANTS.map((v) => f(get('WASM', s.name, v, m, t)! / get('Node', s.name, v, m, t)!, 1) + '×').join(' | ')} | | | | |`);
      }
  out.push('', '0.5B decoder run extrapolated (24 layers × (2 q/o + 2 k/v + 2 gate/up + 1 down) at M rows + lm_head at 1 row' + (LM_HEAD ? ', measured' : ', scaled from gate/up by N') + '), ms:', '');
  out.push(`| M | threads | platform | ${VARIANTS.join(' | ')} |`, `|---:|---:|---|${VARIANTS.map(() => '---:').join('|')}|`);
  for (const t of THREADS)
    for (const m of config.ms)
      for (const p of ['Node', 'WASM'] as const) {
        const est = (v: Variant) => {
          let sum = 0;
          for (const [name, n] of Object.entries(PER_LAYER)) sum += LAYERS * n * (get(p, name, v, m, t) ?? NaN);
          sum += LM_HEAD ? (get(p, 'lm_head', v, 1, t) ?? NaN) : ((get(p, 'mlp_gate_up', v, 1, t) ?? NaN) * LM_HEAD_N) / 4864;
          return sum;
        };
        out.push(`| ${m} | ${t} | ${p} | ${VARIANTS.map((v) => f(est(v), 0)).join(' | ')} |`);
      }
  out.push('', 'max abs (Y − Y_fp32), in brackets max abs (Y − float64 reference), at the largest M and thread count:', '');
  const mMax = Math.max(...config.ms);
  const tMax = Math.max(...THREADS);
  out.push(`| shape | platform | reference max abs | ${VARIANTS.join(' | ')} |`, `|---|---|---:|${VARIANTS.map(() => '---:').join('|')}|`);
  for (const s of shapes)
    for (const p of ['Node', 'WASM'] as const) {
      const r = (v: Variant) => rows.find((x) => x.platform === p && x.shape === s.name && x.variant === v && x.M === Math.max(...(s.ms ?? [mMax])) && x.threads === tMax);
      out.push(`| ${s.name} | ${p} | ${f(r('fp32')?.refMaxAbs, 3)} | ${VARIANTS.map((v) => `${r(v)?.maxAbsVsFp32.toExponential(1) ?? '—'} (${r(v)?.maxAbsVsRef.toExponential(1) ?? '—'})`).join(' | ')} |`);
    }
  return out.join('\n');
}

async function main() {
  const manifest = ensureGraphs();
  const startedAt = new Date().toISOString();
  const loads: string[] = [`start ${load1()}`];
  console.log(`load average ${load1()} at the start (${startedAt})`);
  const server = await createServer({ root: ROOT, logLevel: 'error', server: { port: PORT, strictPort: true, host: '127.0.0.1', hmr: false } });
  await server.listen();
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: chromiumArgs });
  const rows: Row[] = [];
  try {
    const page = await browser.newPage();
    page.on('console', (m) => console.log(`  [chromium] ${m.text()}`));
    await page.goto(`http://127.0.0.1:${PORT}/bench/matmul.html`);
    await page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready');
    const nodeLoad = (file: string) => Promise.resolve(new Uint8Array(readFileSync(join(DIR, file))));
    for (const threads of THREADS) {
      // Node and WASM back to back at each thread count, so a load change touches both alike.
      const node = await benchMatmul(ortNode(), 'cpu', threads, manifest, nodeLoad, config, (t) => console.log(t));
      rows.push(...node.map((r) => ({ ...r, platform: 'Node' as const })));
      loads.push(`Node ${threads}t done ${load1()}`);
      const req: MatmulRequest = { dirUrl: `/@fs${DIR}/`, threads, config };
      const web = await page.evaluate((q) => window.benchMatmul(q), req);
      if (!web.isolated || web.threads !== threads) throw new Error(`WASM ran ${web.threads} threads (isolated: ${web.isolated}), asked ${threads}`);
      rows.push(...web.rows.map((r) => ({ ...r, platform: 'WASM' as const })));
      loads.push(`WASM ${threads}t done ${load1()}`);
    }
  } finally {
    await browser.close();
    await server.close();
  }
  console.log(`\nload average: ${loads.join(', ')}\n`);
  console.log(tables(rows, manifest.shapes.filter((s) => !config.shapes.length || config.shapes.includes(s.name))));
  mkdirSync(join(ROOT, '.test-output'), { recursive: true });
  writeFileSync(join(ROOT, '.test-output', 'bench-matmul-wasm.json'), JSON.stringify({ startedAt, endedAt: new Date().toISOString(), loads, config, threads: THREADS, rows }, null, 2));
  console.log('\nwrote .test-output/bench-matmul-wasm.json');
}

await main();
