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
import type { MediaHandle, ModelInfo } from '../../core/engine';
import { TRACK_PROMPT } from '../../core/timed/track-run';
import type { Cue, TimeRange } from '../../core/timed/track';
import type { Prefer } from '../../core/runtime/backend';
import { EngineError, WorkerEngine } from '../../worker/client';
import type { BundleLocation, ProgressEvent } from '../../worker/protocol';
import { LITE_PINS, presetById } from '../lib/presets';
import type { LitePins } from '../../core/bundle/hub-preset';
import { RECORD_VERSION, type RunKind, type RunRecord, type RunStatus, type RunThumbnail, type TurnRecord } from '../lib/run-record';
import { buildOptions, buildRequest, type Settings } from '../lib/settings';

/** The backend preference the settings ask for. */
export function preferOf(s: Pick<Settings, 'forceWasm' | 'allowSoftwareGpu'>): Prefer {
  return s.forceWasm ? 'wasm' : s.allowSoftwareGpu ? 'webgpu' : 'auto';
}
import { useHistory } from './history';
import { useMedia } from './media';
import { useModelCache } from './model-cache';
import { currentSettings } from './settings';
import { TrackStore } from './tracks';

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

/** A caption track in progress (or ended): segment i of n, the cues so far. */
export interface LiveTrack {
  seconds: number;
  prompt: string;
  total: number;
  /** The segment being captioned (0-based); total when all are done. */
  index: number;
  segment: TimeRange | null;
  cues: Cue[];
  reused: number;
}

/** The follow-up conversation after a caption of the current file. */
export interface ChatState {
  /** The caption run the conversation continues (its history entry gets the turns). */
  runId: string;
  file: File;
  turns: TurnRecord[];
  /** The question being answered: streaming answer and its stages. */
  pending: { question: string; answer: string; stages: Partial<Record<Stage, StageProgress>>; activeStage: Stage | null } | null;
  /** The last question's failure (the turns before it are kept). */
  error: SerializedError | null;
  /** Why no more questions can be asked in this conversation (null: they can). */
  closed: string | null;
}

export interface LiveRun {
  id: string;
  kind: RunKind;
  /** The local caption's range (the report's once it ends); null for the whole file. */
  range: TimeRange | null;
  track: LiveTrack | null;
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
  /** A caption track: one local caption per segment of `seconds` (the settings' length). */
  captionTrack: () => Promise<void>;
  chat: ChatState | null;
  /** A follow-up question in the conversation of the last caption. */
  ask: (question: string) => Promise<void>;
  /** Forgets the conversation (the history keeps its turns). */
  resetConversation: () => Promise<void>;
  cancel: () => void;
  dismissRun: () => void;
}

let engine: WorkerEngine | null = null;
function getEngine(): WorkerEngine {
  engine ??= new WorkerEngine();
  return engine;
}

/** The file opened in the worker, and its handle there (media id, facts). */
let opened: { file: File; handle: Promise<MediaHandle> } | null = null;
function handleOf(file: File): Promise<MediaHandle> {
  if (opened?.file !== file) {
    const previous = opened;
    opened = { file, handle: getEngine().open(file) };
    opened.handle.catch(() => (opened = null));
    if (previous) void previous.handle.then((h) => getEngine().close(h.mediaId)).catch(() => undefined);
  }
  return opened.handle;
}
const mediaIdOf = async (file: File) => (await handleOf(file)).mediaId;

/** The caption tracks of the opened files (their cue caches). */
export const TRACKS = new TrackStore();

const asError = (e: unknown): SerializedError =>
  e instanceof EngineError ? e.error : e instanceof DOMException && e.name === 'AbortError' ? { code: 'runtime/interrupted', message: e.message, details: {} } : { code: 'runtime/internal', message: String(e), details: {} };

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
      const ready = await getEngine().load(source.location, { prefer, lowMemory: currentSettings().lowMemory }, { onProgress: (p) => onProgress({ type: 'progress', id: 0, ...p }) });
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
    const started = await startRun(useMedia.getState().range ? 'local' : 'global');
    if (!started) return;
    const { id, file, ready } = started;
    const range = useMedia.getState().range;
    const request = { ...buildRequest(currentSettings()), range };
    const options = { ...buildOptions(currentSettings(), defaultOptions(ready.manifest)), range };
    set({ busy: true, chat: null, run: { ...get().run!, status: 'running', options, range } });
    const update = (patch: Partial<LiveRun>) => set((s) => (s.run?.id === id ? { run: { ...s.run, ...patch } } : {}));

    let text = '';
    try {
      const report = await getEngine().caption(await mediaIdOf(file), request, {
        onProgress: (p) => set((s) => (s.run?.id === id ? { run: { ...s.run, activeStage: p.stage, stages: { ...s.run.stages, [p.stage]: progressOf(p) } } } : {})),
        onFrames: (frames) => update({ frames: liveFrames(frames) }),
        onToken: (delta, tps) => {
          text += delta;
          update({ text, tokensPerSecond: tps });
        },
      });
      set({ busy: false, chat: { runId: id, file, turns: [], pending: null, error: null, closed: null } });
      finish(id, 'done', { report, text: report.caption, tokensPerSecond: report.tokensPerSecond, range: report.range });
    } catch (e) {
      set({ busy: false });
      const error = asError(e);
      const partial = e instanceof EngineError && e.partialCaption ? e.partialCaption : text;
      const partialReport = (error.details.report as CaptionReport | undefined) ?? null;
      if (error.code === 'runtime/device-lost') {
        // The worker reloads the same bundle on WASM by itself; show what the next run will use.
        set((s) => (s.model.ready ? { model: { ...s.model, prefer: 'wasm', ready: { ...s.model.ready, adapter: null, backends: Object.fromEntries(Object.keys(s.model.ready.backends).map((g) => [g, 'wasm' as const])) } } } : {}));
      }
      finish(id, error.code === 'runtime/interrupted' ? 'cancelled' : 'error', { error, text: partial, report: partialReport });
    }
  },

  captionTrack: async () => {
    const started = await startRun('track');
    if (!started) return;
    const { id, file, ready } = started;
    const settings = currentSettings();
    const seconds = settings.trackSeconds;
    const base = buildRequest(settings);
    // The track's own short prompt unless the user typed one (PIPELINE §10).
    const prompt = settings.prompt?.trim() ? settings.prompt : TRACK_PROMPT;
    const options = { ...buildOptions(settings, defaultOptions(ready.manifest)), prompt, range: null };
    const live: LiveTrack = { seconds, prompt, total: 0, index: 0, segment: null, cues: [], reused: 0 };
    set({ busy: true, chat: null, run: { ...get().run!, status: 'running', options, track: live } });
    const update = (patch: Partial<LiveRun>) => set((s) => (s.run?.id === id ? { run: { ...s.run, ...patch } } : {}));
    const patchTrack = (patch: Partial<LiveTrack>) => set((s) => (s.run?.id === id && s.run.track ? { run: { ...s.run, track: { ...s.run.track, ...patch } } } : {}));
    const abort = new AbortController();
    trackAbort = abort;
    let last = null as CaptionReport | null;
    let text = '';
    try {
      const handle = await handleOf(file);
      // A track leaves the conversation of its last segment behind: forget it (no chat about a segment).
      await getEngine().reset(handle.mediaId);
      // The settings key of the cue cache: the request (no range), the prompt, the model.
      const key = { request: base, model: get().model.source?.key ?? '', name: ready.name };
      const outcome = await TRACKS.run(
        file,
        handle.info.duration,
        { seconds, prompt, settings: key },
        async (range, p) => {
          text = '';
          update({ text: '', stages: {}, activeStage: null });
          const report = await getEngine().caption(handle.mediaId, { ...base, prompt: p, range }, {
            onProgress: (ev) => set((s) => (s.run?.id === id ? { run: { ...s.run, activeStage: ev.stage, stages: { ...s.run.stages, [ev.stage]: progressOf(ev) } } } : {})),
            onFrames: (frames) => {
              revokeFrames(get().run);
              update({ frames: liveFrames(frames) });
            },
            onToken: (delta, tps) => {
              text += delta;
              update({ text, tokensPerSecond: tps });
            },
          });
          last = report;
          return report.caption;
        },
        {
          onSegment: (index, total, segment) => patchTrack({ index, total, segment }),
          onCues: (cues) => patchTrack({ cues, index: cues.length }),
        },
        abort.signal,
      );
      set({ busy: false });
      const cues = outcome.cues;
      patchTrack({ cues, reused: outcome.reused, total: outcome.total, index: cues.length, segment: null });
      const caption = cues.map((c) => c.text).join('\n');
      // A track has no one report (each segment has its own): the record keeps its cues.
      if (outcome.error === null) finish(id, 'done', { text: caption, tokensPerSecond: last?.tokensPerSecond ?? 0 });
      else {
        const error = asError(outcome.error);
        finish(id, error.code === 'runtime/interrupted' ? 'cancelled' : 'error', { error, text: caption });
      }
    } catch (e) {
      set({ busy: false });
      const error = asError(e);
      finish(id, error.code === 'runtime/interrupted' ? 'cancelled' : 'error', { error });
    } finally {
      if (trackAbort === abort) trackAbort = null;
    }
  },

  chat: null,

  ask: async (question) => {
    const chat = get().chat;
    const file = useMedia.getState().file;
    if (!chat || get().busy || chat.closed || chat.file !== file) return;
    const q = question.trim();
    if (!q) {
      set({ chat: { ...chat, error: { code: 'runtime/internal', message: 'Type a question first.', details: {} } } });
      return;
    }
    const patch = (p: Partial<ChatState>) => set((s) => (s.chat?.runId === chat.runId ? { chat: { ...s.chat, ...p } } : {}));
    const patchPending = (p: Partial<NonNullable<ChatState['pending']>>) => set((s) => (s.chat?.runId === chat.runId && s.chat.pending ? { chat: { ...s.chat, pending: { ...s.chat.pending, ...p } } } : {}));
    set({ busy: true });
    patch({ error: null, pending: { question: q, answer: '', stages: {}, activeStage: null } });
    const request = { ...buildRequest(currentSettings()), range: undefined, prompt: undefined };
    const createdAt = Date.now();
    let answer = '';
    let tps = 0;
    try {
      const turn = await getEngine().ask(await mediaIdOf(file), q, request, {
        onProgress: (p) => set((s) => (s.chat?.runId === chat.runId && s.chat.pending ? { chat: { ...s.chat, pending: { ...s.chat.pending, activeStage: p.stage, stages: { ...s.chat.pending.stages, [p.stage]: progressOf(p) } } } } : {})),
        onToken: (delta, rate) => {
          answer += delta;
          tps = rate;
          patchPending({ answer });
        },
      });
      set({ busy: false });
      const rec: TurnRecord = { question: q, answer: turn.answer, prefillTokens: turn.prefillTokens, reusedTokens: turn.reusedTokens, stopReason: turn.stopReason, tokensPerSecond: turn.tokensPerSecond, status: 'done', createdAt };
      addTurn(chat.runId, rec);
    } catch (e) {
      set({ busy: false });
      const error = asError(e);
      const partial = e instanceof EngineError && e.partialCaption ? e.partialCaption : answer;
      const status: RunStatus = error.code === 'runtime/interrupted' ? 'cancelled' : 'error';
      addTurn(chat.runId, { question: q, answer: partial, prefillTokens: 0, reusedTokens: 0, stopReason: 'interrupted', tokensPerSecond: tps, status, createdAt });
      // Stopped while generating, the engine keeps the partial answer in the conversation;
      // stopped in the prefill, or failed, it forgot the conversation.
      const kept = status === 'cancelled' && error.details.stage === 'generate';
      patch({
        error: status === 'error' ? error : null,
        closed: kept ? null : `The last question was ${status === 'cancelled' ? 'stopped before its answer began' : 'not answered'}, so the conversation ended: caption the video again to ask more.`,
      });
    }
  },

  resetConversation: async () => {
    const chat = get().chat;
    if (!chat || get().busy) return;
    set({ chat: { ...chat, pending: null, error: null, closed: 'The conversation was reset: caption the video again to start a new one (its turns stay in the history).' } });
    await getEngine().reset(await mediaIdOf(chat.file)).catch(() => undefined);
  },

  cancel: () => {
    if (!get().busy) return;
    trackAbort?.abort();
    getEngine().interrupt();
  },

  dismissRun: () => {
    if (get().busy) return;
    revokeFrames(get().run);
    set({ run: null });
  },
}));

/** The caption track in progress: Cancel stops it between segments too. */
let trackAbort: AbortController | null = null;

const newRun = (kind: RunKind, file: File): LiveRun => ({
  id: newId(), kind, range: null, track: null, status: 'running', fileName: file.name, text: '', tokensPerSecond: 0, frames: [], stages: {}, activeStage: null,
  options: null, report: null, error: null, startedAt: Date.now(), endedAt: null,
});

const liveFrames = (frames: { index: number; timestamp: number; thumbnail: Blob | null }[]): LiveFrame[] =>
  frames.map((f) => ({ index: f.index, timestamp: f.timestamp, blob: f.thumbnail, url: f.thumbnail ? URL.createObjectURL(f.thumbnail) : null }));

/**
 * Starts a run of `kind` on the chosen file: loads the model first when none is ready (the
 * selected preset, with the WASM switch). Null when nothing is to run (busy, no file, no model).
 */
async function startRun(kind: RunKind): Promise<{ id: string; file: File; ready: ReadyInfo } | null> {
  const { getState: get, setState: set } = useEngine;
  const file = useMedia.getState().file;
  if (!file || get().busy) return null;
  revokeFrames(get().run);
  const base = newRun(kind, file);
  const id = base.id;
  set({ run: base });
  let model = get().model;
  if (model.status !== 'ready') {
    const source = model.source && model.status === 'error' && model.source.location.kind === 'files' ? model.source : get().selectedSource();
    if (!source) {
      set({ run: { ...base, status: 'error', endedAt: Date.now(), error: { code: 'bundle/not-found', message: 'No model is selected: choose a model preset or enter a bundle URL.', details: {} } } });
      return null;
    }
    set({ run: { ...base, status: 'loading-model' } });
    const ok = await get().loadModel(source);
    model = get().model;
    if (get().run?.id !== id) return null;
    if (!ok || !model.ready) {
      const error = model.error ?? { code: 'runtime/internal' as const, message: 'The model did not load.', details: {} };
      finish(id, model.error?.code === 'runtime/interrupted' ? 'cancelled' : 'error', { error });
      return null;
    }
  }
  return { id, file, ready: model.ready! };
}

/** Adds a turn to the conversation and to its caption run's history entry. */
function addTurn(runId: string, turn: TurnRecord): void {
  useEngine.setState((s) => (s.chat?.runId === runId ? { chat: { ...s.chat, turns: [...s.chat.turns, turn], pending: null } } : {}));
  const record = useHistory.getState().runs.find((r) => r.id === runId);
  if (record) void useHistory.getState().add({ ...record, turns: [...record.turns, turn] });
}

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
    version: RECORD_VERSION,
    kind: run.kind,
    range: run.report?.range ?? run.range,
    track: run.track ? { seconds: run.track.seconds, segmentation: 'fixed', prompt: run.track.prompt, segments: run.track.total, cues: run.track.cues, reused: run.track.reused } : null,
    turns: [],
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
