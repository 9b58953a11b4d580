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
import { clipPrompt, longCaption, type LongCaptionModel } from '../../core/timed/long-caption';
import { mergeContextTokens } from '../../core/timed/long-engine';
import { DEFAULT_SCENE_OPTIONS, type SceneReport } from '../../core/timed/scenes';
import { clipsOf } from '../../core/timed/track';
import type { Cue, TimeRange } from '../../core/timed/track';
import type { Prefer } from '../../core/runtime/backend';
import { EngineError, WorkerEngine } from '../../worker/client';
import type { BundleLocation, ProgressEvent } from '../../worker/protocol';
import { LITE_PINS, presetById } from '../lib/presets';
import type { LitePins } from '../../core/bundle/hub-preset';
import { RECORD_VERSION, type LongFacts, type RunKind, type RunRecord, type RunStatus, type RunThumbnail, type TurnRecord } from '../lib/run-record';
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
  segmentation: 'fixed' | 'scenes';
  /** Scene segmentation: true while the cuts are being found (the decode stage's progress). */
  detecting: boolean;
  /** Scene segmentation: the detected cut times (s), null until known. */
  cuts: number[] | null;
  /** Why the scene segmentation gave a single segment (no cut found), else null. */
  note: string | null;
  prompt: string;
  total: number;
  /** The segment being captioned (0-based); total when all are done. */
  index: number;
  segment: TimeRange | null;
  cues: Cue[];
  reused: number;
}

/** A long caption in progress (or ended): clip i of n, the clip captions so far, then the merge. */
export interface LiveLong extends LongFacts {
  /** The clip being captioned (0-based); total once the merge runs. */
  index: number;
  clip: TimeRange | null;
  phase: 'clips' | 'merge' | 'ended';
  /** Merge calls done. */
  merges: number;
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
  long: LiveLong | null;
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
  /** A long caption: clip captions in order, then merged (the settings' words, clip length, stride). */
  captionLong: () => Promise<void>;
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
    const segmentation = settings.trackSegmentation;
    const base = buildRequest(settings);
    // The track's own short prompt unless the user typed one (PIPELINE §10).
    const prompt = settings.prompt?.trim() ? settings.prompt : TRACK_PROMPT;
    const options = { ...buildOptions(settings, defaultOptions(ready.manifest)), prompt, range: null };
    const live: LiveTrack = { seconds, segmentation, detecting: segmentation === 'scenes', cuts: null, note: null, prompt, total: 0, index: 0, segment: null, cues: [], reused: 0 };
    set({ busy: true, chat: null, run: { ...get().run!, status: 'running', options, track: live } });
    const update = (patch: Partial<LiveRun>) => set((s) => (s.run?.id === id ? { run: { ...s.run, ...patch } } : {}));
    const patchTrack = (patch: Partial<LiveTrack>) => set((s) => (s.run?.id === id && s.run.track ? { run: { ...s.run, track: { ...s.run.track, ...patch } } } : {}));
    const abort = new AbortController();
    stepAbort = abort;
    let last = null as CaptionReport | null;
    let text = '';
    try {
      const handle = await handleOf(file);
      const scenes = segmentation === 'scenes' ? await sceneCuts(file, handle, (ev) => set((s) => (s.run?.id === id ? { run: { ...s.run, activeStage: ev.stage, stages: { ...s.run.stages, [ev.stage]: progressOf(ev) } } } : {}))) : null;
      if (scenes) {
        const note = scenes.segments.length === 1 ? `No scene change was found (no scene score above ${scenes.options.threshold}): the track is one segment of the whole video.` : null;
        patchTrack({ detecting: false, cuts: scenes.cuts.map((c) => c.time), note, total: scenes.segments.length, segment: scenes.segments[0] });
      }
      // A track leaves the conversation of its last segment behind: forget it (no chat about a segment).
      await getEngine().reset(handle.mediaId);
      // The settings key of the cue cache: the request (no range), the prompt, the model.
      const key = { request: base, model: get().model.source?.key ?? '', name: ready.name };
      const outcome = await TRACKS.run(
        file,
        handle.info.duration,
        { seconds, prompt, settings: key, scenes: scenes ? { segments: scenes.segments, options: scenes.options } : undefined },
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
      patchTrack({ detecting: false });
      const error = asError(e);
      finish(id, error.code === 'runtime/interrupted' ? 'cancelled' : 'error', { error });
    } finally {
      if (stepAbort === abort) stepAbort = null;
    }
  },

  captionLong: async () => {
    const started = await startRun('long');
    if (!started) return;
    const { id, file, ready } = started;
    const settings = currentSettings();
    // The long caption writes its own clip and merge prompts (long-caption.ts), as the CLI's --long.
    const base = { ...buildRequest(settings), prompt: undefined };
    const { longWords: targetWords, longClipSeconds: clipSeconds, longStrideSeconds: strideSeconds } = settings;
    // The record shows the clips' prompt (the first clip's: no previous caption yet).
    const options = { ...buildOptions(settings, defaultOptions(ready.manifest)), prompt: clipPrompt(null), range: null };
    const live: LiveLong = { targetWords, clipSeconds, strideSeconds, total: 0, clips: [], mergeLevels: [], words: null, lengthScore: null, repetitionRate: null, index: 0, clip: null, phase: 'clips', merges: 0 };
    set({ busy: true, chat: null, run: { ...get().run!, status: 'running', options, long: live } });
    const update = (patch: Partial<LiveRun>) => set((s) => (s.run?.id === id ? { run: { ...s.run, ...patch } } : {}));
    const patchLong = (patch: Partial<LiveLong>) => set((s) => (s.run?.id === id && s.run.long ? { run: { ...s.run, long: { ...s.run.long, ...patch } } } : {}));
    const abort = new AbortController();
    stepAbort = abort;
    let text = '';
    let tps = 0;
    const handlers = {
      onProgress: (ev: ProgressEvent) => set((s) => (s.run?.id === id ? { run: { ...s.run, activeStage: ev.stage, stages: { ...s.run.stages, [ev.stage]: progressOf(ev) } } } : {})),
      onFrames: (frames: Parameters<typeof liveFrames>[0]) => {
        revokeFrames(get().run);
        update({ frames: liveFrames(frames) });
      },
      onToken: (delta: string, rate: number) => {
        text += delta;
        tps = rate;
        update({ text, tokensPerSecond: rate });
      },
    };
    try {
      const handle = await handleOf(file);
      await getEngine().reset(handle.mediaId);
      const clips = clipsOf(handle.info.duration, clipSeconds, strideSeconds);
      patchLong({ total: clips.length, clip: clips[0] ?? null });
      const model: LongCaptionModel = {
        captionClip: async (clip, prompt) => {
          text = '';
          update({ text: '', stages: {}, activeStage: null });
          return (await getEngine().caption(handle.mediaId, { ...base, prompt, range: clip }, handlers)).caption;
        },
        complete: async (prompt) => {
          text = '';
          update({ text: '', stages: {}, activeStage: null });
          patchLong({ phase: 'merge', clip: null });
          return (await getEngine().complete(prompt, base, handlers)).answer;
        },
        countTokens: (t) => getEngine().completionTokens(t, base),
        contextTokens: mergeContextTokens(ready.manifest, base),
      };
      const done: LongFacts['clips'] = [];
      const r = await longCaption(clips, model, {
        targetWords,
        signal: abort.signal,
        onClip: (i, _n, caption) => {
          done.push({ ...clips[i], caption });
          patchLong({ clips: [...done], index: i + 1, clip: clips[i + 1] ?? null });
        },
        onMerge: () => patchLong({ merges: (get().run?.long?.merges ?? 0) + 1 }),
      });
      set({ busy: false });
      patchLong({ phase: 'ended', clips: r.clips, mergeLevels: r.mergeLevels, words: r.words, lengthScore: r.lengthScore, repetitionRate: r.repetitionRate });
      finish(id, 'done', { text: r.caption, tokensPerSecond: tps });
    } catch (e) {
      set({ busy: false });
      patchLong({ phase: 'ended', clip: null });
      const error = asError(e);
      // The clip captions done so far stay in the record; a merge cut short keeps its partial text.
      const partial = e instanceof EngineError && e.partialCaption ? e.partialCaption : get().run?.long?.phase === 'merge' ? text : '';
      finish(id, error.code === 'runtime/interrupted' ? 'cancelled' : 'error', { error, text: partial });
    } finally {
      if (stepAbort === abort) stepAbort = null;
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
    stepAbort?.abort();
    getEngine().interrupt();
  },

  dismissRun: () => {
    if (get().busy) return;
    revokeFrames(get().run);
    set({ run: null });
  },
}));

/** The multi-step run in progress (a track, a long caption): Cancel stops it between its requests too. */
let stepAbort: AbortController | null = null;

/** Scene detections of the opened files (the default options): a rerun does not decode again. */
const SCENES = new WeakMap<File, SceneReport>();

/**
 * The scene segments of a file (Engine.scenes over the worker: decode-stage progress,
 * interruptible). A video too short for two segments of the minimum length is refused.
 */
async function sceneCuts(file: File, handle: MediaHandle, onProgress: (ev: ProgressEvent) => void): Promise<SceneReport> {
  const known = SCENES.get(file);
  if (known) return known;
  const shortest = 2 * DEFAULT_SCENE_OPTIONS.minSeconds;
  if (handle.info.duration < shortest) {
    throw new EngineError({ code: 'media/too-short', message: `The video is ${handle.info.duration.toFixed(1)} s long: scene segments need at least ${shortest} s (two segments of at least ${DEFAULT_SCENE_OPTIONS.minSeconds} s). Use fixed-length segments instead.`, details: { duration: handle.info.duration } });
  }
  const report = await getEngine().scenes(handle.mediaId, {}, { onProgress });
  SCENES.set(file, report);
  return report;
}

const newRun = (kind: RunKind, file: File): LiveRun => ({
  id: newId(), kind, range: null, track: null, long: null, status: 'running', fileName: file.name, text: '', tokensPerSecond: 0, frames: [], stages: {}, activeStage: null,
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
    track: run.track ? { seconds: run.track.seconds, segmentation: run.track.segmentation, ...(run.track.cuts ? { cuts: run.track.cuts } : {}), prompt: run.track.prompt, segments: run.track.total, cues: run.track.cues, reused: run.track.reused } : null,
    long: run.long ? { targetWords: run.long.targetWords, clipSeconds: run.long.clipSeconds, strideSeconds: run.long.strideSeconds, total: run.long.total, clips: run.long.clips, mergeLevels: run.long.mergeLevels, words: run.long.words, lengthScore: run.long.lengthScore, repetitionRate: run.long.repetitionRate } : null,
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
