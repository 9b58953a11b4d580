/**
 * What a caption run is asked to do. Defaults come from the bundle manifest (PIPELINE §1,
 * §4, §5); the UI persists the user's choices, the CLI takes them as flags.
 */
import type { BundleManifest, InterleaveMode } from './bundle/manifest';
import type { FrameRule, SamplingPresetName } from './media/plan';
import type { PromptVariant } from './model/prompt';

/** av: audio + visual; v: frames only; a: audio only. */
export type Modality = 'av' | 'v' | 'a';

export type Decoding =
  | { kind: 'greedy' }
  | { kind: 'sample'; temperature: number; topP: number; seed: number };

/** One definition, in media/plan.ts (re-exported here for the options' users). */
export type { FrameRule };

/** Audio channel fed to the model: 0 as the checkpoint (av_dataset.py:144-145), or a downmix. */
export type AudioChannel = 0 | 'mix';

export interface CaptionOptions {
  modality: Modality;
  interleave: InterleaveMode;
  /** φ, frames per second. */
  fps: number;
  /** m, the frame cap. */
  maxFrames: number;
  frameRule: FrameRule;
  maxNewTokens: number;
  prompt: string;
  decoding: Decoding;
  /** Prompt tokens per prefill run (bounds the logits buffer). */
  prefillChunk: number;
  /** Sampling preset (PIPELINE §1; media/plan.ts SAMPLING_PRESETS): 'paper' (default) or 'checkpoint'. */
  sampling?: SamplingPresetName;
  /** Audio channel: 0 (the checkpoint's, default) or 'mix' (downmix). */
  channel?: AudioChannel;
  /** Prompt variant (PIPELINE §5; model/prompt.ts applyPromptVariant): 'official' (default) or 'training'. */
  promptVariant?: PromptVariant;
  /** Repetition penalty (transformers' RepetitionPenaltyLogitsProcessor); default: the manifest's generation config, else 1. */
  repetitionPenalty?: number;
}

export function defaultOptions(m: Pick<BundleManifest, 'sampling' | 'interleave' | 'prompt'>): CaptionOptions {
  return {
    modality: 'av',
    interleave: m.interleave.default,
    fps: m.sampling.fps,
    maxFrames: m.sampling.maxFrames,
    frameRule: 'checkpoint',
    maxNewTokens: m.prompt.maxNewTokens,
    prompt: m.prompt.defaultPrompt,
    decoding: { kind: 'greedy' },
    prefillChunk: 256,
  };
}
