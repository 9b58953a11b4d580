/**
 * The engine the app talks to (in the manner of web-llm's engine): a promise-based API
 * that hides the worker and its message protocol. One run at a time.
 */
import type { SerializedError } from '../core/errors';
import type { CaptionOptions } from '../core/options';
import type { CaptionReport } from '../core/report';
import type { BundleLocation, DebugAction, DebugResult, ProgressEvent, WorkerEvent, WorkerRequest } from './protocol';

export type ReadyInfo = Extract<WorkerEvent, { type: 'ready' }>;
export type FramesInfo = Extract<WorkerEvent, { type: 'frames' }>['frames'];

/** A failure reported by the worker, with the partial caption when there was one. */
export class EngineError extends Error {
  constructor(readonly error: SerializedError, readonly partialCaption?: string) {
    super(error.message);
    this.name = 'EngineError';
  }
}

export interface RunHandlers {
  onProgress?: (p: ProgressEvent) => void;
  onFrames?: (frames: FramesInfo) => void;
  onToken?: (text: string, tokensPerSecond: number) => void;
}

interface Pending {
  resolve: (v: never) => void;
  reject: (e: EngineError) => void;
  handlers: RunHandlers;
  runId: string | null;
}

export class CaptionEngine {
  private readonly worker: Worker;
  private pending: Pending | null = null;
  private debugCalls = new Map<number, (r: DebugResult) => void>();
  private nextDebugId = 1;

  constructor(worker?: Worker) {
    this.worker = worker ?? new Worker(new URL('./caption.worker.ts', import.meta.url), { type: 'module' });
    this.worker.onmessage = (e: MessageEvent<WorkerEvent>) => this.dispatch(e.data);
    this.worker.onerror = (e) => this.fail({ code: 'runtime/internal', message: `The model worker crashed: ${e.message || 'unknown error'}`, details: {} });
  }

  load(bundle: BundleLocation, prefer: 'auto' | 'wasm', handlers: RunHandlers = {}): Promise<ReadyInfo> {
    return this.start({ type: 'load', bundle, prefer }, null, handlers);
  }

  caption(file: File, options: CaptionOptions, handlers: RunHandlers = {}): Promise<CaptionReport> {
    const runId = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    return this.start({ type: 'caption', runId, file, options }, runId, handlers);
  }

  /** Stops the current run; its promise rejects with code runtime/interrupted and the partial caption. */
  interrupt(): void {
    this.worker.postMessage({ type: 'interrupt' } satisfies WorkerRequest);
  }

  /** Test-only hooks (src/worker/debug.ts); may be sent while a run is in progress. */
  debug(action: DebugAction): Promise<DebugResult> {
    const id = this.nextDebugId++;
    return new Promise((resolve) => {
      this.debugCalls.set(id, resolve);
      this.worker.postMessage({ type: 'debug', id, action } satisfies WorkerRequest);
    });
  }

  dispose(): void {
    this.worker.postMessage({ type: 'dispose' } satisfies WorkerRequest);
    this.worker.terminate();
    this.fail({ code: 'runtime/interrupted', message: 'The engine was closed.', details: {} });
  }

  get busy(): boolean {
    return this.pending !== null;
  }

  private start<T>(request: WorkerRequest, runId: string | null, handlers: RunHandlers): Promise<T> {
    if (this.pending) return Promise.reject(new EngineError({ code: 'runtime/internal', message: 'Another run is still in progress: cancel it first.', details: {} }));
    return new Promise<T>((resolve, reject) => {
      this.pending = { resolve: resolve as (v: never) => void, reject, handlers, runId };
      this.worker.postMessage(request);
    });
  }

  private settle(): Pending | null {
    const p = this.pending;
    this.pending = null;
    return p;
  }

  private fail(error: SerializedError, partialCaption?: string): void {
    this.settle()?.reject(new EngineError(error, partialCaption));
  }

  private dispatch(ev: WorkerEvent): void {
    if (ev.type === 'debug') {
      this.debugCalls.get(ev.id)?.(ev.result);
      this.debugCalls.delete(ev.id);
      return;
    }
    const p = this.pending;
    if (!p) return;
    switch (ev.type) {
      case 'progress':
        p.handlers.onProgress?.(ev);
        break;
      case 'frames':
        p.handlers.onFrames?.(ev.frames);
        break;
      case 'token':
        p.handlers.onToken?.(ev.text, ev.tokensPerSecond);
        break;
      case 'ready':
        this.settle()?.resolve(ev as never);
        break;
      case 'done':
        this.settle()?.resolve(ev.report as never);
        break;
      case 'error':
        this.fail(ev.error, ev.partialCaption);
        break;
    }
  }
}
