/**
 * The `lite` section of a bundle.json whose family is "llava-onevision-whisper": what the
 * public exports need beyond the shared sections (models/README.md, "The lite family").
 * Checked when the manifest is validated (`bundle/bad-manifest` naming the field).
 */
import type { BundleManifest } from '../bundle/manifest';
import { CaptionError } from '../errors';
import type { FbankConfig } from '../features/fbank';
import type { WhisperTokens } from '../model/whisper';

export interface LiteVisionConfig {
  /** How the vision_encoder's grid² rows per frame become pooledGrid² rows (transformers `apply_pooling`). */
  pool: 'bilinear';
  /** Token ids of the model's <image> / <video> placeholders (config.json image_token_index / video_token_index). */
  imageTokenId: number;
  videoTokenId: number;
  /** The placeholder the chat template renders where the visual block goes. */
  videoToken: string;
}

export interface LiteSpeechConfig {
  /** Decoder layers, heads and head width of the Whisper decoder (config.json decoder_layers, decoder_attention_heads, d_model / heads). */
  layers: number;
  heads: number;
  headDim: number;
  tokens: WhisperTokens;
  /** Paths (in tokenizer.files) of Whisper's own tokenizer files. */
  tokenizerJson: string;
  tokenizerConfig: string;
  /** How a transcript segment is written among the frames: {start}, {end} (seconds, 1 decimal), {text}. */
  transcriptFormat: string;
}

/**
 * The optional sound tagger (AST fine-tuned on AudioSet): ASTFeatureExtractor's fbank numbers
 * (preprocessor_config.json + torchaudio defaults), config.json id2label, and how tags become text.
 */
export interface LiteSoundsConfig extends FbankConfig {
  /** Seconds of audio per tagger window (AudioSet clips are 10 s: 998 fbank rows, zero-padded to maxFrames). */
  windowSeconds: number;
  /** A window shorter than this (the end of the audio) is not tagged. */
  minSeconds: number;
  /** config.json id2label in index order: one label per logit. */
  labels: string[];
  /** Tags are labels whose sigmoid(logit) reaches this (AST is multi-label), at most topK per window, best first. */
  threshold: number;
  topK: number;
  /** How a window's tags are written among the frames: {start}, {end} (seconds, 1 decimal), {labels}. */
  format: string;
}

export interface LiteConfig {
  vision: LiteVisionConfig;
  speech: LiteSpeechConfig;
  /** Present exactly when graphs.sound_tagger is. */
  sounds?: LiteSoundsConfig;
}

export type LiteManifest = BundleManifest & { lite: LiteConfig };

type Obj = Record<string, unknown>;

function fail(field: string, want: string, got: unknown): never {
  throw new CaptionError(
    'bundle/bad-manifest',
    `bundle.json: "lite.${field}" must be ${want} (found ${got === undefined ? 'nothing' : JSON.stringify(got)}). The bundle does not fit the llava-onevision-whisper family: rebuild it (npm run models:lite-fixture for the test fixture) or download it again.`,
    { file: 'bundle.json', field: `lite.${field}` },
  );
}

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function obj(o: Obj, key: string, at: string): Obj {
  const v = o[key];
  if (!isObj(v)) fail(`${at}${key}`, 'an object', v);
  return v;
}

function int(o: Obj, key: string, at: string, min = 0): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) fail(`${at}${key}`, `an integer ≥ ${min}`, v);
  return v;
}

function str(o: Obj, key: string, at: string): string {
  const v = o[key];
  if (typeof v !== 'string' || v === '') fail(`${at}${key}`, 'a non-empty string', v);
  return v;
}

function ids(o: Obj, key: string, at: string, nonEmpty: boolean): number[] {
  const v = o[key];
  if (!Array.isArray(v) || (nonEmpty && !v.length) || v.some((x) => typeof x !== 'number' || !Number.isSafeInteger(x) || x < 0)) {
    fail(`${at}${key}`, `${nonEmpty ? 'a non-empty' : 'an'} array of token ids`, v);
  }
  return v as number[];
}

/** Checks `m.lite` (and its links to the shared sections) and returns the manifest typed. */
export function checkLiteManifest(m: BundleManifest): LiteManifest {
  const root = m as unknown as Obj;
  if (!isObj(root.lite)) fail('', 'an object (the lite family section)', root.lite);
  const lite = root.lite;
  const v = obj(lite, 'vision', '');
  if (v.pool !== 'bilinear') fail('vision.pool', '"bilinear"', v.pool);
  int(v, 'imageTokenId', 'vision.');
  int(v, 'videoTokenId', 'vision.');
  str(v, 'videoToken', 'vision.');
  if (m.vision.tokensPerFrame !== m.vision.pooledGrid * m.vision.pooledGrid) {
    fail('vision', `used with vision.tokensPerFrame = pooledGrid² (${m.vision.pooledGrid ** 2})`, m.vision.tokensPerFrame);
  }
  const s = obj(lite, 'speech', '');
  for (const k of ['layers', 'heads', 'headDim']) int(s, k, 'speech.', 1);
  str(s, 'tokenizerJson', 'speech.');
  str(s, 'tokenizerConfig', 'speech.');
  str(s, 'transcriptFormat', 'speech.');
  for (const k of ['tokenizerJson', 'tokenizerConfig']) {
    if (!m.tokenizer.files.some((f) => f.path === s[k])) fail(`speech.${k}`, 'a path listed in tokenizer.files', s[k]);
  }
  const t = obj(s, 'tokens', 'speech.');
  ids(t, 'prompt', 'speech.tokens.', true);
  for (const k of ['eos', 'noTimestamps', 'timestampBegin']) int(t, k, 'speech.tokens.');
  for (const k of ['maxNewTokens']) int(t, k, 'speech.tokens.', 1);
  if (typeof t.timeStep !== 'number' || !(t.timeStep > 0)) fail('speech.tokens.timeStep', 'a positive number', t.timeStep);
  if (t.maxInitialTimestampIndex !== null) int(t, 'maxInitialTimestampIndex', 'speech.tokens.');
  ids(t, 'suppress', 'speech.tokens.', false);
  ids(t, 'beginSuppress', 'speech.tokens.', false);
  checkSounds(lite, m.graphs.sound_tagger !== undefined);
  return m as LiteManifest;
}

function num(o: Obj, key: string, at: string, ok: (v: number) => boolean, want: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) fail(`${at}${key}`, want, v);
  return v;
}

/** lite.sounds: required with a sound_tagger graph, refused without one. */
function checkSounds(lite: Obj, hasGraph: boolean): void {
  if (!hasGraph) {
    if (lite.sounds !== undefined) fail('sounds', 'absent: the bundle has no graphs.sound_tagger to use it', lite.sounds);
    return;
  }
  const s = obj(lite, 'sounds', '');
  for (const k of ['sampleRate', 'numMels', 'frameLength', 'frameShift', 'maxFrames', 'topK']) int(s, k, 'sounds.', 1);
  for (const k of ['preemphasis', 'lowFreq', 'mean']) num(s, k, 'sounds.', () => true, 'a number');
  for (const k of ['std', 'windowSeconds']) num(s, k, 'sounds.', (v) => v > 0, 'a positive number');
  num(s, 'minSeconds', 'sounds.', (v) => v >= 0, 'a number ≥ 0');
  num(s, 'threshold', 'sounds.', (v) => v > 0 && v < 1, 'a probability between 0 and 1');
  str(s, 'format', 'sounds.');
  const labels = s.labels;
  if (!Array.isArray(labels) || !labels.length || labels.some((l) => typeof l !== 'string' || l === '')) fail('sounds.labels', 'a non-empty array of label names (config.json id2label in index order)', labels);
}
