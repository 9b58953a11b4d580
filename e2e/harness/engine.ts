/**
 * Test-only page script for e2e/large-bundle.spec.ts: the app's own WorkerEngine (the
 * production worker, URL loader, Cache API) with a backend preference the UI does not
 * offer ('webgpu' on the software adapter); captions a video fetched from the dev server.
 */
import { WorkerEngine } from '../../src/worker/client';
import type { Prefer } from '../../src/core/runtime/backend';

export interface EngineRunResult {
  ok: boolean;
  backends?: Record<string, string>;
  ids?: number[];
  error?: string;
  /** Milliseconds of the load (download or cache, verification, sessions) and of the caption run (bench/browser-7b.ts). */
  loadMs?: number;
  captionMs?: number;
}

async function run(bundleUrl: string, prefer: Prefer, videoUrl: string, maxNewTokens: number): Promise<EngineRunResult> {
  const engine = new WorkerEngine();
  try {
    const t0 = performance.now();
    const info = await engine.load({ kind: 'url', url: bundleUrl }, { prefer });
    const loadMs = performance.now() - t0;
    const blob = await (await fetch(videoUrl)).blob();
    const { mediaId } = await engine.open(new File([blob], videoUrl.split('/').pop()!, { type: blob.type }));
    const t1 = performance.now();
    const report = await engine.caption(mediaId, { maxNewTokens });
    return { ok: true, backends: info.backends, ids: report.generatedTokenIds, loadMs, captionMs: performance.now() - t1 };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? e.message : JSON.stringify(e) };
  } finally {
    await engine.dispose().catch(() => {});
  }
}

(globalThis as unknown as { engineHarness: { run: typeof run } }).engineHarness = { run };
document.getElementById('status')!.textContent = 'ready';
