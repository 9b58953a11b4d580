/**
 * Errors that reach the user carry a stable code and a human-readable message (what went
 * wrong and what to do next). The UI and the CLI map codes to messages; stack traces never
 * reach the user. Codes are grouped by where they arise.
 */

export type ErrorCode =
  // media (input file)
  | 'media/empty-file'
  | 'media/not-a-video'
  | 'media/corrupt'
  | 'media/unsupported-codec'
  | 'media/no-tracks'
  | 'media/no-video-track'
  | 'media/no-audio-track'
  | 'media/too-short'
  | 'media/bad-range'
  | 'media/decode-failed'
  // bundle (model files)
  | 'bundle/not-found'
  | 'bundle/bad-manifest'
  | 'bundle/missing-file'
  | 'bundle/integrity'
  | 'bundle/download-failed'
  | 'bundle/graph-contract'
  | 'bundle/unknown-family'
  | 'bundle/quota'
  | 'bundle/unsupported'
  // runtime
  | 'runtime/no-backend'
  | 'runtime/session-create'
  | 'runtime/device-lost'
  | 'runtime/out-of-memory'
  | 'runtime/interrupted'
  | 'runtime/no-conversation'
  | 'runtime/busy'
  | 'runtime/internal';

export class CaptionError extends Error {
  readonly code: ErrorCode;
  /** Extra facts for the message and the report (file name, codec, …). */
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'CaptionError';
    this.code = code;
    this.details = details;
  }
}

export function isCaptionError(e: unknown): e is CaptionError {
  return e instanceof CaptionError;
}

/** Wraps anything thrown into a CaptionError, keeping a CaptionError as it is. */
export function toCaptionError(e: unknown, fallback: ErrorCode = 'runtime/internal'): CaptionError {
  if (isCaptionError(e)) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new CaptionError(fallback, message);
}

/** Plain-object form that crosses the worker boundary (structured clone drops classes). */
export interface SerializedError {
  code: ErrorCode;
  message: string;
  details: Record<string, unknown>;
}

export function serializeError(e: unknown): SerializedError {
  const err = toCaptionError(e);
  return { code: err.code, message: err.message, details: err.details };
}

/**
 * The one outcome of an interrupt, at every stage (engine.ts): a `runtime/interrupted`
 * error naming the stage; the caption so far and the partial report ride in `details`.
 */
export function interruptedError(stage: string, details: Record<string, unknown> = {}): CaptionError {
  const what = stage === 'bundle' || stage === 'session' ? 'Loading the model was cancelled.' : 'The run was cancelled.';
  return new CaptionError('runtime/interrupted', what, { stage, ...details });
}

/** Throws `interruptedError(stage)` once `signal` is aborted. */
export function checkAborted(signal: AbortSignal | undefined, stage: string, details: Record<string, unknown> = {}): void {
  if (signal?.aborted) throw interruptedError(stage, details);
}
