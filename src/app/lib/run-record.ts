/** One caption run as the history keeps it (IndexedDB) and the exports write it. */
import type { SerializedError } from '../../core/errors';
import type { CaptionOptions } from '../../core/options';
import type { CaptionReport } from '../../core/report';

export type RunStatus = 'done' | 'cancelled' | 'error';

export interface RunModelFacts {
  name: string;
  /** What the model is (its family's label, e.g. "… (lite; not video-SALMONN 2)"); null in records made before it was kept. */
  label?: string | null;
  randomWeights: boolean;
  /** Where the bundle came from: its URL or "folder: name". */
  source: string;
  /** Backend per graph, from the engine's `ready` event. */
  backends: Record<string, string>;
  /** The WebGPU adapter, when one was used. */
  adapter: string | null;
}

export interface RunVideoFacts {
  name: string;
  bytes: number;
  type: string;
  /** Seconds, from the report or the preview; null when unknown (e.g. a broken file). */
  duration: number | null;
}

export interface RunThumbnail {
  timestamp: number;
  blob: Blob | null;
}

export interface RunRecord {
  id: string;
  /** ms since the epoch. */
  createdAt: number;
  status: RunStatus;
  /** The full caption, or the partial one of a cancelled / failed run. */
  caption: string;
  options: CaptionOptions;
  model: RunModelFacts;
  video: RunVideoFacts;
  thumbnails: RunThumbnail[];
  report: CaptionReport | null;
  error: SerializedError | null;
  tokensPerSecond: number;
  /** Wall time of the run (file open → last token), ms. */
  wallMs: number;
}

export const STATUS_LABEL: Record<RunStatus, string> = { done: 'done', cancelled: 'cancelled (partial)', error: 'failed' };
