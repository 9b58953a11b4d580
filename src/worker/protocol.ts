/**
 * The typed message protocol between the app and the worker that owns the core. Every
 * request carries an id; every event carries the id of the request it belongs to, and
 * the client settles each request by its id only (client.ts): an event of an earlier
 * request can never reach a later one. `complete` (a text-only turn) streams `token` and
 * `progress` events as a caption does; `scenes` streams `progress` (stage 'decode') and
 * resolves with the cuts and segments (core/timed/scenes.ts) for a scene-cut caption track;
 * `tokens` counts a text-only turn's prompt tokens (InProcessEngine.completionTokens).
 */
import type { SerializedError } from '../core/errors';
import type { LoadProgress, MediaHandle, ModelInfo } from '../core/engine';
import type { CaptionRequest } from '../core/options';
import type { CaptionReport, CompletionReport, FrameFact, Stage, TurnReport } from '../core/report';
import type { SceneOptions, SceneReport } from '../core/timed/scenes';
import type { Prefer } from '../core/runtime/backend';
import type { LitePins } from '../core/bundle/hub-preset';
import type { LowMemorySetting } from '../core/bundle/memory';

/**
 * Where a bundle comes from: a URL prefix (cached), the files of a picked folder, or the lite
 * preset's pinned public files at a Hub endpoint (bundle.json built at load, core/bundle/hub-preset.ts).
 */
export type BundleLocation = { kind: 'url'; url: string } | { kind: 'files'; files: File[] } | { kind: 'hub'; pins: LitePins; endpoint?: string };

export type RequestBody =
  | { type: 'load'; bundle: BundleLocation; prefer: Prefer; lowMemory: LowMemorySetting }
  | { type: 'open'; file: File }
  | { type: 'caption'; mediaId: string; request: CaptionRequest }
  | { type: 'ask'; mediaId: string; question: string; request: CaptionRequest }
  | { type: 'complete'; prompt: string; request: CaptionRequest }
  | { type: 'scenes'; mediaId: string; options: Partial<SceneOptions> }
  | { type: 'tokens'; prompt: string; request: CaptionRequest }
  | { type: 'reset'; mediaId: string }
  | { type: 'close'; mediaId: string }
  | { type: 'dispose' };

/** `interrupt` names the request to stop; it is answered by that request's own outcome. */
export type WorkerRequest = ({ id: number } & RequestBody) | { id: number; type: 'interrupt'; target: number };

/** What each request resolves with. */
export interface ResultOf {
  load: ModelInfo;
  open: MediaHandle;
  caption: CaptionReport;
  ask: TurnReport;
  complete: CompletionReport;
  scenes: SceneReport;
  /** Prompt tokens of a text-only turn (a long caption's merge budget). */
  tokens: number;
  reset: null;
  close: null;
  dispose: null;
}

export interface ProgressEvent {
  type: 'progress';
  id: number;
  stage: Stage;
  /** 0…1 within the stage. */
  fraction: number;
  loadedBytes?: number;
  totalBytes?: number;
  fromCache?: boolean;
  detail?: string;
  /** Bundle stage: download speed (bytes/s) and seconds left (null: not known yet). */
  bytesPerSecond?: number;
  etaSeconds?: number | null;
}

export type LoadProgressEvent = { type: 'progress'; id: number } & LoadProgress;

export type WorkerEvent =
  | ProgressEvent
  | { type: 'frames'; id: number; frames: (FrameFact & { thumbnail: Blob | null })[] }
  | { type: 'token'; id: number; text: string; tokenId: number; tokensPerSecond: number }
  | { type: 'result'; id: number; value: ResultOf[keyof ResultOf] }
  | { type: 'error'; id: number; error: SerializedError };
