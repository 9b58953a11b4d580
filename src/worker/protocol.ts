/**
 * The typed message protocol between the app and the worker that owns the core
 * (ARCHITECTURE "The worker protocol"). Requests go in; events come out.
 */
import type { SerializedError } from '../core/errors';
import type { CaptionOptions } from '../core/options';
import type { CaptionReport, FrameFact, Stage } from '../core/report';
import type { GpuAdapterFacts } from '../core/runtime/capabilities';
import type { Backend } from '../core/runtime/ort';

/** Where a bundle comes from: a URL prefix (cached) or the files of a picked folder. */
export type BundleLocation = { kind: 'url'; url: string } | { kind: 'files'; files: File[] };

export type WorkerRequest =
  | { type: 'load'; bundle: BundleLocation; prefer: 'auto' | 'wasm' }
  | { type: 'caption'; runId: string; file: File; options: CaptionOptions }
  | { type: 'interrupt' }
  | { type: 'dispose' };

export interface ProgressEvent {
  type: 'progress';
  stage: Stage;
  /** 0…1 within the stage. */
  fraction: number;
  loadedBytes?: number;
  totalBytes?: number;
  fromCache?: boolean;
  detail?: string;
}

export type WorkerEvent =
  | ProgressEvent
  | { type: 'ready'; model: string; randomWeights: boolean; backends: Record<string, Backend>; adapter: GpuAdapterFacts | null; fallbackReasons: string[] }
  | { type: 'frames'; runId: string; frames: (FrameFact & { thumbnail: Blob | null })[] }
  | { type: 'token'; runId: string; text: string; tokenId: number; tokensPerSecond: number }
  | { type: 'done'; runId: string; report: CaptionReport }
  | { type: 'error'; runId: string | null; error: SerializedError; partialCaption?: string };
