/** One caption run as the history keeps it (IndexedDB) and the exports write it. */
import type { SerializedError } from '../../core/errors';
import type { CaptionOptions } from '../../core/options';
import type { CaptionReport, TurnReport } from '../../core/report';
import type { ClipCaption } from '../../core/timed/long-caption';
import type { Cue, TimeRange } from '../../core/timed/track';

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

/** What a run made: a caption of the whole file, of a time range, a caption track, or a long caption. */
export type RunKind = 'global' | 'local' | 'track' | 'long';

/** A caption track's set-up and its cues (those done so far, for a cancelled track). */
export interface TrackFacts {
  /** Segment length, s. */
  seconds: number;
  /** How the video was cut: fixed-length segments, or at scene changes (then `seconds` is unused). */
  segmentation: 'fixed' | 'scenes';
  /** Scene segmentation: the detected cut times (s), before the min/max segment rules. */
  cuts?: number[];
  prompt: string;
  segments: number;
  cues: Cue[];
  /** Segments taken from the track's cache (same settings, not recomputed). */
  reused: number;
}

/** A long caption's set-up, its clip captions (those done so far, when cancelled) and the merge's scores. */
export interface LongFacts {
  targetWords: number;
  clipSeconds: number;
  strideSeconds: number;
  /** Clips planned. */
  total: number;
  clips: ClipCaption[];
  /** Merge calls per level (empty until the merge ends); the scores of the merged caption (null until then). */
  mergeLevels: number[];
  words: number | null;
  lengthScore: number | null;
  repetitionRate: number | null;
}

/** One follow-up question and its answer after the caption (a run's conversation). */
export type TurnRecord = Pick<TurnReport, 'question' | 'answer' | 'prefillTokens' | 'reusedTokens' | 'stopReason' | 'tokensPerSecond'> & {
  status: RunStatus;
  createdAt: number;
};

/** The record layout written now; older records are brought up to it on load (migrateRecord). */
export const RECORD_VERSION = 2;

export interface RunRecord {
  /** Layout version (absent: 1, before multi-step runs). */
  version?: number;
  kind: RunKind;
  /** The local caption's range (s), as the report says; null for the whole file. */
  range: TimeRange | null;
  track: TrackFacts | null;
  /** A long caption's clips and merge (absent in records made before it). */
  long?: LongFacts | null;
  /** The conversation after the caption, in order. */
  turns: TurnRecord[];
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

export const KIND_LABEL: Record<RunKind, string> = { global: 'caption', local: 'local caption', track: 'caption track', long: 'long caption' };

/**
 * A stored record in the current layout. Version-1 records (global or local captions, no
 * track, no conversation) get their kind from the range in their options; nothing is dropped.
 */
export function migrateRecord(raw: RunRecord | (Omit<RunRecord, 'kind' | 'range' | 'track' | 'turns'> & Partial<RunRecord>)): RunRecord {
  if (raw.version === RECORD_VERSION) return raw as RunRecord;
  const range = raw.range ?? raw.report?.range ?? raw.options?.range ?? null;
  return {
    ...raw,
    version: RECORD_VERSION,
    kind: raw.kind ?? (raw.track ? 'track' : range ? 'local' : 'global'),
    range,
    track: raw.track ?? null,
    turns: Array.isArray(raw.turns) ? raw.turns : [],
  };
}
