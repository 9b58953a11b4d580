/**
 * Runtime bench (`npx tsx bench/runtime.ts [--siglip] [--only tiny|qwen|qwen-q4] [--split]
 * [--prefill N] [--steps N] [--webgpu-prefill N] [--webgpu-steps N]`, part of `npm run bench`).
 *
 * `--prefill N` / `--steps N`: the decoder stage's prompt rows and timed decode steps for
 * every column (default: each target's own). `--webgpu-prefill N` / `--webgpu-steps N`: the
 * same for the WebGPU column only (default 31 rows — one of the app's ≤ 31-row runs — and 3
 * steps: the software adapter, SwiftShader, takes minutes per run of a 0.5B decoder). Each
 * column's rows and steps are in the table.
 *
 * `--split`: instead of the stages, the decode step split into its parts (embedding,
 * feeds, decoder run — on WASM its copies in/out of the heap —, logits, cache swap) at 256
 * and 4096 rows of context, for the tiny bundle and the Qwen2-0.5B-shaped q4 bundle (the
 * fp32 one does not load on WASM), in Node and in Chromium (WASM).
 *
 * Per-stage times (session creation, vision encoder, audio encoder, aligner, prefill,
 * decode tokens/s) of
 *   - the tiny bundle (public/bundles/tiny), and
 *   - random-weight bundles with REAL shapes, exported on demand by the Python exporter
 *     (`export.py --random-shape …`, under public/bundles/bench-*, git-ignored):
 *     Qwen2-0.5B decoder + Whisper-base encoder (+ the checkpoint's Q-Former), and with
 *     --siglip also SigLIP-so400m (26 layers, 384 px),
 *   - the Qwen2-0.5B-shaped q4 bundle of the e2e tests (`npm run models:qwen05-q4`),
 * each in Node (onnxruntime-node, CPU EP) and in headless Chromium (onnxruntime-web WASM in
 * a module worker, configured as the app's worker) on the same graph files and the same
 * thread count, the q4 one also on Chromium's WebGPU (`--enable-unsafe-webgpu`; the column
 * names the adapter: a software fallback, or the GPU), with the browser/native ratios from
 * the same run. Synthetic inputs; the
 * decode loop is the app's `generate`. Writes .test-output/bench-runtime.json.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statfsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium, type Page } from '@playwright/test';
import { createServer } from 'vite';
import { chromiumArgs } from '../playwright.config';
import type { BundleManifest, GraphName } from '../src/core/bundle/manifest';
import { ortNode } from '../src/cli/ort-node';
import { benchBundle, benchDecodeSplit, type BenchConfig, type StageResult, type StepSplit } from './runtime-core';

const ROOT = resolve(import.meta.dirname, '..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const PORT = Number(process.env.BENCH_RUNTIME_PORT ?? 5251);
const THREADS = 2; // = the browser's min(4, hardwareConcurrency) on these 2-core machines
const args = process.argv.slice(2);
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : null;
/** The positive integer after `flag`, or undefined when the flag is absent. */
function intArg(flag: string): number | undefined {
  if (!args.includes(flag)) return undefined;
  const v = Number(args[args.indexOf(flag) + 1]);
  if (!Number.isInteger(v) || v < 1) throw new Error(`${flag} needs a positive integer`);
  return v;
}
const PREFILL = intArg('--prefill');
const STEPS = intArg('--steps');
/** The WebGPU column's decoder stage: one ≤ 31-row prefill run (decoder.ts maxRowsPerRun) and 3 steps unless told. */
const WEBGPU_PREFILL = intArg('--webgpu-prefill') ?? PREFILL ?? 31;
const WEBGPU_STEPS = intArg('--webgpu-steps') ?? STEPS ?? 3;

interface Target {
  key: string;
  dir: string;
  /** export.py --random-shape presets; null: the tiny bundle (npm run models:tiny). */
  shapes: string[] | null;
  label: string;
  config: BenchConfig;
  /** More export.py flags (e.g. --dtype q4). */
  exportArgs?: string[];
  /** The npm script that builds the bundle (instead of export.py with `shapes`). */
  npmScript?: string;
  /** Stages also on Chromium's WebGPU (the app's placement; the adapter's facts label the column). */
  webgpu?: boolean;
}

/** The Qwen2-0.5B-shaped q4 bundle of e2e/large-bundle.spec.ts (`npm run models:qwen05-q4`): stages also on WebGPU; the decode split. */
const QWEN_Q4: Target = {
  key: 'qwen-q4',
  dir: 'qwen05-q4',
  shapes: ['qwen2-0.5b'],
  npmScript: 'models:qwen05-q4',
  label: 'Qwen2-0.5B shapes (q4; tiny encoders)',
  config: { frames: 4, audioWindows: 1, prefillTokens: 256, decodeSteps: 6, repeats: 1 },
  webgpu: true,
};

const TARGETS: Target[] = [
  { key: 'tiny', dir: 'tiny', shapes: null, label: 'tiny (tests)', config: { frames: 4, audioWindows: 1, prefillTokens: 256, decodeSteps: 64, repeats: 3 } },
  {
    key: 'qwen',
    dir: 'bench-qwen2-0.5b-whisper-base',
    shapes: ['qwen2-0.5b', 'whisper-base'],
    label: 'Qwen2-0.5B + Whisper-base shapes (fp32)',
    config: { frames: 4, audioWindows: 1, prefillTokens: 256, decodeSteps: 12, repeats: 2 },
  },
  QWEN_Q4,
];
for (const t of TARGETS) t.config = { ...t.config, prefillTokens: PREFILL ?? t.config.prefillTokens, decodeSteps: STEPS ?? t.config.decodeSteps };
const webGpuConfig = (t: Target): BenchConfig => ({ ...t.config, prefillTokens: WEBGPU_PREFILL, decodeSteps: WEBGPU_STEPS });
const SPLIT = args.includes('--split');
// Spinning on (ORT's default, what the app did before) and off, in the same run; the 0.5B
// only off (the app's setting: its two-core comparison is in bench/README.md), 4 steps.
const splitConfig = (t: Target) =>
  (t.key === 'tiny' ? [true, false] : [false]).map((spinning) => ({ contexts: [256, 4096], steps: t.key === 'tiny' ? 24 : 4, prefillChunk: 512, spinning }));
// The split: the tiny bundle and the 0.5B q4 one (the fp32 one does not load on WASM).
if (SPLIT) TARGETS.splice(1, 1);
if (args.includes('--siglip')) {
  TARGETS.push({
    key: 'siglip',
    dir: 'bench-siglip-so400m',
    shapes: ['siglip-so400m'],
    label: 'SigLIP-so400m shapes (fp32; tiny LLM/audio)',
    config: { frames: 2, audioWindows: 1, prefillTokens: 64, decodeSteps: 8, repeats: 1 },
  });
}

function ensureBundle(t: Target): string {
  const dir = join(ROOT, 'public', 'bundles', t.dir);
  if (existsSync(join(dir, 'bundle.json'))) return dir;
  const freeGb = (() => {
    const s = statfsSync(ROOT);
    return (s.bavail * s.bsize) / 2 ** 30;
  })();
  if (freeGb < 8) throw new Error(`${dir} is missing and only ${freeGb.toFixed(1)} GB are free: need ~8 GB to export it`);
  if (t.npmScript) {
    console.log(`building ${t.label}: npm run ${t.npmScript}…`);
    execFileSync('npm', ['run', '--silent', t.npmScript], { cwd: ROOT, stdio: 'inherit' });
    return dir;
  }
  const py = ['models/export/export.py', ...(t.shapes ? ['--random-shape', t.shapes.join(',')] : ['--tiny']), '--seed', '0', ...(t.exportArgs ?? []), '--out', dir];
  console.log(`exporting ${t.label}: /usr/bin/python3 ${py.join(' ')} (a few minutes)…`);
  execFileSync('/usr/bin/python3', py, { cwd: ROOT, stdio: 'inherit' });
  return dir;
}

function nodeLoader(dir: string, m: BundleManifest) {
  return async (name: GraphName) => {
    const g = m.graphs[name];
    return {
      model: new Uint8Array(readFileSync(join(dir, g.path))),
      externalData: g.externalData.map((e) => ({ path: e.path.split('/').pop()!, data: new Uint8Array(readFileSync(join(dir, e.path))) })),
    };
  };
}

/** A figure with `digits` decimals; under 1, two significant digits (a software adapter's 0.014 tokens/s is not 0.0). */
const fmt = (x: number, digits = 1) => (!Number.isFinite(x) ? '—' : Math.abs(x) < 1 && x !== 0 ? x.toPrecision(2) : x.toFixed(digits));

interface Column {
  name: string;
  result: StageResult;
  /** The column's own stage settings (the WebGPU one prefills fewer rows and decodes fewer steps). */
  config: BenchConfig;
}

/** One row per stage: Node, then each Chromium column with its browser / native ratio. */
function table(t: Target, node: StageResult, web: Column[]): string {
  const c = t.config;
  const same = web.every((w) => w.config.prefillTokens === c.prefillTokens && w.config.decodeSteps === c.decodeSteps);
  type Row = [string, keyof StageResult | 'prefillTokens' | 'decodeSteps', boolean];
  const settings: Row[] = [
    ['prefill rows (this column)', 'prefillTokens', false],
    ['timed decode steps (this column)', 'decodeSteps', false],
  ];
  const rows: Row[] = [
    ['session create (all graphs), ms', 'sessionCreate', false],
    [`vision encoder, ${c.frames} frames, ms`, 'vision', false],
    [`audio encoder, ${c.audioWindows} × 30 s window, ms`, 'audioEncoder', false],
    ['aligner (Q-Former + projections), ms', 'aligner', false],
    ...(same ? [] : settings),
    [same ? `prefill, ${c.prefillTokens} tokens, ms` : 'prefill, ms', 'prefill', false],
    [`prefill, tokens/s`, 'prefill', true],
    ['decode, ms per token', 'decodeStepMs', false],
    ['decode, tokens/s', 'tokensPerSecond', true],
  ];
  const lines = [`| ${t.label} | Node (ORT CPU) | ${web.map((w) => `${w.name} | ${w.name} / native`).join(' | ')} |`, `|---|---:|${web.map(() => '---:|---:|').join('')}`];
  for (const [name, key, rate] of rows) {
    if (key === 'prefillTokens' || key === 'decodeSteps') {
      lines.push(`| ${name} | ${c[key]} | ${web.map((w) => `${w.config[key]} | `).join(' | ')} |`);
      continue;
    }
    // prefill tokens/s from its ms (each column's own rows); a ratio is "how many times slower the browser is": time ratio, or inverse rate ratio.
    const value = (r: StageResult, cfg: BenchConfig) => (name === 'prefill, tokens/s' ? (cfg.prefillTokens * 1000) / r.prefill : (r[key] as number));
    const n = value(node, c);
    const ratio = (w: Column) => (!same && key === 'prefill' && !rate ? '—' : `${fmt(rate ? n / value(w.result, w.config) : value(w.result, w.config) / n, 2)}×`);
    lines.push(`| ${name} | ${fmt(n)} | ${web.map((w) => `${fmt(value(w.result, w.config))} | ${ratio(w)}`).join(' | ')} |`);
  }
  const failed = [['node', node] as const, ...web.map((w) => [w.name, w.result] as const)].flatMap(([where, r]) => Object.entries(r.failed).map(([k, v]) => [`${where} ${k}`, v]));
  for (const [k, v] of failed) lines.push(`| FAILED ${k} | ${v.slice(0, 160).replace(/\|/g, '/')} |${web.map(() => ' | |').join('')}`);
  return lines.join('\n');
}

const ms = (x: number | null) => (x === null ? '—' : x.toFixed(2));

function splitTable(t: Target, rows: { where: string; split: StepSplit[] }[]): string {
  const lines = [
    `| ${t.label}, ms per token | ORT threads | context | embed_tokens run | embed now (row lookup) | feeds | decoder run | of which copy in (heap) | of which copy out | logits | cache swap | rest of the loop | step: embed run → row lookup | KV MB per step |`,
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const { where, split } of rows) {
    for (const s of split) {
      const before = s.total - s.embed + s.embedRun;
      const rest = s.total - s.embed - s.feeds - s.run - s.logits - s.cache;
      lines.push(`| ${where} | ${s.spinning ? 'spin' : 'sleep'} | ${s.context} | ${ms(s.embedRun)} | ${ms(s.embed)} | ${ms(s.feeds)} | ${ms(s.run)} | ${ms(s.copyIn)} | ${ms(s.copyOut)} | ${ms(s.logits)} | ${ms(s.cache)} | ${ms(rest)} | ${ms(before)} → **${ms(s.total)}** | ${(s.kvBytes / 2 ** 20).toFixed(1)} |`);
    }
  }
  return lines.join('\n');
}

type Row = { table: string; record: unknown };
type TargetRun = (t: Target, dir: string, manifest: BundleManifest, openPage: () => Promise<Page>) => Promise<Row>;

/** One Vite server and one Chromium for all targets; each target's table and record go to the console and `.test-output/<file>`. */
async function runTargets(targets: Target[], dirs: string[], file: string, run: TargetRun) {
  const server = await createServer({ root: ROOT, logLevel: 'error', server: { port: PORT, strictPort: true, host: '127.0.0.1' } });
  await server.listen();
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: chromiumArgs });
  const openPage = async () => {
    const page = await browser.newPage();
    page.on('console', (m) => console.log(`  [chromium] ${m.text()}`));
    await page.goto(`http://127.0.0.1:${PORT}/bench/runtime.html`);
    await page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready');
    return page;
  };
  const out: Record<string, unknown> = {};
  const tables: string[] = [];
  try {
    for (const [i, t] of targets.entries()) {
      const manifest = JSON.parse(readFileSync(join(dirs[i], 'bundle.json'), 'utf8')) as BundleManifest;
      const { table, record } = await run(t, dirs[i], manifest, openPage);
      console.log(`\n${table}`);
      tables.push(table);
      out[t.key] = record;
    }
  } finally {
    await browser.close();
    await server.close();
  }
  console.log(`\n${tables.join('\n\n')}`);
  mkdirSync(join(ROOT, '.test-output'), { recursive: true });
  writeFileSync(join(ROOT, '.test-output', file), JSON.stringify(out, null, 2));
  console.log(`\nwrote .test-output/${file}`);
}

const splitRun: TargetRun = async (t, dir, manifest, openPage) => {
  console.log(`\n${t.label}: decode split, Node…`);
  const node: StepSplit[] = [];
  for (const cfg of splitConfig(t)) node.push(...(await benchDecodeSplit(ortNode(), manifest, nodeLoader(dir, manifest), 'cpu', THREADS, cfg, null, console.log)));
  console.log(`${t.label}: decode split, Chromium WASM…`);
  const page = await openPage();
  let r: { split?: StepSplit[]; threads: number } = { threads: 0 };
  try {
    r = await page.evaluate((req) => window.benchRuntime(req), { bundleUrl: `/bundles/${t.dir}/`, config: t.config, split: splitConfig(t) });
  } catch (e) {
    console.log(`  Chromium FAILED: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
  }
  await page.close();
  const table = splitTable(t, [
    { where: `Node (ORT CPU, ${THREADS} threads)`, split: node },
    { where: `Chromium (ORT WASM, ${r.threads} threads)`, split: r.split ?? [] },
  ]);
  return { table, record: { label: t.label, config: splitConfig(t), node, chromium: r.split, threads: { node: THREADS, wasm: r.threads } } };
};

type WebRun = Awaited<ReturnType<Window['benchRuntime']>>;

/** Minutes one Chromium column may take (the software WebGPU adapter runs a 0.5B decoder for many minutes); `BENCH_RUNTIME_COLUMN_MIN`. */
const COLUMN_MIN = Number(process.env.BENCH_RUNTIME_COLUMN_MIN ?? 15);

/** The stages in a fresh page's worker on one backend; a failure (or no result within COLUMN_MIN) becomes the column's `failed.all`. */
async function chromiumStages(t: Target, openPage: () => Promise<Page>, backend: 'wasm' | 'webgpu', config: BenchConfig = t.config): Promise<WebRun> {
  const page = await openPage();
  let timer: NodeJS.Timeout | undefined;
  try {
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no result within ${COLUMN_MIN} min (BENCH_RUNTIME_COLUMN_MIN); the stages done by then are in the log`)), COLUMN_MIN * 60_000);
    });
    const r = await Promise.race([page.evaluate((req) => window.benchRuntime(req), { bundleUrl: `/bundles/${t.dir}/`, config, backend }), late]);
    if (!r.isolated) console.log('  warning: the page is not cross-origin isolated (single-threaded WASM)');
    return r;
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    return { result: { sessionCreate: NaN, vision: NaN, audioEncoder: NaN, aligner: NaN, prefill: NaN, decodeStepMs: NaN, tokensPerSecond: NaN, failed: { all: msg } }, threads: 0, isolated: false };
  } finally {
    clearTimeout(timer);
    await page.close();
  }
}

/** The column's name: a software adapter's figures say so; a real GPU's name its vendor and architecture. */
function webGpuColumn(r: WebRun): string {
  const a = r.webgpu?.adapter;
  if (!a) return 'Chromium (ORT WebGPU; no result: the adapter is in the log)';
  const name = [a.vendor, a.architecture].filter(Boolean).join(' ') || a.description || 'unknown adapter';
  return `Chromium (ORT WebGPU, ${a.isFallback ? `software adapter: ${name}` : `GPU: ${name}`})`;
}

const stageRun: TargetRun = async (t, dir, manifest, openPage) => {
  console.log(`\n${t.label}: Node (onnxruntime-node, ${THREADS} threads)…`);
  const node = await benchBundle(ortNode(), manifest, nodeLoader(dir, manifest), 'cpu', THREADS, t.config, console.log);
  console.log(`${t.label}: Chromium (onnxruntime-web WASM)…`);
  const wasm = await chromiumStages(t, openPage, 'wasm');
  const columns: Column[] = [{ name: 'Chromium (ORT WASM)', result: wasm.result, config: t.config }];
  let gpu: WebRun | null = null;
  const gpuConfig = webGpuConfig(t);
  if (t.webgpu) {
    console.log(`${t.label}: Chromium (onnxruntime-web WebGPU; prefill ${gpuConfig.prefillTokens} rows, ${gpuConfig.decodeSteps} decode steps)…`);
    gpu = await chromiumStages(t, openPage, 'webgpu', gpuConfig);
    if (gpu.webgpu) console.log(`  WebGPU adapter: ${JSON.stringify(gpu.webgpu.adapter)}, ORT build ${gpu.webgpu.ortBuild}`);
    columns.push({ name: webGpuColumn(gpu), result: gpu.result, config: gpuConfig });
  }
  const adapterLine = gpu?.webgpu ? `, WebGPU adapter: ${JSON.stringify(gpu.webgpu.adapter)} (ORT ${gpu.webgpu.ortBuild} build)` : '';
  return {
    table: `WASM threads: ${wasm.threads}, Node intra-op threads: ${THREADS}${adapterLine}\n${table(t, node, columns)}`,
    record: { label: t.label, config: t.config, node, chromium: wasm.result, ...(gpu ? { webgpu: gpu.result, webgpuConfig: gpuConfig, adapter: gpu.webgpu ?? null } : {}), threads: { node: THREADS, wasm: wasm.threads } },
  };
};

async function main() {
  const targets = TARGETS.filter((t) => !only || t.key === only);
  const dirs = targets.map(ensureBundle);
  if (SPLIT) return runTargets(targets, dirs, 'bench-decode-split.json', splitRun);
  return runTargets(targets, dirs, 'bench-runtime.json', stageRun);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
