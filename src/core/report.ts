/**
 * The full record of one caption run: what the CLI prints with --json, what the app
 * exports as .json and keeps in its history.
 */
import type { Backend } from './runtime/ort';
import type { ResolvedOptions } from './options';
import type { StopReason } from './model/decoder';
import type { SoundWindow } from './families/types';

export interface VideoFacts {
  name: string;
  bytes: number;
  duration: number;
  hasAudio: boolean;
  hasVideo: boolean;
  width?: number;
  height?: number;
  videoCodec?: string;
  audioCodec?: string;
}

export interface FrameFact {
  index: number;
  timestamp: number;
}

/** One entry per frame in sequence order; `frame: null` is trailing audio. */
export interface LayoutEntry {
  frame: number | null;
  visualTokens: number;
  audioTokens: number;
  /** Time-token rows after the frame (visual-only input, PIPELINE §1), zero padding included; absent when none. */
  timeTokens?: number;
  /** Text rows after the frame, by role ('time', 'note', 'transcript'); absent when none. */
  textTokens?: Record<string, number>;
}

export type Stage = 'bundle' | 'session' | 'decode' | 'features' | 'vision' | 'audio' | 'prefill' | 'generate';

export interface CaptionReport {
  model: { name: string; family: string; randomWeights: boolean };
  /** Every setting the run used (the request's over the bundle's). */
  options: ResolvedOptions;
  video: VideoFacts;
  /** The time range captioned (a local caption), clamped to the file; null: the whole file. */
  range: { start: number; end: number } | null;
  frames: FrameFact[];
  audio: { sampleRate: number; samples: number; windows: number; used: boolean; note?: string };
  /** Sound-event tags per tagger window, when the bundle has a sound tagger (seconds from the start of the input). */
  sounds?: SoundWindow[];
  layout: LayoutEntry[];
  promptTokens: number;
  /** The prompt's text ids (before and after the audio-visual block) and where the block goes. */
  promptTokenIds: { ids: number[]; avBlockAt: number };
  generatedTokenIds: number[];
  caption: string;
  stopReason: StopReason;
  backend: Record<string, Backend>;
  /** Low-memory mode (encoders released before the LLM is loaded) or not, and why (bundle/memory.ts). */
  memory?: { lowMemory: boolean; reason: string };
  timings: Partial<Record<Stage, number>>;
  tokensPerSecond: number;
}

/** One follow-up question and its answer (CaptionSession.ask). */
export interface TurnReport {
  question: string;
  answer: string;
  /** Rows prefilled for this turn, and rows already in the KV cache (the conversation so far). */
  prefillTokens: number;
  reusedTokens: number;
  generatedTokenIds: number[];
  /** Top-1 minus top-2 logit at each generated step: how robust each choice was (parity checks compare them across runtimes). */
  margins: number[];
  stopReason: StopReason;
  timings: Partial<Record<Stage, number>>;
  tokensPerSecond: number;
}

/** A text-only turn (Engine.complete): no media, a fresh context. */
export interface CompletionReport {
  prompt: string;
  answer: string;
  /** The template's ids of the turn (system, user text, generation prompt). */
  promptTokenIds: number[];
  generatedTokenIds: number[];
  /** Top-1 minus top-2 logit at each generated step. */
  margins: number[];
  stopReason: StopReason;
  timings: Partial<Record<Stage, number>>;
  tokensPerSecond: number;
}
