/**
 * The model bundle manifest (`bundle.json`), written by models/export and read by the
 * runtime. Every number the pipeline needs comes from here (ARCHITECTURE "One truth for
 * numbers"). The schema is documented in models/README.md; keep the two in step.
 */

export const BUNDLE_FORMAT = 'salmonn-bundle';
export const BUNDLE_VERSION = 2;

/** A file of the bundle with its integrity data. */
export interface BundleFile {
  /** Relative to the bundle root ("onnx/decoder_model_merged.onnx_data_1"), or an absolute http(s) URL. */
  path: string;
  bytes: number;
  sha256: string;
}

/** A graph's role in its family ("vision_encoder", "decoder_model_merged", …). */
export type GraphName = string;

export type GraphDtype = 'fp32' | 'fp16' | 'q4' | 'q4f16' | 'q8';

/**
 * Logical port → the graph's own I/O name. Per-layer names are one pattern with `{i}`
 * ("past_key_values.{i}.key"); which ports a role has is the family's business.
 */
export type Ports = Record<string, string>;

export interface KvCacheSpec {
  dtype: 'float32' | 'float16';
  /** Axis order of every past/present tensor. */
  layout: 'batch,kv_heads,sequence,head_dim';
}

export interface GraphEntry extends BundleFile {
  /** External-data chunks (`<graph>.onnx_data`, `<graph>.onnx_data_1`, …), in order, loaded beside the graph. */
  externalData: BundleFile[];
  inputs: Ports;
  outputs: Ports;
  dtype: GraphDtype;
  /** Where the graph prefers to run; the runtime still checks the adapter (runtime/backend.ts). */
  device: 'gpu' | 'cpu';
  /** Bytes of the graph's largest single tensor (checked against the adapter's maxBufferSize). */
  largestTensorBytes?: number;
  /** Decoder graphs: the KV cache's dtype and layout. */
  kvCache?: KvCacheSpec;
  /** Decoder graphs: logits for every input position, or for the last one only. */
  logits?: 'all' | 'last';
}

/** PIPELINE §1–§2. */
export interface VisionConfig {
  imageSize: number; // 384 for SigLIP-so400m-patch14-384
  patchSize: number; // 14
  grid: number; // patches per side, 27
  pooledGrid: number; // floor(grid / 2), 13
  tokensPerFrame: number; // pooledGrid * (pooledGrid + 1), 182
  mean: [number, number, number];
  std: [number, number, number];
  resample: 'bicubic';
}

/** PIPELINE §1 sampling defaults. */
export interface SamplingConfig {
  fps: number; // φ, 1
  maxFrames: number; // m, 30
  minFrames: number; // 2
}

/** PIPELINE §3. */
export interface AudioConfig {
  sampleRate: number; // 16000
  windowSeconds: number; // 30
  numMels: number; // 128
  nFft: number; // 400
  hopLength: number; // 160
  melFrames: number; // 3000 per window
  encoderFrames: number; // 1500 per window
  framesPerToken: number; // k = 25 (w = 0.5 s)
  tokensPerWindow: number; // 60
  encoderHidden: number; // 1280
}

/** PIPELINE §5 LLM shape. */
export interface LlmConfig {
  hidden: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  vocab: number;
  ropeTheta: number;
  maxPositions: number;
  tieEmbeddings: boolean;
}

export type InterleaveMode = 'spread' | 'timestamp';

export interface PromptConfig {
  /** Jinja ChatML template (from tokenizer_config.json's chat_template). */
  chatTemplate: string;
  systemPrompt: string;
  defaultPrompt: string;
  /** Prompt variants (PIPELINE §5): ids each one drops from the prompt ("official": <|im_end|>; "training": none). */
  variants?: Record<'official' | 'training', { dropTokenIds: number[] }>;
  defaultVariant?: 'official' | 'training';
}

/** Decoding defaults (the checkpoint's generation_config.json where there is one; PIPELINE §5). */
export interface GenerationConfig {
  stopTokenIds: number[];
  maxNewTokens: number;
  /** transformers' repetition_penalty; 1 = off. */
  repetitionPenalty: number;
}

export interface BundleManifest {
  format: typeof BUNDLE_FORMAT;
  version: typeof BUNDLE_VERSION;
  /** The model family that knows the graphs' roles and how to run them (src/core/families/). */
  family: string;
  name: string;
  description: string;
  /** True for the generated test bundles: their captions are meaningless. */
  randomWeights: boolean;
  graphs: Record<GraphName, GraphEntry>;
  /** tokenizer.json and tokenizer_config.json. */
  tokenizer: { files: BundleFile[] };
  vision: VisionConfig;
  sampling: SamplingConfig;
  audio: AudioConfig;
  llm: LlmConfig;
  interleave: { default: InterleaveMode };
  prompt: PromptConfig;
  generation: GenerationConfig;
  /** Golden outputs of the PyTorch reference (test bundles only). */
  golden?: BundleFile;
}
