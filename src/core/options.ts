/**
 * What a caption run is asked to do. Defaults come from the bundle manifest (PIPELINE §1,
 * §4, §5); the UI persists the user's choices, the CLI takes them as flags.
 */
import type { BundleManifest, InterleaveMode } from './bundle/manifest';

/** av: audio + visual; v: frames only; a: audio only. */
export type Modality = 'av' | 'v' | 'a';

export type Decoding =
  | { kind: 'greedy' }
  | { kind: 'sample'; temperature: number; topP: number; seed: number };

export type FrameRule = 'checkpoint' | 'paper';

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
