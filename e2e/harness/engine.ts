/**
 * Test-only page script for e2e/large-bundle.spec.ts: the app's own WorkerEngine (the
 * production worker, URL loader, Cache API) with a backend preference the UI does not
 * offer ('webgpu' on the software adapter); captions a video fetched from the dev server.
 * Also e2e/runtime.spec.ts: the protocol's text-only turn and scene cuts.
 */
import { WorkerEngine } from '../../src/worker/client';
import type { Prefer } from '../../src/core/runtime/backend';

export interface EngineRunResult {
  ok: boolean;
  backends?: Record<string, string>;
  ortBuild?: string | null;
  ids?: number[];
  error?: string;
  /** Milliseconds of the load (download or cache, verification, sessions) and of the caption run (bench/browser-7b.ts). */
  loadMs?: number;
  captionMs?: number;
}

/** A progress line on the console when the stage changes or moves by a tenth, the prefill after each run (bench/browser-7b.ts and e2e/large-bundle.spec.ts print them). */
function progressLogger(): (stage: string, fraction: number) => void {
  let last = '';
  return (stage, fraction) => {
    // The prefill at every run (on WebGPU ≤ 31 rows each: the time of each run shows), the rest by tenths.
    const line = `[progress] ${stage} ${stage === 'prefill' ? Math.round(fraction * 1000) / 10 : Math.floor(fraction * 10) * 10} %`;
    if (line !== last) console.info(line);
    last = line;
  };
}

/** Loads the bundle by URL, its progress on the console; the model's info and the load's milliseconds. */
async function loadLogged(engine: WorkerEngine, bundleUrl: string, prefer: Prefer, log: (stage: string, fraction: number) => void) {
  const t0 = performance.now();
  const info = await engine.load({ kind: 'url', url: bundleUrl }, { prefer }, { onProgress: (p) => log(`load ${p.stage}${p.detail ? ` ${p.detail}` : ''}`, p.fraction) });
  return { info, loadMs: performance.now() - t0 };
}

async function run(bundleUrl: string, prefer: Prefer, videoUrl: string, maxNewTokens: number): Promise<EngineRunResult> {
  const engine = new WorkerEngine();
  const log = progressLogger();
  try {
    const { info, loadMs } = await loadLogged(engine, bundleUrl, prefer, log);
    const blob = await (await fetch(videoUrl)).blob();
    const { mediaId } = await engine.open(new File([blob], videoUrl.split('/').pop()!, { type: blob.type }));
    const t1 = performance.now();
    const report = await engine.caption(mediaId, { maxNewTokens }, { onProgress: (p) => log(p.stage, p.fraction ?? 0), onToken: (_t, _s, id) => console.info(`[progress] token ${id}`) });
    return { ok: true, backends: info.backends, ortBuild: info.ortBuild, ids: report.generatedTokenIds, loadMs, captionMs: performance.now() - t1 };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? e.message : JSON.stringify(e) };
  } finally {
    await engine.dispose().catch(() => {});
  }
}

/** A text-only greedy turn of `maxNewTokens` on a bundle loaded by URL (bench/browser-7b.ts --text: the LLM alone, no encoder run). */
async function complete(bundleUrl: string, prefer: Prefer, prompt: string, maxNewTokens: number): Promise<EngineRunResult & { promptIds?: number[]; margins?: number[] }> {
  const engine = new WorkerEngine();
  const log = progressLogger();
  try {
    const { info, loadMs } = await loadLogged(engine, bundleUrl, prefer, log);
    const t1 = performance.now();
    const r = await engine.complete(prompt, { decoding: { kind: 'greedy' }, maxNewTokens }, { onProgress: (p) => log(p.stage, p.fraction ?? 0), onToken: (_t, _s, id) => console.info(`[progress] token ${id}`) });
    return { ok: true, backends: info.backends, ortBuild: info.ortBuild, promptIds: r.promptTokenIds, ids: r.generatedTokenIds, margins: r.margins, loadMs, captionMs: performance.now() - t1 };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? e.message : JSON.stringify(e) };
  } finally {
    await engine.dispose().catch(() => {});
  }
}

export interface TextRunResult {
  ok: boolean;
  promptIds?: number[];
  ids?: number[];
  tokens?: number[];
  interrupted?: { code: string; stage: unknown; ids: number[] };
  cuts?: number[];
  segments?: [number, number][];
  error?: string;
}

/** The worker protocol's text-only turn (greedy), an interrupted one, and a file's scene cuts. */
async function textAndScenes(bundleUrl: string, prompt: string, maxNewTokens: number, videoUrl: string): Promise<TextRunResult> {
  const engine = new WorkerEngine();
  try {
    await engine.load({ kind: 'url', url: bundleUrl }, { prefer: 'wasm' });
    const tokens: number[] = [];
    const r = await engine.complete(prompt, { decoding: { kind: 'greedy' }, maxNewTokens }, { onToken: (_t, _s, id) => tokens.push(id) });
    let interrupted: TextRunResult['interrupted'];
    await engine.complete(prompt, { decoding: { kind: 'greedy' }, maxNewTokens: 200 }, { onToken: () => engine.interrupt() }).catch((e: { error: { code: string; details: Record<string, unknown> } }) => {
      interrupted = { code: e.error.code, stage: e.error.details.stage, ids: (e.error.details.report as { generatedTokenIds: number[] }).generatedTokenIds };
    });
    const blob = await (await fetch(videoUrl)).blob();
    const { mediaId } = await engine.open(new File([blob], videoUrl.split('/').pop()!, { type: blob.type }));
    const scenes = await engine.scenes(mediaId);
    return { ok: true, promptIds: r.promptTokenIds, ids: r.generatedTokenIds, tokens, interrupted, cuts: scenes.cuts.map((c) => c.time), segments: scenes.segments.map((g) => [g.start, g.end]) };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? e.message : JSON.stringify(e) };
  } finally {
    await engine.dispose().catch(() => {});
  }
}

(globalThis as unknown as { engineHarness: { run: typeof run; complete: typeof complete; textAndScenes: typeof textAndScenes } }).engineHarness = { run, complete, textAndScenes };
document.getElementById('status')!.textContent = 'ready';
