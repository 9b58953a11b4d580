/**
 * The Engine behind the worker (WorkerEngine) and the state of the model and of the
 * current run. Views read this store and call its actions; no model code runs on the page.
 * The picked file is opened in the worker once: later runs on it reuse its decoded and
 * encoded features (CaptionSession).
 */
import { create } from 'zustand';
import type { SerializedError } from '../../core/errors';
import { defaultOptions, type CaptionOptions } from '../../core/options';

export type ReadyInfo = ModelInfo;
import type { CaptionReport, Stage } from '../../core/report';
import type { ModelInfo } from '../../core/engine';
import type { Prefer } from '../../core/runtime/backend';
import { EngineError, WorkerEngine } from '../../worker/client';
import type { BundleLocation, ProgressEvent } from '../../worker/protocol';
import { LITE_PINS, presetById } from '../lib/presets';
import type { LitePins } from '../../core/bundle/hub-preset';
import type { RunRecord, RunStatus, RunThumbnail } from '../lib/run-record';
import { buildOptions, buildRequest, type Settings } from '../lib/settings';

/** The backend preference the settings ask for. */
export function preferOf(s: Pick<Settings, 'forceWasm' | 'allowSoftwareGpu'>): Prefer {
  return s.forceWasm ? 'wasm' : s.allowSoftwareGpu ? 'webgpu' : 'auto';
}
import { useHistory } from './history';
import { useMedia } from './media';
import { useModelCache } from './model-cache';
import { currentSettings } from './settings';

export interface ModelSource {
  /** Shown to the user: a preset label, a URL or "folder: name". */
  label: string;
  location: BundleLocation;
  /** Identifies the source: the URL, or "folder:<name>". */
  key: string;
}

export interface StageProgress {
  fraction: number;
  detail?: string;
  loadedBytes?: number;
  totalBytes?: number;
  fromCache?: boolean;
  /** Bundle stage while downloading: speed (bytes/s) and seconds left (null: not known yet). */
  bytesPerSecond?: number;
  etaSeconds?: number | null;
}

export type { Prefer };

export interface ModelState {
  status: 'none' | 'loading' | 'ready' | 'error';
  source: ModelSource | null;
  prefer: Prefer;
  ready: ReadyInfo | null;
  error: SerializedError | null;
  stages: Partial<Record<Stage, StageProgress>>;
}

export interface LiveFrame {
  index: number;
  timestamp: number;
  url: string | null;
  blob: Blob | null;
}

export interface LiveRun {
  id: string;
  status: 'loading-model' | 'running' | RunStatus;
  fileName: string;
  text: string;
  tokensPerSecond: number;
  frames: LiveFrame[];
  stages: Partial<Record<Stage, StageProgress>>;
  activeStage: Stage | null;
  options: CaptionOptions | null;
  report: CaptionReport | null;
  error: SerializedError | null;
  startedAt: number;
  endedAt: number | null;
}

interface EngineState {
  model: ModelState;
  run: LiveRun | null;
  /** Whether the worker is busy (loading or captioning): one thing at a time. */
  busy: boolean;
  loadModel: (source: ModelSource, prefer?: Prefer) => Promise<boolean>;
  /** The source the settings point at (a preset or a typed URL). */
  selectedSource: () => ModelSource | null;
  caption: () => Promise<void>;
  cancel: () => void;
  dismissRun: () => void;
}

let engine: WorkerEngine | null = null;
function getEngine(): WorkerEngine {
  engine ??= new WorkerEngine();
  return engine;
}

/** The file opened in the worker, and its media id there. */
let opened: { file: File; mediaId: Promise<string> } | null = null;
function mediaIdOf(file: File): Promise<string> {
  if (opened?.file !== file) {
    const previous = opened;
    opened = { file, mediaId: getEngine().open(file).then((h) => h.mediaId) };
    opened.mediaId.catch(() => (opened = null));
    if (previous) void previous.mediaId.then((id) => getEngine().close(id)).catch(() => undefined);
  }
  return opened.mediaId;
}

const newId = () => `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

export function urlSource(url: string, label?: string): ModelSource {
  return { label: label ?? url, location: { kind: 'url', url }, key: url };
}

/** A preset loaded straight from its pinned Hub files (core/bundle/hub-preset.ts). */
export function hubSource(label: string, pins: LitePins): ModelSource {
  return { label, location: { kind: 'hub', pins }, key: `hub:${pins.llava.repo}@${pins.llava.revision}` };
}

export function folderSource(files: File[]): ModelSource {
  const first = files[0] as (File & { webkitRelativePath?: string }) | undefined;
  const name = first?.webkitRelativePath?.split('/')[0] || 'folder';
  return { label: `local folder “${name}”`, location: { kind: 'files', files }, key: `folder:${name}:${files.length}` };
}

function adapterLabel(ready: ReadyInfo | null): string | null {
  if (!ready?.adapter || !Object.values(ready.backends).includes('webgpu')) return null;
  const a = ready.adapter;
  return [a.vendor || 'unknown vendor', a.architecture, a.isFallback ? '(software)' : ''].filter(Boolean).join(' ');
}

const progressOf = (p: ProgressEvent): StageProgress => ({
  fraction: p.fraction,
  detail: p.detail,
  loadedBytes: p.loadedBytes,
  totalBytes: p.totalBytes,
  fromCache: p.fromCache,
  bytesPerSecond: p.bytesPerSecond,
  etaSeconds: p.etaSeconds,
});

export const useEngine = create<EngineState>((set, get) => ({
  model: { status: 'none', source: null, prefer: 'auto', ready: null, error: null, stages: {} },
  run: null,
  busy: false,

  selectedSource: () => {
    const s = currentSettings();
    if (s.presetId === 'url') return s.customUrl.trim() ? urlSource(s.customUrl.trim()) : null;
    const preset = presetById(s.presetId);
    if (preset?.source === 'hub') return hubSource(preset.label, LITE_PINS);
    return preset?.url ? urlSource(preset.url, preset.label) : null;
  },

  loadModel: async (source, prefer = preferOf(currentSettings())) => {
    if (get().busy) return false;
    set({ busy: true, model: { status: 'loading', source, prefer, ready: null, error: null, stages: {} } });
    const onProgress = (p: ProgressEvent) => {
      set((s) => ({ model: { ...s.model, stages: { ...s.model.stages, [p.stage]: progressOf(p) } } }));
      const run = get().run;
      if (run?.status === 'loading-model') set({ run: { ...run, activeStage: p.stage } });
    };
    try {
      const ready = await getEngine().load(source.location, { prefer }, { onProgress: (p) => onProgress({ type: 'progress', id: 0, ...p }) });
      set((s) => ({ busy: false, model: { ...s.model, status: 'ready', ready } }));
      return true;
    } catch (e) {
      const error = e instanceof EngineError ? e.error : { code: 'runtime/internal' as const, message: String(e), details: {} };
      set((s) => ({ busy: false, model: { ...s.model, status: 'error', error } }));
      return false;
    } finally {
      void useModelCache.getState().refresh();
    }
  },

  caption: async () => {
    const file = useMedia.getState().file;
    if (!file || get().busy) return;
    revokeFrames(get().run);
    const id = newId();
    const startedAt = Date.now();
    const base: LiveRun = {
      id, status: 'running', fileName: file.name, text: '', tokensPerSecond: 0, frames: [], stages: {}, activeStage: null,
      options: null, report: null, error: null, startedAt, endedAt: null,
    };
    const update = (patch: Partial<LiveRun>) => set((s) => (s.run?.id === id ? { run: { ...s.run, ...patch } } : {}));

    // Load the model first when none is ready (the selected preset, with the WASM switch).
    let model = get().model;
    if (model.status !== 'ready') {
      const source = model.source && model.status === 'error' && model.source.location.kind === 'files' ? model.source : get().selectedSource();
      if (!source) {
        set({ run: { ...base, status: 'error', endedAt: Date.now(), error: { code: 'bundle/not-found', message: 'No model is selected: choose a model preset or enter a bundle URL.', details: {} } } });
        return;
      }
      set({ run: { ...base, status: 'loading-model' } });
      const ok = await get().loadModel(source);
      model = get().model;
      if (get().run?.id !== id) return;
      if (!ok || !model.ready) {
        const error = model.error ?? { code: 'runtime/internal' as const, message: 'The model did not load.', details: {} };
        finish(id, model.error?.code === 'runtime/interrupted' ? 'cancelled' : 'error', { error });
        return;
      }
    }
    const ready = model.ready!;
    const request = buildRequest(currentSettings());
    const options = buildOptions(currentSettings(), defaultOptions(ready.manifest));
    set({ busy: true, run: { ...(get().run?.id === id ? get().run! : base), status: 'running', options } });

    let text = '';
    try {
      const report = await getEngine().caption(await mediaIdOf(file), request, {
        onProgress: (p) => set((s) => (s.run?.id === id ? { run: { ...s.run, activeStage: p.stage, stages: { ...s.run.stages, [p.stage]: progressOf(p) } } } : {})),
        onFrames: (frames) => update({ frames: frames.map((f) => ({ index: f.index, timestamp: f.timestamp, blob: f.thumbnail, url: f.thumbnail ? URL.createObjectURL(f.thumbnail) : null })) }),
        onToken: (delta, tps) => {
          text += delta;
          update({ text, tokensPerSecond: tps });
        },
      });
      set({ busy: false });
      finish(id, 'done', { report, text: report.caption, tokensPerSecond: report.tokensPerSecond });
    } catch (e) {
      set({ busy: false });
      const error: SerializedError = e instanceof EngineError ? e.error : { code: 'runtime/internal', message: String(e), details: {} };
      const partial = e instanceof EngineError && e.partialCaption ? e.partialCaption : text;
      const partialReport = (error.details.report as CaptionReport | undefined) ?? null;
      if (error.code === 'runtime/device-lost') {
        // The worker reloads the same bundle on WASM by itself; show what the next run will use.
        set((s) => (s.model.ready ? { model: { ...s.model, prefer: 'wasm', ready: { ...s.model.ready, adapter: null, backends: Object.fromEntries(Object.keys(s.model.ready.backends).map((g) => [g, 'wasm' as const])) } } } : {}));
      }
      finish(id, error.code === 'runtime/interrupted' ? 'cancelled' : 'error', { error, text: partial, report: partialReport });
    }
  },

  cancel: () => {
    if (get().busy) getEngine().interrupt();
  },

  dismissRun: () => {
    if (get().busy) return;
    revokeFrames(get().run);
    set({ run: null });
  },
}));

function revokeFrames(run: LiveRun | null): void {
  for (const f of run?.frames ?? []) if (f.url) URL.revokeObjectURL(f.url);
}

/** Ends the live run and keeps it in the history (whatever its outcome). */
function finish(id: string, status: RunStatus, patch: Partial<LiveRun>): void {
  const { run: current, model } = useEngine.getState();
  if (!current || current.id !== id) return;
  const run: LiveRun = { ...current, ...patch, status, endedAt: Date.now(), activeStage: null };
  useEngine.setState({ run });
  const media = useMedia.getState();
  const file = media.file;
  const record: RunRecord = {
    id,
    createdAt: run.startedAt,
    status,
    caption: run.text,
    options: run.report?.options ?? run.options ?? buildOptions(currentSettings(), model.ready ? defaultOptions(model.ready.manifest) : FALLBACK_OPTIONS),
    model: {
      name: model.ready?.name ?? model.source?.label ?? 'no model',
      label: model.ready?.label ?? null,
      randomWeights: model.ready?.randomWeights ?? false,
      source: model.source?.label ?? '—',
      backends: { ...(run.report?.backend ?? model.ready?.backends ?? {}) },
      adapter: adapterLabel(model.ready),
    },
    video: {
      name: run.fileName,
      bytes: file?.size ?? 0,
      type: file?.type ?? '',
      duration: run.report?.video.duration ?? (file && file.name === run.fileName ? media.duration : null),
    },
    thumbnails: run.frames.map((f): RunThumbnail => ({ timestamp: f.timestamp, blob: f.blob })),
    report: run.report,
    error: run.error,
    tokensPerSecond: run.tokensPerSecond,
    wallMs: run.endedAt! - run.startedAt,
  };
  void useHistory.getState().add(record);
}

/** Only for a run that failed before any model was loaded (its settings still get recorded). */
const FALLBACK_OPTIONS: CaptionOptions = {
  range: null, modality: 'av', interleave: 'spread', fps: 1, maxFrames: 30, maxTime: 30, frameRule: 'checkpoint', sampling: 'paper', channel: 0, promptVariant: 'official', timeTokens: true, maxNewTokens: 512, prompt: '', decoding: { kind: 'greedy' }, repetitionPenalty: 1, prefillChunk: 256, textPieces: [],
};
