import { createHash } from 'node:crypto';
import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, test, type APIRequestContext, type Page } from '@playwright/test';
import type { RobustHarness, RobustRun, RunPlan } from './harness/robust';
import type { DebugAction, WorkerStats } from './harness/debug';
import type { Prefer } from '../src/core/runtime/backend';

/**
 * Robustness of the runtime in real Chromium, through the app's worker engine and
 * protocol (src/worker/serve.ts, run by the harness worker e2e/harness/debug.worker.ts,
 * which adds memory stats and a real GPU device loss) driven by the app's WorkerEngine,
 * on a real mp4 (the tiny bundle's ffmpeg fixture): interrupts at two stages, a real
 * WebGPU device loss, corrupt graph files, and memory over repeated captions.
 */

const TINY = '/bundles/tiny/';
const MB = 2 ** 20;

async function open(page: Page): Promise<void> {
  page.on('console', (m) => {
    if (m.type() === 'error') console.log(`[page] ${m.text()}`);
  });
  await page.goto('/e2e/harness/robust.html');
  await expect(page.getByTestId('status')).toHaveText('ready');
}

const h = (page: Page) => ({
  load: (url: string, prefer: Prefer) => page.evaluate(([u, p]) => (window as unknown as { robust: RobustHarness }).robust.load(u, p), [url, prefer] as const),
  caption: (plan: RunPlan): Promise<RobustRun> => page.evaluate((p) => (window as unknown as { robust: RobustHarness }).robust.caption(p), plan),
  debug: (action: DebugAction) => page.evaluate((a) => (window as unknown as { robust: RobustHarness }).robust.debug(a), action),
});

async function loaded(page: Page, url: string, prefer: Prefer) {
  const r = await h(page).load(url, prefer);
  if (!r.ok) throw new Error(`load failed: ${r.error.code}: ${r.error.message}`);
  return r.ready;
}

async function workerStats(page: Page): Promise<WorkerStats> {
  const r = await h(page).debug('stats');
  expect(r.ok, r.message).toBe(true);
  return r.stats!;
}

interface Sample extends WorkerStats {
  /** V8 heap of the caption worker after a full GC (CDP Runtime.getHeapUsage; wasm memory excluded). */
  workerJsBytes: number;
}

/**
 * The caption worker's used JS heap after a forced GC, over CDP (Chromium exposes no
 * performance.memory in dedicated workers; measureUserAgentSpecificMemory() waits for a
 * GC, ~20 s a call). Uses the (deprecated, still supported) non-flat target session.
 */
async function workerHeap(page: Page): Promise<number> {
  const cdp = await page.context().browser()!.newBrowserCDPSession();
  try {
    const { targetInfos } = await cdp.send('Target.getTargets');
    const workers = targetInfos.filter((t) => t.type === 'worker' && t.url.includes('debug.worker'));
    expect(workers.length, 'the caption worker target').toBeGreaterThan(0);
    const { sessionId } = await cdp.send('Target.attachToTarget', { targetId: workers[workers.length - 1].targetId, flatten: false });
    let next = 0;
    const call = <T>(method: string): Promise<T> =>
      new Promise((resolve, reject) => {
        const id = ++next;
        const onMessage = (ev: { sessionId?: string; message: string }) => {
          const msg = JSON.parse(ev.message) as { id?: number; result?: T; error?: { message: string } };
          if (ev.sessionId !== sessionId || msg.id !== id) return;
          cdp.off('Target.receivedMessageFromTarget', onMessage);
          if (msg.error) reject(new Error(`${method}: ${msg.error.message}`));
          else resolve(msg.result as T);
        };
        cdp.on('Target.receivedMessageFromTarget', onMessage);
        void cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method, params: {} }) });
      });
    await call('HeapProfiler.collectGarbage');
    const usage = await call<{ usedSize: number }>('Runtime.getHeapUsage');
    await cdp.send('Target.detachFromTarget', { sessionId });
    return usage.usedSize;
  } finally {
    await cdp.detach();
  }
}

async function sample(page: Page): Promise<Sample> {
  return { ...(await workerStats(page)), workerJsBytes: await workerHeap(page) };
}

/** A short caption that must work: 6 greedy tokens, stopped by the limit. */
async function expectWorkingRun(page: Page) {
  const next = await h(page).caption({ maxNewTokens: 6 });
  expect(next.error).toBeUndefined();
  expect(next.ok).toBe(true);
  expect(next.report!.stopReason).toBe('max-new-tokens');
  expect(next.report!.generatedTokenIds).toHaveLength(6);
  return next.report!;
}

test.describe('interrupt (WASM)', () => {
  test('during decoding: runtime/interrupted with the partial caption and report; at most one step after the interrupt; the engine keeps working', async ({ page }) => {
    await open(page);
    await loaded(page, TINY, 'wasm');
    const run = await h(page).caption({ maxNewTokens: 2000, interruptAfterTokens: 5 });
    expect(run.ok).toBe(false);
    expect(run.error?.code).toBe('runtime/interrupted');
    expect(run.error?.details.stage).toBe('generate');
    expect(run.partialCaption).toBe(run.report?.caption);
    const report = run.report!;
    expect(report.stopReason).toBe('interrupted');
    // Everything streamed is in the caption (the promise settles after the last token event).
    expect(report.caption.startsWith(run.streamed)).toBe(true);
    expect(run.streamed.length).toBeGreaterThan(0);
    expect(report.generatedTokenIds.length).toBeGreaterThanOrEqual(5);
    expect(report.generatedTokenIds.length).toBeLessThan(2000);
    const stats = await workerStats(page);
    expect(stats.tokensAtInterrupt).not.toBeNull();
    const stepsAfter = report.generatedTokenIds.length - stats.tokensAtInterrupt!;
    console.log(
      `interrupt in decode: page saw ${run.tokensSeenAtInterrupt} tokens when it interrupted, the worker had streamed ${stats.tokensAtInterrupt}, ` +
        `the run ended with ${report.generatedTokenIds.length} (${stepsAfter} decode step(s) after the interrupt), promise settled ${run.msAfterTrigger!.toFixed(0)} ms after it`,
    );
    test.info().annotations.push({ type: 'decode steps after interrupt', description: String(stepsAfter) }, { type: 'ms from interrupt to settle', description: run.msAfterTrigger!.toFixed(0) });
    expect(stepsAfter).toBeGreaterThanOrEqual(0);
    expect(stepsAfter).toBeLessThanOrEqual(1);
    await expectWorkingRun(page);
  });

  test('right after the frames: a clean runtime/interrupted error, then a working run', async ({ page }) => {
    await open(page);
    await loaded(page, TINY, 'wasm');
    const run = await h(page).caption({ maxNewTokens: 2000, interruptOnFrames: true });
    expect(run.ok).toBe(false);
    expect(run.error?.code).toBe('runtime/interrupted');
    expect(run.tokensSeen).toBe(0);
    expect(run.stages).not.toContain('generate');
    console.log(`interrupt after frames: ${run.error!.code} after stages ${run.stages.join(' → ')}, ${run.msAfterTrigger!.toFixed(0)} ms after the interrupt`);
    await expectWorkingRun(page);
  });
});

test.describe('GPU device loss (software WebGPU adapter)', () => {
  test('a destroyed device ends the run with runtime/device-lost; the next run works on WASM', async ({ page }) => {
    test.setTimeout(420_000);
    await open(page);
    const ready = await loaded(page, TINY, 'webgpu');
    expect(ready.adapter, 'this test needs the software WebGPU adapter (--enable-unsafe-webgpu)').not.toBeNull();
    expect(ready.backends.decoder_model_merged).toBe('webgpu');
    const before = await workerStats(page);
    expect(before.gpuBuffers.created).toBeGreaterThan(0);

    const lost = await h(page).caption({ maxNewTokens: 3, loseDeviceAfterTokens: 0 });
    console.log(`device loss: ${lost.error?.code}: ${lost.error?.message} (${lost.ms.toFixed(0)} ms)`);
    expect(lost.ok).toBe(false);
    expect(lost.error?.code).toBe('runtime/device-lost');

    const next = await expectWorkingRun(page);
    expect(Object.values(next.backend).every((b) => b === 'wasm'), JSON.stringify(next.backend)).toBe(true);
  });

  test('a device lost in the middle of decoding ends the run with runtime/device-lost and the partial caption', async ({ page }) => {
    test.setTimeout(420_000);
    await open(page);
    const ready = await loaded(page, TINY, 'webgpu');
    expect(ready.backends.decoder_model_merged).toBe('webgpu');
    const lost = await h(page).caption({ maxNewTokens: 40, loseDeviceAfterTokens: 2 });
    console.log(`device loss mid-decode: ${lost.error?.code} after ${lost.tokensSeen} tokens, ${lost.msAfterTrigger?.toFixed(0)} ms after the loss`);
    expect(lost.ok).toBe(false);
    expect(lost.error?.code).toBe('runtime/device-lost');
    expect(lost.tokensSeen).toBeGreaterThanOrEqual(2);
    expect(lost.tokensSeen).toBeLessThan(40);
    expect(lost.partialCaption).toBe(lost.streamed);
    const next = await expectWorkingRun(page);
    expect(Object.values(next.backend).every((b) => b === 'wasm'), JSON.stringify(next.backend)).toBe(true);
  });
});

test.describe('corrupt graph files', () => {
  const SRC = join('public', 'bundles', 'tiny');
  const corrupt = `test-robust-${process.pid}-corrupt`;
  const notOnnx = `test-robust-${process.pid}-notonnx`;
  const dirs = [corrupt, notOnnx].map((n) => join('public', 'bundles', n));

  async function waitServed(request: APIRequestContext, base: string, paths: string[]) {
    // Vite learns of new public files from its watcher: wait until it serves each one
    // (an unknown path gets index.html).
    const deadline = Date.now() + 30_000;
    for (const path of paths) {
      for (;;) {
        const res = await request.head(base + path);
        if (res.ok() && !(res.headers()['content-type'] ?? '').includes('text/html')) break;
        if (Date.now() > deadline) throw new Error(`the dev server does not serve ${base}${path}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  test.beforeAll(async ({ request }) => {
    const manifest = JSON.parse(await readFile(join(SRC, 'bundle.json'), 'utf8'));
    const files = ['bundle.json', 'tokenizer.json', 'tokenizer_config.json', manifest.golden.path, ...Object.values(manifest.graphs).map((g) => (g as { path: string }).path)];
    for (const d of dirs) {
      for (const f of files) await cp(join(SRC, f), join(d, f));
    }
    // 1. Same size, a few flipped bytes in the middle: bundle.json's sha256 no longer matches.
    const vision = join(dirs[0], manifest.graphs.vision_encoder.path);
    const bytes = await readFile(vision);
    for (let i = 0; i < 16; i++) bytes[(bytes.length >> 1) + i] ^= 0xff;
    await writeFile(vision, bytes);
    // 2. Bytes that are no ONNX model, with a bundle.json that vouches for them.
    const garbage = Buffer.from('this is not an ONNX model, but bundle.json says it is. '.repeat(200));
    const aligner = manifest.graphs.audio_aligner;
    await writeFile(join(dirs[1], aligner.path), garbage);
    const m2 = structuredClone(manifest);
    m2.graphs.audio_aligner = { ...aligner, bytes: garbage.length, sha256: createHash('sha256').update(garbage).digest('hex') };
    await writeFile(join(dirs[1], 'bundle.json'), JSON.stringify(m2, null, 2));
    await waitServed(request, `/bundles/${corrupt}/`, files);
    await waitServed(request, `/bundles/${notOnnx}/`, files);
  });

  test.afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  test('flipped bytes in a graph → bundle/integrity naming the file; not-ONNX bytes with a matching sha256 → runtime/session-create naming the graph', async ({ page }) => {
    await open(page);
    const bad = await h(page).load(`/bundles/${corrupt}/`, 'wasm');
    expect(bad.ok).toBe(false);
    if (bad.ok) return;
    expect(bad.error.code).toBe('bundle/integrity');
    expect(bad.error.message).toContain('onnx/vision_encoder.onnx');
    expect(bad.error.details.file).toBe('onnx/vision_encoder.onnx');

    const notModel = await h(page).load(`/bundles/${notOnnx}/`, 'wasm');
    expect(notModel.ok).toBe(false);
    if (notModel.ok) return;
    expect(notModel.error.code).toBe('runtime/session-create');
    expect(notModel.error.message).toContain('"audio_aligner"');
    expect(notModel.error.details.graph).toBe('audio_aligner');
    console.log(`corrupt: ${bad.error.message}\nnot ONNX: ${notModel.error.message}`);

    // The same engine then loads the good bundle and captions.
    await loaded(page, TINY, 'wasm');
    await expectWorkingRun(page);
  });
});

test.describe('memory over repeated captions', () => {
  function row(i: number, s: Sample) {
    return `run ${String(i).padStart(2)}: worker JS heap ${(s.workerJsBytes / MB).toFixed(2)} MB, wasm heap ${(s.wasmMemoryBytes / MB).toFixed(0)} MB, GPU buffers live ${s.gpuBuffers.live} (${(s.gpuBuffers.liveBytes / MB).toFixed(2)} MB; ${s.gpuBuffers.created} created, ${s.gpuBuffers.destroyed} destroyed)`;
  }

  test('WASM: ten captions in a row; worker JS heap and wasm heap after run 10 within +20 MB of after run 2', async ({ page }) => {
    test.setTimeout(300_000);
    await open(page);
    await loaded(page, TINY, 'wasm');
    const after: Sample[] = [];
    for (let i = 1; i <= 10; i++) {
      const run = await h(page).caption({ maxNewTokens: 16 });
      expect(run.error).toBeUndefined();
      expect(run.report!.generatedTokenIds).toHaveLength(16);
      after.push(await sample(page));
      console.log(row(i, after[i - 1]));
    }
    test.info().annotations.push({ type: 'memory (WASM)', description: after.map((s, i) => row(i + 1, s)).join('\n') });
    expect(after[1].workerJsBytes).toBeGreaterThan(0);
    expect(after[1].wasmMemoryBytes).toBeGreaterThan(0);
    expect(after[9].workerJsBytes - after[1].workerJsBytes).toBeLessThan(20 * MB);
    expect(after[9].wasmMemoryBytes - after[1].wasmMemoryBytes).toBeLessThan(20 * MB);
  });

  test('WebGPU: three captions; live GPU buffers and heaps do not grow from run 2 to run 3', async ({ page }) => {
    test.setTimeout(420_000);
    await open(page);
    const ready = await loaded(page, TINY, 'webgpu');
    expect(ready.backends.decoder_model_merged).toBe('webgpu');
    const after: Sample[] = [];
    for (let i = 1; i <= 3; i++) {
      const run = await h(page).caption({ maxNewTokens: 6 });
      expect(run.error).toBeUndefined();
      expect(run.report!.generatedTokenIds).toHaveLength(6);
      after.push(await sample(page));
      console.log(row(i, after[i - 1]));
    }
    test.info().annotations.push({ type: 'memory (WebGPU)', description: after.map((s, i) => row(i + 1, s)).join('\n') });
    expect(after[2].gpuBuffers.created).toBeGreaterThan(0);
    // ORT keeps a buffer cache, so a few more live buffers are allowed; a per-run leak of
    // the KV cache (2 layers × 2 × steps) or of the outputs would exceed it.
    expect(after[2].gpuBuffers.liveBytes - after[1].gpuBuffers.liveBytes).toBeLessThan(1 * MB);
    expect(after[2].workerJsBytes - after[1].workerJsBytes).toBeLessThan(20 * MB);
    expect(after[2].wasmMemoryBytes - after[1].wasmMemoryBytes).toBeLessThan(20 * MB);
  });
});
