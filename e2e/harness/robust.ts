/**
 * Test-only page for e2e/robustness.spec.ts: drives the app's REAL caption worker
 * (src/worker/caption.worker.ts) through the app's CaptionEngine, on a real video file,
 * and exposes `window.robust` to Playwright. The worker is named `caption-debug…`, which
 * (on the dev server only) enables its test hooks: memory stats and a real GPU device loss.
 */
import { defaultOptions } from '../../src/core/options';
import type { BundleManifest } from '../../src/core/bundle/manifest';
import type { CaptionOptions } from '../../src/core/options';
import type { CaptionReport } from '../../src/core/report';
import type { SerializedError } from '../../src/core/errors';
import { CaptionEngine, EngineError, type ReadyInfo } from '../../src/worker/client';
import type { DebugAction, DebugResult } from '../../src/worker/protocol';

export interface RobustRun {
  ok: boolean;
  report?: CaptionReport;
  error?: SerializedError;
  partialCaption?: string;
  /** Text streamed through onToken, in order. */
  streamed: string;
  tokensSeen: number;
  /** Tokens the page had seen when it sent the interrupt (null: no interrupt). */
  tokensSeenAtInterrupt: number | null;
  /** Milliseconds from the interrupt (or the device loss) to the end of the promise. */
  msAfterTrigger: number | null;
  ms: number;
  stages: string[];
}

export interface RunPlan {
  maxNewTokens: number;
  /** Interrupt once this many tokens were streamed. */
  interruptAfterTokens?: number;
  /** Interrupt as soon as the `frames` event arrives. */
  interruptOnFrames?: boolean;
  /** Destroy the GPU device once this many tokens were streamed (0: before the run). */
  loseDeviceAfterTokens?: number;
  options?: Partial<CaptionOptions>;
}

export interface RobustHarness {
  load(bundleUrl: string, prefer: 'auto' | 'wasm'): Promise<{ ok: true; ready: ReadyInfo } | { ok: false; error: SerializedError }>;
  caption(plan: RunPlan): Promise<RobustRun>;
  debug(action: DebugAction): Promise<DebugResult>;
  reset(): void;
}

declare global {
  interface Window {
    robust: RobustHarness;
  }
}

let engine: CaptionEngine | null = null;
let manifest: BundleManifest | null = null;
let file: File | null = null;
let counter = 0;

function newEngine(): CaptionEngine {
  engine?.dispose();
  counter++;
  const worker = new Worker(new URL('../../src/worker/caption.worker.ts', import.meta.url), { type: 'module', name: `caption-debug-${counter}` });
  engine = new CaptionEngine(worker);
  return engine;
}

async function fixture(): Promise<File> {
  if (!file) {
    const res = await fetch('/bundles/tiny/golden/fixture.mp4');
    if (!res.ok) throw new Error(`fixture: HTTP ${res.status}`);
    file = new File([await res.blob()], 'fixture.mp4', { type: 'video/mp4' });
  }
  return file;
}

const asSerialized = (e: unknown): SerializedError =>
  e instanceof EngineError ? e.error : { code: 'runtime/internal', message: e instanceof Error ? e.message : String(e), details: {} };

window.robust = {
  async load(bundleUrl, prefer) {
    const eng = engine ?? newEngine();
    try {
      manifest = await (await fetch(new URL('bundle.json', new URL(bundleUrl, location.href)))).json();
      const ready = await eng.load({ kind: 'url', url: bundleUrl }, prefer);
      return { ok: true, ready };
    } catch (e) {
      return { ok: false, error: asSerialized(e) };
    }
  },

  async caption(plan) {
    if (!engine || !manifest) throw new Error('load a bundle first');
    const eng = engine;
    const options: CaptionOptions = { ...defaultOptions(manifest), decoding: { kind: 'greedy' }, ...plan.options, maxNewTokens: plan.maxNewTokens };
    const video = await fixture();
    const run: RobustRun = { ok: false, streamed: '', tokensSeen: 0, tokensSeenAtInterrupt: null, msAfterTrigger: null, ms: 0, stages: [] };
    let triggeredAt: number | null = null;
    const interrupt = () => {
      if (triggeredAt !== null) return;
      triggeredAt = performance.now();
      run.tokensSeenAtInterrupt = run.tokensSeen;
      eng.interrupt();
    };
    const lose = () => {
      if (triggeredAt !== null) return;
      triggeredAt = performance.now();
      void eng.debug('lose-gpu-device');
    };
    if (plan.loseDeviceAfterTokens === 0) {
      const r = await eng.debug('lose-gpu-device');
      if (!r.ok) throw new Error(`lose-gpu-device: ${r.message}`);
      triggeredAt = performance.now();
    }
    const t0 = performance.now();
    try {
      run.report = await eng.caption(video, options, {
        onProgress: (p) => {
          if (run.stages[run.stages.length - 1] !== p.stage) run.stages.push(p.stage);
        },
        onFrames: () => {
          if (plan.interruptOnFrames) interrupt();
        },
        onToken: (text) => {
          run.streamed += text;
          run.tokensSeen++;
          if (plan.interruptAfterTokens !== undefined && run.tokensSeen >= plan.interruptAfterTokens) interrupt();
          if (plan.loseDeviceAfterTokens && run.tokensSeen >= plan.loseDeviceAfterTokens) lose();
        },
      });
      run.ok = true;
    } catch (e) {
      run.error = asSerialized(e);
      run.partialCaption = e instanceof EngineError ? e.partialCaption : undefined;
    }
    const end = performance.now();
    run.ms = end - t0;
    run.msAfterTrigger = triggeredAt === null ? null : end - triggeredAt;
    return run;
  },

  debug: (action) => {
    if (!engine) throw new Error('no engine');
    return engine.debug(action);
  },

  reset() {
    engine?.dispose();
    engine = null;
  },
};

document.getElementById('status')!.textContent = 'ready';
