/**
 * The user's caption settings (persisted by state/settings.ts) and how they become the
 * core's request. A setting left alone (null) follows the loaded bundle (ARCHITECTURE
 * "One truth for numbers"): the request names only what the user chose, and the core
 * resolves the rest from the manifest, as the CLI does. Pure: no React, no storage.
 */
import type { InterleaveMode } from '../../core/bundle/manifest';
import { LOW_MEMORY_SETTINGS, type LowMemorySetting } from '../../core/bundle/memory';
import type { SamplingPresetName } from '../../core/media/plan';
import type { CaptionOptions, CaptionRequest, Modality } from '../../core/options';
import { LONG_CLIP_SECONDS, LONG_STRIDE_SECONDS, LONG_TARGET_WORDS } from '../../core/timed/long-engine';

export interface Settings {
  /** null: the loaded bundle's default prompt (the detailed audio-visual caption). */
  prompt: string | null;
  modality: Modality;
  /** Frame sampling preset (PIPELINE §1): 'paper' (≤ 30 frames, the default) or 'checkpoint' (max_time 110 s, as released). */
  sampling: SamplingPresetName;
  /** null: the bundle's default (as every nullable setting here). */
  fps: number | null;
  maxFrames: number | null;
  interleave: InterleaveMode | null;
  maxNewTokens: number | null;
  decoding: 'greedy' | 'sample';
  temperature: number;
  topP: number;
  seed: number;
  /** Load the model with prefer 'wasm' (no WebGPU). */
  forceWasm: boolean;
  /** Use WebGPU even when the only adapter is a software fallback (slow; for testing). */
  allowSoftwareGpu: boolean;
  /** Low-memory mode (core/bundle/memory.ts): 'auto' decides from the bundle's sizes. */
  lowMemory: LowMemorySetting;
  /** Segment length (s) of a caption track (10 s by default, as the CLI's --track). */
  trackSeconds: number;
  /** How a caption track cuts the video: fixed-length segments, or at scene changes (core/timed/scenes.ts). */
  trackSegmentation: 'fixed' | 'scenes';
  /** A long caption's target length (words), clip length and stride (s); defaults as the CLI's --long (core/timed/long-engine.ts). */
  longWords: number;
  longClipSeconds: number;
  longStrideSeconds: number;
  /** The chosen model preset (models/presets.json) or 'url' for a typed URL. */
  presetId: string;
  customUrl: string;
}

export const DEFAULT_SETTINGS: Settings = {
  prompt: null,
  modality: 'av',
  sampling: 'paper',
  fps: null,
  maxFrames: null,
  interleave: null,
  maxNewTokens: null,
  decoding: 'greedy',
  temperature: 0.7,
  topP: 0.9,
  seed: 0,
  forceWasm: false,
  allowSoftwareGpu: false,
  lowMemory: 'auto',
  trackSeconds: 10,
  trackSegmentation: 'fixed',
  longWords: LONG_TARGET_WORDS,
  longClipSeconds: LONG_CLIP_SECONDS,
  longStrideSeconds: LONG_STRIDE_SECONDS,
  // the lite preset (public files, runs on WASM where there is no usable GPU); tests pick 'tiny'
  presetId: 'lite',
  customUrl: '',
};

export type PromptPresetId = 'detailed' | 'summary' | 'question' | 'custom';

export const PROMPT_PRESETS: { id: Exclude<PromptPresetId, 'custom'>; label: string; text: string | null }[] = [
  { id: 'detailed', label: 'Detailed audio-visual caption (default)', text: null },
  { id: 'summary', label: 'Short summary', text: 'Summarize the video in two or three sentences, mentioning what is seen and what is heard.' },
  { id: 'question', label: 'A question', text: 'What is happening in this video, and what sounds can be heard?' },
];

export function promptPresetOf(prompt: string | null): PromptPresetId {
  const hit = PROMPT_PRESETS.find((p) => p.text === prompt);
  return hit ? hit.id : 'custom';
}

const clampInt = (v: number, lo: number, hi: number, fallback: number) => (Number.isFinite(v) ? Math.min(hi, Math.max(lo, Math.round(v))) : fallback);
const clamp = (v: number, lo: number, hi: number, fallback: number) => (Number.isFinite(v) ? Math.min(hi, Math.max(lo, v)) : fallback);

/** What the user chose, and nothing else: the request the engine resolves against the bundle. */
export function buildRequest(s: Settings): CaptionRequest {
  const r: CaptionRequest = { modality: s.modality };
  if (s.sampling !== 'paper') r.sampling = s.sampling;
  if (s.prompt !== null && s.prompt.trim().length > 0) r.prompt = s.prompt;
  if (s.interleave !== null) r.interleave = s.interleave;
  if (s.fps !== null && Number.isFinite(s.fps)) r.fps = clamp(s.fps, 0.05, 30, 1);
  if (s.maxFrames !== null && Number.isFinite(s.maxFrames)) r.maxFrames = clampInt(s.maxFrames, 1, 512, 30);
  if (s.maxNewTokens !== null && Number.isFinite(s.maxNewTokens)) r.maxNewTokens = clampInt(s.maxNewTokens, 1, 8192, 512);
  if (s.decoding === 'sample') r.decoding = { kind: 'sample', temperature: clamp(s.temperature, 0.01, 2, 0.7), topP: clamp(s.topP, 0.01, 1, 0.9), seed: clampInt(s.seed, 0, 2 ** 31 - 1, 0) };
  return r;
}

/** The options of one run as the engine will resolve them: the request over the bundle's defaults (defaultOptions(manifest)). */
export function buildOptions(s: Settings, defaults: CaptionOptions): CaptionOptions {
  return { ...defaults, ...buildRequest(s) };
}

const MODALITY_LABEL: Record<Modality, string> = { av: 'audio + visual', v: 'visual only', a: 'audio only' };

/** The run settings as labelled strings, in display order (for compare and exports). */
export function describeOptions(o: CaptionOptions): { key: string; label: string; value: string }[] {
  return [
    { key: 'prompt', label: 'Prompt', value: o.prompt },
    { key: 'modality', label: 'Modality', value: MODALITY_LABEL[o.modality] ?? o.modality },
    { key: 'fps', label: 'Frames per second', value: String(o.fps) },
    { key: 'maxFrames', label: 'Max frames', value: String(o.maxFrames) },
    { key: 'frameRule', label: 'Frame rule', value: o.frameRule },
    { key: 'sampling', label: 'Sampling preset', value: o.sampling ?? 'paper' },
    { key: 'range', label: 'Time range', value: o.range ? `${o.range.start}–${o.range.end} s` : 'whole file' },
    { key: 'channel', label: 'Audio channel', value: o.channel === 'mix' ? 'downmix' : o.channel === 0 ? 'channel 0' : '—' },
    { key: 'promptVariant', label: 'Prompt variant', value: o.promptVariant ?? '—' },
    { key: 'timeTokens', label: 'Time tokens (visual only)', value: o.timeTokens === undefined ? '—' : o.timeTokens ? 'on' : 'off' },
    { key: 'repetitionPenalty', label: 'Repetition penalty', value: o.repetitionPenalty === undefined ? '—' : String(o.repetitionPenalty) },
    { key: 'interleave', label: 'Interleave', value: o.interleave },
    { key: 'maxNewTokens', label: 'Max new tokens', value: String(o.maxNewTokens) },
    {
      key: 'decoding',
      label: 'Decoding',
      value: o.decoding.kind === 'greedy' ? 'greedy' : `sampling (temperature ${o.decoding.temperature}, top-p ${o.decoding.topP}, seed ${o.decoding.seed})`,
    },
  ];
}

/**
 * One line that tells runs of the same file apart in the history: "audio + visual · 1 fps,
 * ≤ 30 frames · spread · greedy · 512 tokens · “Give a detailed…”".
 */
export function summarizeOptions(o: CaptionOptions): string {
  const decoding = o.decoding.kind === 'greedy' ? 'greedy' : `sampling T ${o.decoding.temperature}, top-p ${o.decoding.topP}, seed ${o.decoding.seed}`;
  const prompt = o.prompt.replace(/\s+/g, ' ').trim();
  const parts = [MODALITY_LABEL[o.modality] ?? o.modality];
  if (o.modality !== 'a') parts.push(`${o.fps} fps, ≤ ${o.maxFrames} frames`);
  if (o.modality === 'av') parts.push(o.interleave);
  parts.push(decoding, `${o.maxNewTokens} tokens`, `“${prompt.length > 40 ? `${prompt.slice(0, 40)}…` : prompt}”`);
  return parts.join(' · ');
}

export interface SettingRow {
  key: string;
  label: string;
  values: string[];
  differs: boolean;
}

/** Side-by-side settings of several runs; `differs` marks rows whose values are not all equal. */
export function compareOptions(list: CaptionOptions[], extra: { key: string; label: string; values: string[] }[] = []): SettingRow[] {
  if (list.length === 0) return [];
  const described = list.map(describeOptions);
  const rows: SettingRow[] = described[0].map((row, i) => {
    const values = described.map((d) => d[i].value);
    return { key: row.key, label: row.label, values, differs: new Set(values).size > 1 };
  });
  for (const e of extra) rows.push({ ...e, differs: new Set(e.values).size > 1 });
  return rows;
}

/** Restores persisted settings, dropping unknown or mistyped fields. */
export function sanitizeSettings(raw: unknown): Settings {
  const out: Settings = { ...DEFAULT_SETTINGS };
  if (!raw || typeof raw !== 'object') return out;
  const r = raw as Record<string, unknown>;
  for (const key of Object.keys(DEFAULT_SETTINGS) as (keyof Settings)[]) {
    const v = r[key];
    const d = DEFAULT_SETTINGS[key];
    if (key === 'prompt' || key === 'interleave') {
      if (v === null || typeof v === 'string') (out as unknown as Record<string, unknown>)[key] = v;
    } else if (key === 'fps' || key === 'maxFrames' || key === 'maxNewTokens') {
      if (v === null || (typeof v === 'number' && Number.isFinite(v))) (out as unknown as Record<string, unknown>)[key] = v;
    } else if (typeof v === typeof d) (out as unknown as Record<string, unknown>)[key] = v;
  }
  if (!['av', 'v', 'a'].includes(out.modality)) out.modality = 'av';
  if (out.sampling !== 'paper' && out.sampling !== 'checkpoint') out.sampling = 'paper';
  if (out.interleave !== null && out.interleave !== 'spread' && out.interleave !== 'timestamp') out.interleave = null;
  if (out.decoding !== 'greedy' && out.decoding !== 'sample') out.decoding = 'greedy';
  if (!LOW_MEMORY_SETTINGS.includes(out.lowMemory)) out.lowMemory = 'auto';
  if (!(out.trackSeconds >= 1)) out.trackSeconds = DEFAULT_SETTINGS.trackSeconds;
  if (out.trackSegmentation !== 'fixed' && out.trackSegmentation !== 'scenes') out.trackSegmentation = 'fixed';
  if (!(Number.isInteger(out.longWords) && out.longWords >= 1)) out.longWords = DEFAULT_SETTINGS.longWords;
  if (!(out.longClipSeconds >= 1)) out.longClipSeconds = DEFAULT_SETTINGS.longClipSeconds;
  if (!(out.longStrideSeconds > 0 && out.longStrideSeconds <= out.longClipSeconds)) out.longStrideSeconds = Math.min(DEFAULT_SETTINGS.longStrideSeconds, out.longClipSeconds);
  return out;
}
