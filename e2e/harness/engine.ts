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
  ortBuild?: string | null;
  ids?: number[];
  error?: string;
}

async function run(bundleUrl: string, prefer: Prefer, videoUrl: string, maxNewTokens: number): Promise<EngineRunResult> {
  const engine = new WorkerEngine();
  try {
    const info = await engine.load({ kind: 'url', url: bundleUrl }, { prefer });
    const blob = await (await fetch(videoUrl)).blob();
    const { mediaId } = await engine.open(new File([blob], videoUrl.split('/').pop()!, { type: blob.type }));
    const report = await engine.caption(mediaId, { maxNewTokens });
    return { ok: true, backends: info.backends, ortBuild: info.ortBuild, ids: report.generatedTokenIds };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? e.message : JSON.stringify(e) };
  } finally {
    await engine.dispose().catch(() => {});
  }
}

(globalThis as unknown as { engineHarness: { run: typeof run } }).engineHarness = { run };
document.getElementById('status')!.textContent = 'ready';
