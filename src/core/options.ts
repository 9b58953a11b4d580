/**
 * What a caption run is asked to do. A request names only the settings the user changed;
 * `resolveOptions` fills the rest from the bundle manifest (ARCHITECTURE "One truth for
 * numbers"), so the app and the CLI give the same run for the same bundle and request.
 */
import type { BundleManifest, InterleaveMode } from './bundle/manifest';
import type { AudioChannel } from './media/types';
import type { TextPieceRequest } from './model/interleave';

/** av: audio + visual; v: frames only; a: audio only. */
export type Modality = 'av' | 'v' | 'a';

export type Decoding =
  | { kind: 'greedy' }
  | { kind: 'sample'; temperature: number; topP: number; seed: number };

/** Frame selection: the checkpoint's decode step + linspace, or the paper's plain rule (PIPELINE §1). */
export type FrameRule = 'checkpoint' | 'paper';

export interface ResolvedOptions {
  modality: Modality;
  interleave: InterleaveMode;
  /** φ, frames per second. */
  fps: number;
  /** m, the frame cap. */
  maxFrames: number;
  frameRule: FrameRule;
  /** Audio channel 0 (the checkpoint) or the downmix. */
  channel: AudioChannel;
  maxNewTokens: number;
  prompt: string;
  decoding: Decoding;
  /** transformers' repetition_penalty (1 = off). */
  repetitionPenalty: number;
  /** Prompt tokens per prefill run (bounds the logits buffer). */
  prefillChunk: number;
  /** Text to place among the frames in time order (notes, transcripts). */
  textPieces: TextPieceRequest[];
}

/** A request: any subset of the settings; what is absent follows the bundle. */
export type CaptionRequest = Partial<ResolvedOptions>;

/** Kept name: a full set of options. */
export type CaptionOptions = ResolvedOptions;

/** The settings a bundle implies when the user changed nothing. */
export function defaultOptions(m: Pick<BundleManifest, 'sampling' | 'interleave' | 'prompt' | 'generation'>): ResolvedOptions {
  return {
    modality: 'av',
    interleave: m.interleave.default,
    fps: m.sampling.fps,
    maxFrames: m.sampling.maxFrames,
    frameRule: 'checkpoint',
    channel: 0,
    maxNewTokens: m.generation.maxNewTokens,
    prompt: m.prompt.defaultPrompt,
    decoding: { kind: 'greedy' },
    repetitionPenalty: m.generation.repetitionPenalty,
    prefillChunk: 256,
    textPieces: [],
  };
}

/** The request's settings over the bundle's; undefined fields follow the bundle. */
export function resolveOptions(m: Pick<BundleManifest, 'sampling' | 'interleave' | 'prompt' | 'generation'>, request: CaptionRequest = {}): ResolvedOptions {
  const out = defaultOptions(m);
  for (const [k, v] of Object.entries(request)) if (v !== undefined) (out as unknown as Record<string, unknown>)[k] = v;
  return out;
}
