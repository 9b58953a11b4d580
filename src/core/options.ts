/**
 * What a caption run is asked to do. A request names only the settings the user changed;
 * `resolveOptions` fills the rest from the bundle manifest (ARCHITECTURE "One truth for
 * numbers"), so the app and the CLI give the same run for the same bundle and request.
 */
import type { BundleManifest, InterleaveMode } from './bundle/manifest';
import { resolveSampling, type FrameRule, type SamplingPresetName } from './media/plan';
import type { AudioChannel } from './media/types';
import type { TextPieceRequest } from './model/interleave';
import type { PromptVariant } from './model/prompt';

/** av: audio + visual; v: frames only; a: audio only. */
export type Modality = 'av' | 'v' | 'a';

export type Decoding =
  | { kind: 'greedy' }
  | { kind: 'sample'; temperature: number; topP: number; seed: number };

/** One definition each, re-exported here for the options' users. */
export type { AudioChannel, FrameRule };

export interface ResolvedOptions {
  modality: Modality;
  interleave: InterleaveMode;
  /** φ, frames per second. */
  fps: number;
  /** m, the frame cap. */
  maxFrames: number;
  /** Audio-only input is cut to this many seconds (the preset's max_time, or m / φ). */
  maxTime: number;
  frameRule: FrameRule;
  /** Sampling preset (PIPELINE §1; media/plan.ts SAMPLING_PRESETS): 'paper' (default) or 'checkpoint'. */
  sampling: SamplingPresetName;
  /** Audio channel 0 (the checkpoint's) or the downmix. */
  channel: AudioChannel;
  /** Prompt variant (PIPELINE §5; model/prompt.ts applyPromptVariant): 'official' or 'training'. */
  promptVariant: PromptVariant;
  /** Time tokens after each frame of visual-only input (the checkpoint's --add_time_token, PIPELINE §1). */
  timeTokens: boolean;
  maxNewTokens: number;
  prompt: string;
  decoding: Decoding;
  /** transformers' repetition_penalty (1 = off). */
  repetitionPenalty: number;
  /** Prompt tokens per prefill run (bounds the logits buffer). */
  prefillChunk: number;
  /** Text to place among the frames in time order (notes, transcripts). */
  textPieces: TextPieceRequest[];
  /** A local caption of this time range (s) of the file; null: the whole file. */
  range: { start: number; end: number } | null;
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
    maxTime: m.sampling.maxFrames / m.sampling.fps,
    frameRule: 'checkpoint',
    sampling: 'paper',
    channel: 0,
    promptVariant: m.prompt.defaultVariant ?? 'official',
    timeTokens: true,
    maxNewTokens: m.generation.maxNewTokens,
    prompt: m.prompt.defaultPrompt,
    decoding: { kind: 'greedy' },
    repetitionPenalty: m.generation.repetitionPenalty,
    prefillChunk: 256,
    textPieces: [],
    range: null,
  };
}

/**
 * The request's settings over the bundle's; undefined fields follow the bundle. The
 * sampling preset (PIPELINE §1) sets the cap unless the request sets one: "paper" keeps the
 * bundle's m; "checkpoint" derives m = round(max_time · φ) with max_time 110 s.
 */
export function resolveOptions(m: Pick<BundleManifest, 'sampling' | 'interleave' | 'prompt' | 'generation'>, request: CaptionRequest = {}): ResolvedOptions {
  const out = defaultOptions(m);
  for (const [k, v] of Object.entries(request)) if (v !== undefined) (out as unknown as Record<string, unknown>)[k] = v;
  const cap = request.maxFrames ?? (out.sampling === 'paper' ? m.sampling.maxFrames : undefined);
  const s = resolveSampling(out.sampling, { fps: out.fps, maxFrames: cap });
  out.maxFrames = s.maxFrames;
  out.maxTime = s.maxTime;
  return out;
}
