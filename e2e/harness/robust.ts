/**
 * Test-only page for e2e/robustness.spec.ts: drives the app's worker engine (the real
 * protocol and engine, src/worker/serve.ts, in the harness worker debug.worker.ts that adds
 * memory stats and a real GPU device loss) on a real video file, and exposes
 * `window.robust` to Playwright.
 */
import type { ModelInfo } from '../../src/core/engine';
import type { SerializedError } from '../../src/core/errors';
import type { CaptionRequest } from '../../src/core/options';
import type { CaptionReport } from '../../src/core/report';
import type { Prefer } from '../../src/core/runtime/backend';
import { EngineError, WorkerEngine, type WorkerLike } from '../../src/worker/client';
import type { WorkerEvent } from '../../src/worker/protocol';
import type { DebugAction, DebugReply, DebugResult } from './debug';

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
  /** Interrupt when this stage first reports progress. */
  interruptAtStage?: string;
  /** Destroy the GPU device once this many tokens were streamed (0: before the run). */
  loseDeviceAfterTokens?: number;
  options?: CaptionRequest;
}

export interface RobustHarness {
  load(bundleUrl: string, prefer: Prefer): Promise<{ ok: true; ready: ModelInfo } | { ok: false; error: SerializedError }>;
  caption(plan: RunPlan): Promise<RobustRun>;
  debug(action: DebugAction): Promise<DebugResult>;
  reset(): void;
}

declare global {
  interface Window {
    robust: RobustHarness;
  }
}

/** The harness worker, with its debug replies taken out before the engine client sees the messages. */
class DebugWorker implements WorkerLike {
  private readonly worker = new Worker(new URL('./debug.worker.ts', import.meta.url), { type: 'module', name: 'caption.worker (harness)' });
  private readonly calls = new Map<number, (r: DebugResult) => void>();
  private nextDebugId = 1;
  onmessage: ((e: MessageEvent<WorkerEvent>) => void) | null = null;
  onerror: ((e: ErrorEvent) => void) | null = null;

  constructor() {
    this.worker.onmessage = (e: MessageEvent<WorkerEvent | DebugReply>) => {
      const d = e.data;
      if (d.type === 'debug-result') {
        this.calls.get(d.debugId)?.(d.result);
        this.calls.delete(d.debugId);
      } else this.onmessage?.(e as MessageEvent<WorkerEvent>);
    };
    this.worker.onerror = (e) => this.onerror?.(e);
  }

  postMessage(message: unknown): void {
    this.worker.postMessage(message);
  }

  terminate(): void {
    this.worker.terminate();
  }

  debug(action: DebugAction): Promise<DebugResult> {
    const debugId = this.nextDebugId++;
    return new Promise((resolve) => {
      this.calls.set(debugId, resolve);
      this.worker.postMessage({ type: 'debug', debugId, action });
    });
  }
}

let worker: DebugWorker | null = null;
let engine: WorkerEngine | null = null;
let mediaId: string | null = null;

function newEngine(): WorkerEngine {
  void engine?.dispose();
  worker = new DebugWorker();
  engine = new WorkerEngine(worker);
  mediaId = null;
  return engine;
}

async function fixture(): Promise<File> {
  const res = await fetch('/bundles/tiny/golden/fixture.mp4');
  if (!res.ok) throw new Error(`fixture: HTTP ${res.status}`);
  return new File([await res.blob()], 'fixture.mp4', { type: 'video/mp4' });
}

const asSerialized = (e: unknown): SerializedError =>
  e instanceof EngineError ? e.error : { code: 'runtime/internal', message: e instanceof Error ? e.message : String(e), details: {} };

window.robust = {
  async load(bundleUrl, prefer) {
    const eng = engine ?? newEngine();
    try {
      const ready = await eng.load({ kind: 'url', url: bundleUrl }, { prefer });
      return { ok: true, ready };
    } catch (e) {
      return { ok: false, error: asSerialized(e) };
    }
  },

  async caption(plan) {
    if (!engine || !worker) throw new Error('load a bundle first');
    const eng = engine;
    const w = worker;
    mediaId ??= (await eng.open(await fixture())).mediaId;
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
      void w.debug('lose-gpu-device');
    };
    if (plan.loseDeviceAfterTokens === 0) {
      const r = await w.debug('lose-gpu-device');
      if (!r.ok) throw new Error(`lose-gpu-device: ${r.message}`);
      triggeredAt = performance.now();
    }
    const t0 = performance.now();
    try {
      run.report = await eng.caption(
        mediaId,
        { decoding: { kind: 'greedy' }, ...plan.options, maxNewTokens: plan.maxNewTokens },
        {
          onProgress: (p) => {
            if (run.stages[run.stages.length - 1] !== p.stage) run.stages.push(p.stage);
            if (plan.interruptAtStage === p.stage) interrupt();
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
        },
      );
      run.ok = true;
    } catch (e) {
      run.error = asSerialized(e);
      run.partialCaption = e instanceof EngineError ? e.partialCaption : undefined;
      const partial = run.error.details.report as CaptionReport | undefined;
      if (partial) run.report = partial;
    }
    const end = performance.now();
    run.ms = end - t0;
    run.msAfterTrigger = triggeredAt === null ? null : end - triggeredAt;
    return run;
  },

  debug: (action) => {
    if (!worker) throw new Error('no engine');
    return worker.debug(action);
  },

  reset() {
    void engine?.dispose();
    engine = null;
    worker = null;
    mediaId = null;
  },
};

document.getElementById('status')!.textContent = 'ready';
