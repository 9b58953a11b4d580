/**
 * The Engine over the worker (same interface as the in-process one, ../core/engine.ts).
 * Each request gets an id; events are routed to their request by id, and a request is
 * settled exactly once by the `result` or `error` carrying its id. Events of a settled or
 * unknown request are dropped.
 */
import type { Engine, LoadEvents, LoadOptions, MediaHandle, ModelInfo } from '../core/engine';
import type { SerializedError } from '../core/errors';
import type { CaptionRequest } from '../core/options';
import type { CaptionReport, CompletionReport, FrameFact, TurnReport } from '../core/report';
import type { SceneOptions, SceneReport } from '../core/timed/scenes';
import type { BundleLocation, ProgressEvent, RequestBody, ResultOf, WorkerEvent, WorkerRequest } from './protocol';

export type FramesInfo = (FrameFact & { thumbnail: Blob | null })[];

/** A failure reported by the worker; `partialCaption` when a run was stopped or failed mid-way. */
export class EngineError extends Error {
  constructor(readonly error: SerializedError) {
    super(error.message);
    this.name = 'EngineError';
  }

  get partialCaption(): string | undefined {
    const p = this.error.details.partialCaption;
    return typeof p === 'string' ? p : undefined;
  }
}

/** Event handlers of one request (the worker's versions of the session events). */
export interface RunHandlers {
  onProgress?: (p: ProgressEvent) => void;
  onFrames?: (frames: FramesInfo) => void;
  onToken?: (text: string, tokensPerSecond: number, tokenId: number) => void;
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: EngineError) => void;
  handlers: RunHandlers;
}

/** The minimal Worker surface the client needs (a real Worker, or a test double). */
export interface WorkerLike {
  postMessage(message: WorkerRequest): void;
  terminate(): void;
  onmessage: ((e: MessageEvent<WorkerEvent>) => void) | null;
  onerror: ((e: ErrorEvent) => void) | null;
}

export class WorkerEngine implements Engine<BundleLocation, File, RunHandlers> {
  private readonly worker: WorkerLike;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** The request interrupt() stops: the latest one still pending. */
  private current: number | null = null;

  constructor(worker?: WorkerLike) {
    this.worker = worker ?? (new Worker(new URL('./caption.worker.ts', import.meta.url), { type: 'module' }) as unknown as WorkerLike);
    this.worker.onmessage = (e) => this.dispatch(e.data);
    this.worker.onerror = (e) => this.failAll({ code: 'runtime/internal', message: `The model worker crashed: ${e.message || 'unknown error'}`, details: {} });
  }

  load(bundle: BundleLocation, options: LoadOptions = {}, events: LoadEvents = {}): Promise<ModelInfo> {
    return this.request({ type: 'load', bundle, prefer: options.prefer ?? 'auto', lowMemory: options.lowMemory ?? 'auto' }, { onProgress: events.onProgress as RunHandlers['onProgress'] });
  }

  open(file: File): Promise<MediaHandle> {
    return this.request({ type: 'open', file }, {});
  }

  caption(mediaId: string, request: CaptionRequest = {}, handlers: RunHandlers = {}): Promise<CaptionReport> {
    return this.request({ type: 'caption', mediaId, request }, handlers);
  }

  ask(mediaId: string, question: string, request: CaptionRequest = {}, handlers: RunHandlers = {}): Promise<TurnReport> {
    return this.request({ type: 'ask', mediaId, question, request }, handlers);
  }

  complete(prompt: string, request: CaptionRequest = {}, handlers: RunHandlers = {}): Promise<CompletionReport> {
    return this.request({ type: 'complete', prompt, request }, handlers);
  }

  scenes(mediaId: string, options: Partial<SceneOptions> = {}, handlers: RunHandlers = {}): Promise<SceneReport> {
    return this.request({ type: 'scenes', mediaId, options }, handlers);
  }

  /** Prompt tokens of a text-only turn of this text (the long caption's merge budget). */
  completionTokens(prompt: string, request: CaptionRequest = {}): Promise<number> {
    return this.request({ type: 'tokens', prompt, request }, {});
  }

  async reset(mediaId: string): Promise<void> {
    await this.request({ type: 'reset', mediaId }, {});
  }

  async close(mediaId: string): Promise<void> {
    await this.request({ type: 'close', mediaId }, {});
  }

  /** Stops the latest pending request; it settles with `runtime/interrupted`. */
  interrupt(): void {
    if (this.current !== null) this.worker.postMessage({ id: this.nextId++, type: 'interrupt', target: this.current });
  }

  async dispose(): Promise<void> {
    this.worker.terminate();
    this.failAll({ code: 'runtime/interrupted', message: 'The engine was closed.', details: { stage: 'dispose' } });
  }

  /** Whether a request is pending. */
  get busy(): boolean {
    return this.pending.size > 0;
  }

  private request<K extends RequestBody['type']>(body: Extract<RequestBody, { type: K }>, handlers: RunHandlers): Promise<ResultOf[K]> {
    const id = this.nextId++;
    return new Promise<ResultOf[K]>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, handlers });
      this.current = id;
      this.worker.postMessage({ id, ...body } as WorkerRequest);
    });
  }

  private settle(id: number): Pending | undefined {
    const p = this.pending.get(id);
    this.pending.delete(id);
    if (this.current === id) this.current = null;
    return p;
  }

  private failAll(error: SerializedError): void {
    for (const id of [...this.pending.keys()]) this.settle(id)?.reject(new EngineError(error));
  }

  private dispatch(ev: WorkerEvent): void {
    const p = this.pending.get(ev.id);
    if (!p) return; // an event of a settled (or unknown) request changes nothing
    switch (ev.type) {
      case 'progress':
        p.handlers.onProgress?.(ev);
        break;
      case 'frames':
        p.handlers.onFrames?.(ev.frames);
        break;
      case 'token':
        p.handlers.onToken?.(ev.text, ev.tokensPerSecond, ev.tokenId);
        break;
      case 'result':
        this.settle(ev.id)?.resolve(ev.value);
        break;
      case 'error':
        this.settle(ev.id)?.reject(new EngineError(ev.error));
        break;
    }
  }
}
