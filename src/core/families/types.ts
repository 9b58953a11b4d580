/**
 * A model family: what its graphs are (roles and the ports each must declare), how it
 * warms up, how it turns a media segment into features and sequence pieces, and its
 * prompt. The session (../session.ts) is the same for every family; adding a family is
 * one file here plus a manifest whose `family` names it.
 */
import type { BundleManifest } from '../bundle/manifest';
import type { MemoryPlan } from '../bundle/memory';
import type { StageSessions } from './stages';
import type { AudioPlan } from '../media/plan';
import type { PreparedFrame } from '../features/pixels';
import type { AudioChannel, MediaSource } from '../media/types';
import type { Layout, TextPiece } from '../model/interleave';
import type { PromptIds, TextTokenizer } from '../model/prompt';
import type { ResolvedOptions } from '../options';
import type { Stage } from '../report';
import type { Backend, Ort, Session } from '../runtime/ort';

export type ProgressFn = (stage: Stage, fraction: number, detail?: string) => void;

/** A graph role of a family and the logical ports its manifest entry must name. */
export interface GraphRole {
  role: string;
  inputs: readonly string[];
  outputs: readonly string[];
  /** Ports another port may stand in for, e.g. position_ids is optional for GQA decoders. */
  optionalInputs?: readonly string[];
  /** A bundle may leave this graph out (the lite family's sound tagger); when present it is checked like the rest. */
  optional?: boolean;
  /** A graph of the LLM stage (embeddings, decoder); the rest are the encoders (low-memory mode, bundle/memory.ts). */
  llm?: boolean;
}

/** A bundle's graphs as sessions, ready to run. */
export interface LoadedModel {
  ort: Ort;
  manifest: BundleManifest;
  family: ModelFamily;
  sessions: Record<string, Session>;
  backends: Record<string, Backend>;
  fallbackReasons: string[];
  /** Low-memory mode or not, and why (bundle/memory.ts); absent: every graph stays loaded. */
  memory?: Pick<MemoryPlan, 'lowMemory' | 'reason'>;
  /** Which sessions are live (stages.ts); absent: all of them. */
  stages?: StageSessions;
  tokenizer: TextTokenizer;
  /** Bytes of the bundle's tokenizer files by path (a family with a second tokenizer reads its own). */
  tokenizerFiles?: Record<string, Uint8Array>;
}

/** What a run uses of the file (PIPELINE §4 missing tracks). */
export interface Use {
  video: boolean;
  audio: boolean;
  note?: string;
}

/** The audio branch's product: feature rows and/or text pieces (a transcript). */
export interface EncodedAudio {
  features: Float32Array | null;
  /** Rows in `features` (A). */
  tokens: number;
  text: TextPiece[];
  /** Sound-event tags per tagger window (families with a sound tagger), in time order. */
  sounds?: SoundWindow[];
}

/**
 * The planned frames in order as they are decoded: `count` planned, `frames` yields each once
 * it is prepared. The vision encoder is per frame (PIPELINE §2),
 * so a batch can run as soon as its frames are there; batches keep their fixed bounds
 * (frames 0–3, 4–7, …), so the runs' inputs, and outputs, are those of all frames at once.
 */
export interface FrameFeed {
  count: number;
  frames: AsyncIterable<PreparedFrame>;
}

/** The labels a sound tagger gave one window of audio (seconds from the start of the input). */
export interface SoundWindow {
  start: number;
  end: number;
  labels: { label: string; score: number }[];
}

export interface LayoutInput {
  use: Use;
  frameTimes: number[];
  audio: EncodedAudio | null;
  /** T: the segment's real time in seconds. */
  duration: number;
  options: ResolvedOptions;
}

export interface ModelFamily {
  readonly id: string;
  /** Shown with captions: what the model is (never another family's name). */
  readonly label: string;
  readonly graphs: readonly GraphRole[];
  /** Family-specific manifest checks after the shared ones (throws `bundle/bad-manifest`). */
  checkManifest?(manifest: BundleManifest): void;
  /** Layers a role's `{i}` ports expand to (default: llm.layers). */
  layers?(role: string, manifest: BundleManifest): number;
  /** Outputs of a role that stay on the GPU between runs (the decoder's KV cache). */
  gpuOutputs(role: string, manifest: BundleManifest): string[];
  /** Runs every graph once on the smallest input (first runs compile kernels; ENVIRONMENT.md). */
  warmUp(model: LoadedModel): Promise<void>;
  /** Frames → visual feature rows [F · tokensPerFrame, H], encoding the first frames while later ones are still decoded (FrameFeed). */
  encodeFrames(model: LoadedModel, feed: FrameFeed, progress: ProgressFn, signal?: AbortSignal): Promise<Float32Array>;
  /** The planned audio → feature rows and/or text pieces. */
  encodeAudio(model: LoadedModel, media: MediaSource, plan: AudioPlan, channel: AudioChannel, progress: ProgressFn, signal?: AbortSignal): Promise<EncodedAudio>;
  /** Where every piece goes (PIPELINE §4), text pieces included. */
  layout(model: LoadedModel, input: LayoutInput): Layout;
  /** The text of a follow-up user turn after an answer (default: "\n" + the ChatML turn of the bundle's template). */
  turnText?(model: LoadedModel, question: string): string;
  /** Token ids of a text-only turn: system prompt, the user's text, the generation prompt — no media block (PIPELINE §10). */
  textPromptIds(model: LoadedModel, prompt: string, options: ResolvedOptions): number[];
  /** Token ids around the audio-visual block (PIPELINE §5). */
  promptIds(model: LoadedModel, question: string, options: ResolvedOptions): PromptIds;
}
