/**
 * The tiny bundle's golden outputs (golden.json, written by models/export from the
 * PyTorch reference) turned into runtime inputs and checks. Platform-neutral: the Node
 * parity test reads the files from disk, the browser harness fetches them.
 */
import type { BundleManifest } from '../bundle/manifest';
import type { MemoryMediaInput } from '../media/memory-source';
import type { RgbImage } from '../features/pixels';
import type { SamplingPresetName } from '../media/plan';
import type { PromptVariant } from '../model/prompt';
import type { PenaltyScope } from '../model/sampling';
import type { CaptionRequest, Modality } from '../options';
import type { CaptionReport } from '../report';

/** Summary statistics of a tensor (golden.json conventions.stats). */
export interface Stats {
  shape: number[];
  sum: number;
  absSum: number;
  first: number[];
  at: [number, number][];
}

export interface GoldenRun {
  modality: 'audio-video' | 'video' | 'audio';
  interleave: 'spread' | 'timestamp' | 'any';
  layout: { frame: number; visualTokens: number; audioTokens: number }[];
  audioIndices: number[][];
  trailingAudio: number;
  trailingAudioIndices: number[];
  avTokens: number;
  avBlockStart: number;
  promptLength: number;
  inputIds: number[];
  inputsEmbeds: Stats;
  generated: { ids: number[]; margins: number[]; stopped: boolean };
}

export interface GoldenCase {
  name: string;
  source: {
    kind: 'formula' | 'ffmpeg-fixture';
    width: number;
    height: number;
    fps: number;
    numFrames: number;
    audioSamples?: number;
    decodedFrames?: { path: string };
    decodedAudio?: { path: string; numSamples: number };
  };
  duration: number;
  frameIndices: number[];
  timestamps: number[];
  inputs: { preparedAudioSamples: number; preparedAudioSha256: string; framesSha256: string; windows: number };
  logMel: Stats[];
  pixelValues: Stats;
  visionFeatures: Stats;
  audioEncoder: Stats;
  audioFeatures: Stats;
  /** The pre-issue-13 set-up (training prompt ids, no time tokens, no penalty). */
  runs: GoldenRun[];
  /** Runs under an explicit run set-up (golden.json conventions.setupRuns); absent in older files. */
  setupRuns?: GoldenSetupRun[];
}

/** The run set-up a setup run was computed with (golden.json conventions). */
export interface GoldenSetup {
  sampling: SamplingPresetName;
  fps: number;
  maxFrames: number;
  /** Audio-only input is cut to this many seconds. */
  maxTime: number;
  promptVariant: PromptVariant;
  /** Time tokens after each frame (visual-only runs). */
  timeTokens: boolean;
  repetitionPenalty: number;
  penaltyScope: PenaltyScope;
  /** Stop ids = prompt stop ids ∪ generation-config eos ids. */
  stopTokenIds: number[];
}

/** A frame's time row: str(round(T/F·f, 1)), its ids, then zeroRows zero vectors. */
export interface GoldenTimeTokens {
  text: string;
  ids: number[];
  zeroRows: number;
}

export interface GoldenSetupRun extends Omit<GoldenRun, 'layout'> {
  setup: GoldenSetup;
  layout: { frame: number; visualTokens: number; audioTokens: number; timeTokens?: GoldenTimeTokens }[];
  /** Rows of every frame's time block (the longest time text); 0 without time tokens. */
  timeTokenWidth: number;
  /** inputIds (−1 = AV block) under each prompt variant; `inputIds` is setup.promptVariant's. */
  inputIdsByVariant: Record<PromptVariant, number[]>;
  /** The text ids (before + after the block) and the index where the block goes. */
  promptTokenIds: { ids: number[]; avBlockAt: number };
  /** Audio-only runs: the audio as an audio-only input (cut to setup.maxTime). */
  audioInput?: { maxTime: number; preparedAudioSamples: number; preparedAudioSha256: string; windows: number; audioFeatures: Stats };
  /** A run under another preset than the case's frames: its own frames. */
  frameIndices?: number[];
  timestamps?: number[];
  visionFeatures?: Stats;
}

export interface Golden {
  maxNewTokens: number;
  prompt: {
    system: string;
    question: string;
    systemIds: number[];
    /** As built (= the training variant). */
    beforeIds: number[];
    afterIds: number[];
    /** Per prompt variant (absent in older files). */
    variants?: Record<PromptVariant, { beforeIds: number[]; afterIds: number[] }>;
    padId?: number;
  };
  /** The defaults the setup runs use (absent in older files). */
  defaults?: {
    sampling: SamplingPresetName;
    promptVariant: PromptVariant;
    timeTokens: string;
    channel: 0 | 'mix';
    repetitionPenalty: number;
    penaltyScope: PenaltyScope;
    eosTokenIds: number[];
  };
  cases: GoldenCase[];
}

/** golden.json's synthetic frame: pixel(i, y, x, c) = (x·7 + y·13 + c·50 + i·31) mod 256. */
export function formulaFrame(i: number, width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) data[(y * width + x) * 3 + c] = (x * 7 + y * 13 + c * 50 + i * 31) % 256;
    }
  }
  return { width, height, data };
}

/** golden.json's synthetic audio: a saw plus a hashed-noise term, rounded once to float32. */
export function formulaAudio(samples: number): Float32Array {
  const out = new Float32Array(samples);
  for (let n = 0; n < samples; n++) out[n] = ((n % 160) - 80) / 320 + (((n * 7919) % 2001) - 1000) / 8000;
  return out;
}

/**
 * The exact inputs of a case. For the ffmpeg fixture these are ffmpeg's decoded frames
 * (only the sampled ones, in plan order) and audio, shipped in the bundle.
 */
export function goldenMedia(c: GoldenCase, sampleRate: number, fixture?: { frames: Uint8Array; audio: Float32Array }): MemoryMediaInput {
  const { width, height, fps, numFrames } = c.source;
  if (c.source.kind === 'ffmpeg-fixture') {
    if (!fixture) throw new Error(`case ${c.name} needs the fixture's decoded frames and audio`);
    const size = width * height * 3;
    const frame = (i: number): RgbImage => {
      const at = c.frameIndices.indexOf(i);
      if (at < 0) throw new RangeError(`frame ${i} was not decoded for the golden case`);
      return { width, height, data: fixture.frames.subarray(at * size, (at + 1) * size) };
    };
    return { name: c.name, video: { width, height, fps, frameCount: numFrames, frame }, audio: { sampleRate, samples: fixture.audio } };
  }
  return {
    name: c.name,
    video: { width, height, fps, frameCount: numFrames, frame: (i) => formulaFrame(i, width, height) },
    audio: { sampleRate, samples: formulaAudio(c.source.audioSamples ?? 0) },
  };
}

/** Stats as golden.json computes them: float64 sums over the float32 values, row-major. */
export function stats(values: Float32Array, shape: number[]): Stats {
  let sum = 0;
  let absSum = 0;
  for (const v of values) {
    sum += v;
    absSum += Math.abs(v);
  }
  const n = values.length;
  const at = [0, Math.floor(n / 7), Math.floor(n / 3), Math.floor(n / 2), Math.floor((2 * n) / 3), n - 1];
  return { shape, sum, absSum, first: [...values.subarray(0, 8)], at: at.map((i) => [i, values[i]]) };
}

/**
 * The first statistic of `ours` that is off the reference, or null: sampled values within
 * `tol`; sums within `sumTol` per element (float32 rounding errors cancel, so the sums are
 * held much tighter than n·tol).
 */
export function statsMismatch(ours: Stats, ref: Stats, tol: number, sumTol = tol / 100): string | null {
  if (JSON.stringify(ours.shape) !== JSON.stringify(ref.shape)) return `shape ${JSON.stringify(ours.shape)} ≠ ${JSON.stringify(ref.shape)}`;
  const n = ref.shape.reduce((a, b) => a * b, 1);
  if (Math.abs(ours.sum - ref.sum) >= n * sumTol) return `sum ${ours.sum} ≠ ${ref.sum}`;
  if (Math.abs(ours.absSum - ref.absSum) >= n * sumTol) return `absSum ${ours.absSum} ≠ ${ref.absSum}`;
  for (const [i, v] of ref.first.entries()) if (!(Math.abs(ours.first[i] - v) < tol)) return `value ${i}: ${ours.first[i]} ≠ ${v}`;
  for (const [k, [index, v]] of ref.at.entries()) {
    const [oi, ov] = ours.at[k];
    if (oi !== index || !(Math.abs(ov - v) < tol)) return `value ${index}: ${ov} ≠ ${v}`;
  }
  return null;
}

const MODALITY: Record<GoldenRun['modality'], Modality> = { 'audio-video': 'av', video: 'v', audio: 'a' };

/** The request that reproduces a (legacy) golden run: the bundle's defaults, greedy, its prompt, the training prompt variant. */
export function goldenOptions(golden: Golden, run: Pick<GoldenRun, 'modality' | 'interleave'>, m: BundleManifest, prefillChunk: number): CaptionRequest {
  return {
    modality: MODALITY[run.modality],
    interleave: run.interleave === 'any' ? m.interleave.default : run.interleave,
    fps: m.sampling.fps,
    maxFrames: m.sampling.maxFrames,
    frameRule: 'checkpoint',
    maxNewTokens: golden.maxNewTokens,
    prompt: golden.prompt.question,
    decoding: { kind: 'greedy' },
    repetitionPenalty: 1,
    promptVariant: 'training',
    timeTokens: false,
    channel: 0,
    prefillChunk,
  };
}

/**
 * The options that reproduce a setup run: its set-up (preset, φ, cap, prompt variant,
 * penalty, channel 0), greedy, the golden prompt. The new fields are optional in
 * CaptionOptions until the pipeline reads them.
 */
export function goldenSetupOptions(golden: Golden, run: GoldenSetupRun, m: BundleManifest, prefillChunk: number): CaptionRequest {
  return {
    ...goldenOptions(golden, run, m, prefillChunk),
    fps: run.setup.fps,
    maxFrames: run.setup.maxFrames,
    sampling: run.setup.sampling,
    promptVariant: run.setup.promptVariant,
    timeTokens: run.setup.timeTokens,
    repetitionPenalty: run.setup.repetitionPenalty,
    channel: 0,
  };
}

/** The frames a setup run uses: its own (another preset) or the case's. */
export function goldenSetupFrames(c: GoldenCase, run: GoldenSetupRun): { frameIndices: number[]; timestamps: number[] } {
  return { frameIndices: run.frameIndices ?? c.frameIndices, timestamps: run.timestamps ?? c.timestamps };
}

export interface TokenComparison {
  /** Steps that agree before the first difference (all of them when equal). */
  agreed: number;
  /** First differing step, or null. */
  divergedAt: number | null;
  /** The reference's top-1 minus top-2 logit at that step. */
  referenceMargin: number | null;
  /** True when equal, or when the first difference is at a step whose margin is within `tolerance`. */
  ok: boolean;
}

/**
 * Generated ids against the reference. A backend may pick the other token only where the
 * reference's two best logits were within `tolerance` of each other (float noise); after
 * such a step the sequences are no longer comparable. Anything else is a bug.
 */
export function compareTokens(ours: readonly number[], ref: GoldenRun['generated'], tolerance: number): TokenComparison {
  const n = Math.max(ours.length, ref.ids.length);
  for (let i = 0; i < n; i++) {
    if (ours[i] !== ref.ids[i]) {
      const margin = ref.margins[i] ?? null;
      return { agreed: i, divergedAt: i, referenceMargin: margin, ok: margin !== null && margin <= tolerance };
    }
  }
  return { agreed: n, divergedAt: null, referenceMargin: null, ok: true };
}

/** fp32 ONNX graphs on WASM/WebGPU/CPU vs torch fp32. */
export const TENSOR_TOLERANCE = 1e-4;

export interface GoldenCheck {
  name: string;
  ids: number[];
  expectedIds: number[];
  layoutOk: boolean;
  promptTokensOk: boolean;
  framesOk: boolean;
  /** Intermediate tensors against PyTorch: the first statistic off by more than the tolerance, per tensor (null = within). */
  tensors: Record<string, string | null>;
  comparison: TokenComparison;
}

/** The one check of a caption against a golden run (Node test, browser harness). */
/** `embedsTolerance`: for inputsEmbeds, which fp16 activations (q4f16) round; the encoders' features keep TENSOR_TOLERANCE. */
export function checkGoldenRun(c: GoldenCase, run: GoldenRun, report: CaptionReport, tensors: ReadonlyMap<string, Stats>, marginTolerance: number, embedsTolerance = TENSOR_TOLERANCE): GoldenCheck {
  const refs: [string, Stats][] = [['inputsEmbeds', run.inputsEmbeds]];
  if (run.modality !== 'audio') refs.push(['visionFeatures', c.visionFeatures]);
  if (run.modality !== 'video') refs.push(['audioFeatures', c.audioFeatures]);
  const layout = report.layout.filter((l) => l.frame !== null);
  const trailing = report.layout.find((l) => l.frame === null)?.audioTokens ?? 0;
  return {
    name: `${c.name}: ${run.modality}/${run.interleave}`,
    ids: report.generatedTokenIds,
    expectedIds: run.generated.ids,
    layoutOk: JSON.stringify(layout) === JSON.stringify(run.layout) && trailing === run.trailingAudio,
    promptTokensOk: report.promptTokens === run.promptLength,
    framesOk: run.modality === 'audio' || (JSON.stringify(report.frames.map((f) => f.timestamp)) === JSON.stringify(c.timestamps) && JSON.stringify(report.frames.map((f) => f.index)) === JSON.stringify(c.frameIndices)),
    tensors: Object.fromEntries(refs.map(([name, ref]) => [name, tensors.has(name) ? statsMismatch(tensors.get(name)!, ref, name === 'inputsEmbeds' ? embedsTolerance : TENSOR_TOLERANCE) : 'missing'])),
    comparison: compareTokens(report.generatedTokenIds, run.generated, marginTolerance),
  };
}

/** The check of a caption against a setup run (PIPELINE §1–§5 under the checkpoint's run set-up): the layout with its time tokens, the prompt ids of the run's variant. */
export function checkGoldenSetupRun(c: GoldenCase, run: GoldenSetupRun, report: CaptionReport, tensors: ReadonlyMap<string, Stats>, marginTolerance: number): GoldenCheck & { promptIdsOk: boolean; timeTokensOk: boolean } {
  const frames = goldenSetupFrames(c, run);
  const legacy: GoldenRun = { ...run, layout: run.layout.map(({ frame, visualTokens, audioTokens }) => ({ frame, visualTokens, audioTokens })) };
  const caseView: GoldenCase = {
    ...c,
    frameIndices: frames.frameIndices,
    timestamps: frames.timestamps,
    visionFeatures: run.visionFeatures ?? c.visionFeatures,
    audioFeatures: run.audioInput?.audioFeatures ?? c.audioFeatures,
  };
  const stripped: CaptionReport = { ...report, layout: report.layout.map(({ frame, visualTokens, audioTokens }) => ({ frame, visualTokens, audioTokens })) };
  const base = checkGoldenRun(caseView, legacy, stripped, tensors, marginTolerance);
  const wantTime = run.layout.filter((l) => l.frame !== null).map((l) => (l.timeTokens ? l.timeTokens.ids.length + l.timeTokens.zeroRows : undefined));
  const gotTime = report.layout.filter((l) => l.frame !== null).map((l) => l.timeTokens);
  return {
    ...base,
    name: `${c.name}: setup ${run.setup.sampling}/${run.setup.promptVariant}/${run.modality}/${run.interleave}${run.setup.repetitionPenalty !== 1 ? ` penalty ${run.setup.repetitionPenalty}` : ''}`,
    promptIdsOk: JSON.stringify(report.promptTokenIds) === JSON.stringify(run.promptTokenIds),
    timeTokensOk: JSON.stringify(gotTime) === JSON.stringify(wantTime),
  };
}
