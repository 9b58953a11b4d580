/**
 * The Engine: load / open / caption / ask / reset / close / interrupt / dispose — the one
 * API the page (through the worker), the CLI and the tests call (plus complete, a text-only
 * turn, and scenes, a file's scene cuts), in the manner of
 * web-llm's engine interface. `InProcessEngine` runs the core in the calling thread (CLI,
 * Node tests, and inside the worker); src/worker/client.ts implements the same interface
 * over the worker's message protocol.
 *
 * One request at a time. Outcomes:
 *  - success: the request's value;
 *  - interrupt, at any stage (bundle, session, decode, vision, audio, prefill, generate):
 *    rejects with `runtime/interrupted`; `details.stage` names the stage, and from the
 *    generation on `details.partialCaption` / `details.report` hold what was made;
 *  - any other failure: rejects with a CaptionError whose code says what went wrong.
 * A media file opened once stays open (its features cached) until `close`.
 */
import { loadBundle, type BundleProgress } from './bundle/load';
import type { LowMemorySetting, MemoryPlan } from './bundle/memory';
import { assertRunnable, preflight } from './bundle/preflight';
import type { BundleManifest } from './bundle/manifest';
import type { BundleSource } from './bundle/source';
import { CaptionError, toCaptionError } from './errors';
import { disposeModel, loadModel } from './families/load';
import type { LoadedModel } from './families/types';
import type { MediaInfo, MediaSource } from './media/types';
import type { CaptionRequest } from './options';
import type { CaptionReport, CompletionReport, Stage, TurnReport } from './report';
import { completeText, completionIds } from './complete';
import { detectScenes, type SceneOptions, type SceneReport } from './timed/scenes';
import { planBackends, type Prefer, type RuntimeOptions } from './runtime/backend';
import type { GpuAdapterFacts } from './runtime/capabilities';
import type { Backend, Ort } from './runtime/ort';
import { CaptionSession, type SessionEvents } from './session';

export interface ModelInfo {
  name: string;
  family: string;
  /** What the model is, for captions' labels. */
  label: string;
  randomWeights: boolean;
  backends: Record<string, Backend>;
  adapter: GpuAdapterFacts | null;
  fallbackReasons: string[];
  /** The onnxruntime build the sessions run on (web: 'jspi' or 'asyncify'; null: the platform's only one). */
  ortBuild: string | null;
  /** The bundle's manifest: the app shows the defaults it implies. */
  manifest: BundleManifest;
  /** The dtype variant a multi-variant preset chose for this adapter, and why (null otherwise). */
  variant: { id: string; reason: string } | null;
  /** Low-memory mode (the encoders released before the LLM is loaded) or not, the setting and why (bundle/memory.ts). */
  memory: Pick<MemoryPlan, 'lowMemory' | 'setting' | 'reason'>;
}

export interface LoadOptions {
  prefer?: Prefer;
  /** Low-memory mode: 'auto' (default) decides from the bundle's sizes (bundle/memory.ts). */
  lowMemory?: LowMemorySetting;
}

export interface MediaHandle {
  mediaId: string;
  info: MediaInfo;
}

export interface LoadProgress {
  stage: Extract<Stage, 'bundle' | 'session'>;
  fraction: number;
  detail?: string;
  loadedBytes?: number;
  totalBytes?: number;
  fromCache?: boolean;
  /** Bundle stage: bytes downloaded in this load (not from the cache), speed, seconds left. */
  downloadedBytes?: number;
  bytesPerSecond?: number;
  etaSeconds?: number | null;
}

export interface LoadEvents {
  onProgress?: (p: LoadProgress) => void;
}

/** `Events`: the request's event handlers (in-process: the session's; over the worker: their message forms). */
export interface Engine<Location, Input, Events = SessionEvents> {
  load(location: Location, options?: LoadOptions, events?: LoadEvents): Promise<ModelInfo>;
  open(input: Input): Promise<MediaHandle>;
  caption(mediaId: string, request?: CaptionRequest, events?: Events): Promise<CaptionReport>;
  ask(mediaId: string, question: string, request?: CaptionRequest, events?: Events): Promise<TurnReport>;
  /** A text-only turn (no media, no conversation): the bundle's template, system prompt and generation settings. */
  complete(prompt: string, request?: CaptionRequest, events?: Events): Promise<CompletionReport>;
  /** Scene cuts of an opened file from frames sampled at a fixed rate, and the segments they make (timed/scenes.ts). */
  scenes(mediaId: string, options?: Partial<SceneOptions>, events?: Events): Promise<SceneReport>;
  /** Forgets the conversation of a media file (its cached features stay). */
  reset(mediaId: string): Promise<void>;
  close(mediaId: string): Promise<void>;
  /** Stops the request in progress (see the outcomes above); nothing when idle. */
  interrupt(): void;
  dispose(): Promise<void>;
}

/** What the platform gives the in-process engine. */
export interface EnginePlatform<Location, Input> {
  ort: Ort;
  /**
   * The onnxruntime build for a load, once it is known whether a graph goes on the GPU
   * (web: the JSPI build where the browser has JSPI and WebGPU runs; `ort` when absent).
   */
  ortFor?(webgpu: boolean): Promise<{ ort: Ort; build: string }>;
  platform: 'web' | 'node';
  /** `runtime`: what the load runs on (a preset source picks its variant from it). */
  source(location: Location, runtime: RuntimeOptions): BundleSource;
  openMedia(input: Input): Promise<MediaSource>;
  /** The WebGPU adapter (null on Node or without one). */
  adapter(): Promise<GpuAdapterFacts | null>;
  /** Warm every graph up after loading (default true). */
  warmUp?: boolean;
}

/** A WebGPU device loss surfaces as an ORT error; after it the GPU sessions are useless. */
export function isDeviceLoss(e: unknown): boolean {
  const text = e instanceof Error ? `${e.name} ${e.message}` : String(e);
  return /device (was |is )?lost|GPUDevice.*lost|DeviceLost/i.test(text);
}

let nextMediaId = 1;

export class InProcessEngine<Location, Input> implements Engine<Location, Input> {
  private model: LoadedModel | null = null;
  private adapterFacts: GpuAdapterFacts | null = null;
  private ortBuild: string | null = null;
  private variant: ModelInfo['variant'] = null;
  private memory: ModelInfo['memory'] | null = null;
  private lastLoad: { location: Location; prefer: Prefer; lowMemory: LowMemorySetting } | null = null;
  private readonly media = new Map<string, { source: MediaSource; session: CaptionSession | null }>();
  private abort: AbortController | null = null;
  private busy = false;
  /** A reload on WASM after the GPU device was lost. */
  private reloading: Promise<unknown> | null = null;

  constructor(private readonly platform: EnginePlatform<Location, Input>) {}

  /** The loaded model (tests and diagnostics). */
  get loaded(): LoadedModel | null {
    return this.model;
  }

  /** The session of an opened media file (tests and diagnostics). */
  session(mediaId: string): CaptionSession {
    const m = this.media.get(mediaId);
    if (!m) throw new CaptionError('runtime/internal', `No media file is open under id ${mediaId}.`, { mediaId });
    if (!this.model) throw new CaptionError('runtime/internal', 'No model is loaded: load a model first.');
    m.session ??= new CaptionSession(this.model, m.source);
    return m.session;
  }

  load(location: Location, options: LoadOptions = {}, events: LoadEvents = {}): Promise<ModelInfo> {
    return this.exclusive(async (signal) => this.loadNow(location, options.prefer ?? 'auto', options.lowMemory ?? 'auto', events, signal));
  }

  private async loadNow(location: Location, prefer: Prefer, lowMemory: LowMemorySetting, events: LoadEvents, signal?: AbortSignal): Promise<ModelInfo> {
    await this.unloadModel();
    const adapter = prefer === 'wasm' ? null : await this.platform.adapter();
    const runtime = { prefer, platform: this.platform.platform, adapter, lowMemory };
    const source = this.platform.source(location, runtime);
    const bundle = await loadBundle(source, {
      signal,
      // Refuses a bundle this device cannot run before anything but bundle.json is fetched.
      preflight: (m) => void assertRunnable(m, runtime),
      onProgress: (p: BundleProgress) =>
        events.onProgress?.({
          stage: 'bundle',
          fraction: p.overallTotal ? p.overallLoaded / p.overallTotal : 1,
          loadedBytes: p.overallLoaded,
          totalBytes: p.overallTotal,
          fromCache: p.fromCache,
          detail: p.file,
          downloadedBytes: p.downloadedBytes,
          bytesPerSecond: p.bytesPerSecond,
          etaSeconds: p.etaSeconds,
        }),
    });
    const webgpu = Object.values(bundle.manifest.graphs).some((g) => planBackends(g, runtime).order[0] === 'webgpu');
    const picked = this.platform.ortFor ? await this.platform.ortFor(webgpu) : { ort: this.platform.ort, build: null };
    this.ortBuild = picked.build;
    const { lowMemory: on, setting, reason } = preflight(bundle.manifest, runtime).memory;
    const memory = { lowMemory: on, setting, reason };
    const model = await loadModel(picked.ort, bundle, { ...runtime, memory, warmUp: this.platform.warmUp }, (_stage, fraction, detail) =>
      events.onProgress?.({ stage: 'session', fraction, detail }),
    );
    this.model = model;
    this.variant = source.variant ?? null;
    this.adapterFacts = adapter;
    this.memory = memory;
    this.lastLoad = { location, prefer, lowMemory };
    return this.info(model);
  }

  private info(model: LoadedModel): ModelInfo {
    const m = model.manifest;
    return { name: m.name, family: m.family, label: model.family.label, randomWeights: m.randomWeights, backends: { ...model.backends }, adapter: this.adapterFacts, fallbackReasons: [...model.fallbackReasons], ortBuild: this.ortBuild, manifest: m, variant: this.variant, memory: this.memory ?? { lowMemory: false, setting: 'off', reason: 'Every graph stays loaded.' } };
  }

  async open(input: Input): Promise<MediaHandle> {
    const source = await this.platform.openMedia(input);
    const mediaId = `m${nextMediaId++}`;
    this.media.set(mediaId, { source, session: null });
    return { mediaId, info: source.info };
  }

  caption(mediaId: string, request: CaptionRequest = {}, events: SessionEvents = {}): Promise<CaptionReport> {
    return this.exclusive((signal) => this.withModel(() => this.session(mediaId).caption(request, events, signal)));
  }

  ask(mediaId: string, question: string, request: CaptionRequest = {}, events: SessionEvents = {}): Promise<TurnReport> {
    return this.exclusive((signal) => this.withModel(() => this.session(mediaId).ask(question, request, events, signal)));
  }

  complete(prompt: string, request: CaptionRequest = {}, events: SessionEvents = {}): Promise<CompletionReport> {
    return this.exclusive((signal) => this.withModel(() => completeText(this.requireModel(), prompt, request, events, signal)));
  }

  /** Prompt tokens of a text-only turn of this text (the long caption's merge budget). */
  completionTokens(prompt: string, request: CaptionRequest = {}): number {
    return completionIds(this.requireModel(), prompt, request).length;
  }

  scenes(mediaId: string, options: Partial<SceneOptions> = {}, events: SessionEvents = {}): Promise<SceneReport> {
    return this.exclusive(async (signal) => detectScenes(this.mediaOf(mediaId), options, (f) => events.onProgress?.('decode', f), signal));
  }

  private requireModel(): LoadedModel {
    if (!this.model) throw new CaptionError('runtime/internal', 'No model is loaded: load a model first.');
    return this.model;
  }

  private mediaOf(mediaId: string): MediaSource {
    const m = this.media.get(mediaId);
    if (!m) throw new CaptionError('runtime/internal', `No media file is open under id ${mediaId}.`, { mediaId });
    return m.source;
  }

  async reset(mediaId: string): Promise<void> {
    this.media.get(mediaId)?.session?.reset();
  }

  async close(mediaId: string): Promise<void> {
    const m = this.media.get(mediaId);
    if (!m) return;
    this.media.delete(mediaId);
    if (m.session) m.session.close();
    else m.source.close();
  }

  interrupt(): void {
    this.abort?.abort();
  }

  async dispose(): Promise<void> {
    this.interrupt();
    for (const id of [...this.media.keys()]) await this.close(id);
    await this.unloadModel();
  }

  private async unloadModel(): Promise<void> {
    for (const m of this.media.values()) {
      m.session?.reset();
      m.session = null; // features of another model do not carry over
    }
    if (this.model) await disposeModel(this.model);
    this.model = null;
  }

  /** Runs one request at a time with its own AbortController. */
  private async exclusive<T>(run: (signal: AbortSignal) => Promise<T>): Promise<T> {
    if (this.busy) throw new CaptionError('runtime/busy', 'Another request is still in progress: interrupt it first.');
    this.busy = true;
    const abort = new AbortController();
    this.abort = abort;
    try {
      return await run(abort.signal);
    } catch (e) {
      throw toCaptionError(e);
    } finally {
      this.busy = false;
      if (this.abort === abort) this.abort = null;
    }
  }

  /** A device loss reloads the model on WASM (never a hang, never a dead engine). */
  private async withModel<T>(run: () => Promise<T>): Promise<T> {
    if (!this.model && this.reloading) await this.reloading.catch(() => undefined);
    try {
      return await run();
    } catch (e) {
      if (!isDeviceLoss(e) || !this.lastLoad) throw e;
      const partial = e instanceof CaptionError ? e.details.partialCaption : undefined;
      // toCaptionError keeps the message, so the original device-loss text is still visible in `details.cause`.
      const { location, lowMemory } = this.lastLoad;
      await this.unloadModel().catch(() => undefined);
      this.reloading = this.loadNow(location, 'wasm', lowMemory, {}).finally(() => (this.reloading = null));
      throw new CaptionError('runtime/device-lost', 'The GPU device was lost during the run (driver reset or out of memory). The model is being reloaded on WASM; run the caption again.', { partialCaption: partial ?? '', cause: e instanceof Error ? e.message : String(e) });
    }
  }
}
