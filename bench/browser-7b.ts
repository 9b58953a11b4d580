/**
 * The full 7B-shape bundle in headless Chromium (not CI; issue 11):
 *
 *   npx tsx bench/browser-7b.ts BUNDLE_DIR [--video e2e/fixtures/out/oneframe.mp4] [--tokens 4]
 *                               [--prefer webgpu|wasm|auto] [--no-node]
 *   npx tsx bench/browser-7b.ts BUNDLE_DIR --text "PROMPT" [--tokens 4] [--prefer webgpu]
 *   npx tsx bench/browser-7b.ts BUNDLE_DIR --probe GRAPH [--build jspi|asyncify] [--mode blob|url|bytes|blobread|traced|wrapped|pulled|counted] [--threads N] [--watch]
 *
 * Serves BUNDLE_DIR from disk (streamed, Content-Length, cross-origin isolation headers) and
 * the app's engine harness (e2e/harness/engine.html: the production worker, URL loader and
 * Cache API) from a Vite dev server; Chromium with --enable-unsafe-webgpu (the software
 * adapter here) loads the bundle by URL and captions --video with --tokens new tokens; then
 * the CLI (onnxruntime-node) captions the same video with the same bundle. Prints the load
 * and caption times, the peak RSS of the whole Chromium process tree (from /proc, sampled
 * every 250 ms), the backends, both id lists and whether they are equal. `--text`: a
 * text-only greedy turn instead of a caption (the LLM alone: its two sessions, no encoder
 * run), the same turn then in-process on onnxruntime-node (the CLI's engine).
 */
import { execFileSync } from 'node:child_process';
import { createReadStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { chromium } from '@playwright/test';
import { createServer as createVite } from 'vite';
import { chromiumArgs } from '../playwright.config';
import { nodeEngine } from '../src/cli/engine';
import { oldestPidWith, treeRss } from './proc';

const ROOT = resolve(import.meta.dirname, '..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const PORT = Number(process.env.BENCH_PORT ?? 5197);

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(name);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : dflt;
}

/** The bundle folder over HTTP under /b/, streamed from disk, as a model host must serve it. */
async function serveBundle(dir: string): Promise<{ base: string; server: Server }> {
  const root = resolve(dir);
  const headers = {
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-embedder-policy': 'require-corp',
    'cross-origin-resource-policy': 'cross-origin',
    'access-control-allow-origin': '*',
  };
  const server = createServer((req, res) => {
    const rel = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).replace(/^\/b\//, '');
    const file = resolve(root, rel);
    if (req.method === 'OPTIONS') return void res.writeHead(204, { ...headers, 'access-control-allow-headers': '*' }).end();
    let size = -1;
    try {
      if (file.startsWith(root + sep)) size = statSync(file).isFile() ? statSync(file).size : -1;
    } catch {
      /* missing */
    }
    if (size < 0) return void res.writeHead(404, headers).end('not found');
    res.writeHead(200, { ...headers, 'content-type': 'application/octet-stream', 'content-length': String(size) });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}/b/`, server };
}

/** The same text-only greedy turn on onnxruntime-node, in this process (the CLI's engine). */
async function nodeComplete(dir: string, prompt: string, tokens: number): Promise<Record<string, unknown>> {
  const engine = nodeEngine({ warmUp: false });
  try {
    const t0 = Date.now();
    await engine.load(dir, { prefer: 'auto' });
    const t1 = Date.now();
    const r = await engine.complete(prompt, { decoding: { kind: 'greedy' }, maxNewTokens: tokens });
    return { promptIds: r.promptTokenIds, ids: r.generatedTokenIds, margins: r.margins, loadSeconds: (t1 - t0) / 1000, completeSeconds: (Date.now() - t1) / 1000, peakRssGiB: gib(process.resourceUsage().maxRSS * 1024) };
  } finally {
    await engine.dispose();
  }
}

const gib = (b: number) => Math.round((b / 2 ** 30) * 100) / 100;

async function main(): Promise<void> {
  const dir = process.argv[2];
  if (!dir || dir.startsWith('--')) throw new Error('usage: npx tsx bench/browser-7b.ts BUNDLE_DIR [--video FILE] [--tokens N] [--prefer webgpu|wasm|auto] [--no-node]');
  const video = resolve(arg('--video', join(ROOT, 'e2e/fixtures/out/oneframe.mp4')));
  const tokens = Number(arg('--tokens', '4'));
  const prefer = arg('--prefer', 'webgpu');
  const text = process.argv.includes('--text') ? arg('--text', '') : null;
  const bundle = await serveBundle(dir);
  const vite = await createVite({ root: ROOT, logLevel: 'error', server: { port: PORT, strictPort: true, host: '127.0.0.1', hmr: false } });
  await vite.listen();
  // A persistent profile on disk, as a user's browser has: Playwright's default contexts are
  // off the record, whose Cache API lives in memory and refuses a multi-GB bundle.
  const profile = mkdtempSync(join(tmpdir(), 'salmonn-7b-profile-'));
  // BENCH_CHROMIUM_ARGS: extra flags, e.g. '--enable-logging=stderr --v=0' (with DEBUG=pw:browser to see the browser's stderr).
  const extra = (process.env.BENCH_CHROMIUM_ARGS ?? '').split(' ').filter(Boolean);
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args: [...chromiumArgs, '--enable-precise-memory-info', ...extra] });
  const pid = oldestPidWith(profile);
  if (pid === null) throw new Error(`the browser's process (profile ${profile}) was not found in /proc`);
  let peak = 0;
  const timer = setInterval(() => (peak = Math.max(peak, treeRss(pid))), 250);
  const report: Record<string, unknown> = { bundle: resolve(dir), video, tokens, prefer };
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (m) => (m.type() === 'error' || m.text().startsWith('[progress]')) && console.error(`[page ${new Date().toISOString().slice(11, 19)}] ${m.text()}`));
    await page.goto(`http://127.0.0.1:${PORT}/e2e/harness/engine.html`);
    await page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready', null, { timeout: 300_000 });
    report.adapter = await page.evaluate(async () => {
      const a = await (navigator as unknown as { gpu?: { requestAdapter(): Promise<{ features: Set<string>; limits: Record<string, number> } | null> } }).gpu?.requestAdapter();
      return a ? { shaderF16: a.features.has('shader-f16'), maxBufferSize: a.limits.maxBufferSize, maxStorageBufferBindingSize: a.limits.maxStorageBufferBindingSize } : null;
    });
    report.browserRssBeforeGiB = gib(treeRss(pid));
    const probeGraph = process.argv.includes('--probe') ? arg('--probe', 'decoder_model_merged') : null;
    if (probeGraph) {
      // One session only (e2e/harness/sessionprobe.ts): --build jspi|asyncify, --mode blob|url|bytes|blobread|traced|wrapped|pulled|counted, --threads N, --watch (pending-promise counts every 5 s).
      await page.goto(`http://127.0.0.1:${PORT}/e2e/harness/sessionprobe.html`);
      await page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready', null, { timeout: 300_000 });
      const probe = { base: bundle.base, graph: probeGraph, ep: prefer === 'wasm' ? 'wasm' : 'webgpu', build: arg('--build', 'jspi'), mode: arg('--mode', 'blob'), threads: Number(arg('--threads', '0')), watch: process.argv.includes('--watch') };
      const t0 = Date.now();
      const r = await page.evaluate((q) => (window as unknown as { sessionProbe: (q: unknown) => Promise<Record<string, unknown>> }).sessionProbe(q), probe);
      report.probe = { ...probe, ...r, wallSeconds: Math.round((Date.now() - t0) / 100) / 10 };
      report.browserPeakRssGiB = gib(peak);
      console.log(JSON.stringify(report, null, 1));
      return;
    }
    if (text !== null) {
      const t0 = Date.now();
      const r = await page.evaluate(
        ([url, p, q, n]) => (window as unknown as { engineHarness: { complete: (u: string, p: string, q: string, n: number) => Promise<Record<string, unknown>> } }).engineHarness.complete(url, p, q, n),
        [bundle.base, prefer, text, tokens] as const,
      );
      report.browser = { ...r, wallSeconds: Math.round((Date.now() - t0) / 100) / 10 };
    } else {
      const videoUrl = `/@fs${video}`;
      const t0 = Date.now();
    const r = await page.evaluate(
      ([url, p, v, n]) => (window as unknown as { engineHarness: { run: (u: string, p: string, v: string, n: number) => Promise<Record<string, unknown>> } }).engineHarness.run(url, p, v, n),
      [bundle.base, prefer, videoUrl, tokens] as const,
    );
      report.browser = { ...r, wallSeconds: Math.round((Date.now() - t0) / 100) / 10 };
    }
    report.browserPeakRssGiB = gib(peak);
  } finally {
    clearInterval(timer);
    await context.close().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
    bundle.server.close();
    await vite.close();
  }
  if (text !== null && !process.argv.includes('--no-node')) {
    report.node = await nodeComplete(resolve(dir), text, tokens);
    const b = report.browser as { ids?: number[]; promptIds?: number[] };
    const n = report.node as { ids: number[]; promptIds: number[] };
    report.promptIdsEqual = JSON.stringify(b.promptIds) === JSON.stringify(n.promptIds);
    report.idsEqual = JSON.stringify(b.ids) === JSON.stringify(n.ids);
    // Each step's top-1 − top-2 logit on both sides: a check of the logits themselves, not only of their argmax.
    const [bm, nm] = [(report.browser as { margins?: number[] }).margins ?? [], (report.node as { margins: number[] }).margins];
    report.marginDiffs = nm.map((m, i) => (bm[i] === undefined ? null : Math.abs(bm[i] - m)));
  } else if (!process.argv.includes('--no-node') && !process.argv.includes('--probe')) {
    const t = Date.now();
    const out = execFileSync('npx', ['tsx', 'src/cli/caption.ts', video, '--json', '--bundle', resolve(dir), '--max-new-tokens', String(tokens)], { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 26 });
    const ids = (JSON.parse(out) as { generatedTokenIds: number[] }).generatedTokenIds;
    report.node = { ids, seconds: Math.round((Date.now() - t) / 100) / 10 };
    const b = report.browser as { ids?: number[] };
    report.idsEqual = JSON.stringify(b.ids) === JSON.stringify(ids);
  }
  console.log(JSON.stringify(report, null, 1));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
