/**
 * The lite bundle.json from the pinned repos' own files (bundle/hub-preset.ts fetches them at
 * load time; tests feed the fixture's copies): every number is read from config.json,
 * added_tokens.json, chat_template.json, video_processor/preprocessor_config.json and
 * generation_config.json of LLaVA-OneVision, and config.json / generation_config.json /
 * preprocessor_config.json of Whisper, and (optional sound tagger) config.json /
 * preprocessor_config.json of the AST. Pure: no network, no file system.
 */
import type { BundleFile, GraphDtype } from '../bundle/manifest';

/* eslint-disable @typescript-eslint/no-explicit-any -- the repos' JSON files, read field by field */
export interface LiteSources {
  config: any;
  addedTokens: Record<string, number>;
  chatTemplate: string;
  videoProcessor: any;
  generation: any;
  whisperConfig: any;
  whisperGeneration: any;
  whisperPreprocessor: any;
  /** The sound tagger's config.json (id2label) and preprocessor_config.json (ASTFeatureExtractor), when it is used. */
  astConfig?: any;
  astPreprocessor?: any;
}
/* eslint-enable @typescript-eslint/no-explicit-any */

export interface LiteGraphFile extends BundleFile {
  dtype: GraphDtype;
  device: 'gpu' | 'cpu';
}

export interface LiteFiles {
  graphs: Record<'vision_encoder' | 'embed_tokens' | 'decoder_model_merged' | 'speech_encoder' | 'speech_decoder', LiteGraphFile> & { sound_tagger?: LiteGraphFile };
  /** Qwen's tokenizer.json and tokenizer_config.json first, then Whisper's. */
  tokenizer: BundleFile[];
  name: string;
  description: string;
  randomWeights: boolean;
}

function need(cond: unknown, what: string): void {
  if (!cond) throw new Error(`the pinned files disagree with the lite family's contract: ${what}`);
}

const kv = (side: 'past' | 'present', part: 'decoder' | 'encoder') =>
  Object.fromEntries(['key', 'value'].map((k) => [`${side}_${part}_${k}`, `${side === 'past' ? 'past_key_values' : 'present'}.{i}.${part}.${k}`]));

/**
 * lite.sounds from the AST repo's files: id2label in index order, ASTFeatureExtractor's
 * sampling rate, mel bins, max_length, mean and std; the fbank constants are torchaudio's
 * kaldi.fbank defaults the extractor leaves unchanged (25 ms / 10 ms frames, pre-emphasis 0.97,
 * low_freq 20 Hz). Tagging choices: 10-s windows (AudioSet's clip length), sigmoid ≥ 0.3, top 3.
 */
export function buildSounds(config: any, pre: any): Record<string, unknown> { // eslint-disable-line @typescript-eslint/no-explicit-any -- the repo's JSON
  need(pre.feature_extractor_type === 'ASTFeatureExtractor', `AST feature_extractor_type ${pre.feature_extractor_type}`);
  need(pre.do_normalize !== false, 'AST preprocessor do_normalize (the model was trained on normalised input)');
  const n = Object.keys(config.id2label ?? {}).length;
  const labels = Array.from({ length: n }, (_, i) => config.id2label[String(i)]);
  need(n > 0 && labels.every((l) => typeof l === 'string' && l), `AST config.json id2label (0 … ${n - 1}, no gaps)`);
  const sr = pre.sampling_rate;
  return {
    sampleRate: sr, numMels: pre.num_mel_bins, frameLength: (25 * sr) / 1000, frameShift: (10 * sr) / 1000, preemphasis: 0.97, lowFreq: 20,
    maxFrames: pre.max_length, mean: pre.mean, std: pre.std,
    windowSeconds: 10, minSeconds: 1, labels, threshold: 0.3, topK: 3, format: '[{start}–{end} s] Sounds: {labels}',
  };
}

export function buildLiteManifest(s: LiteSources, f: LiteFiles): Record<string, unknown> {
  const t = s.config.text_config;
  const v = s.config.vision_config;
  const grid = Math.floor(v.image_size / v.patch_size);
  const pooled = Math.ceil(grid / 2); // apply_pooling: ceil(height / 2)
  need(s.config.video_token_index === s.addedTokens['<video>'], `video_token_index ${s.config.video_token_index} vs added_tokens.json <video> ${s.addedTokens['<video>']}`);
  need(s.config.image_token_index === s.addedTokens['<image>'], `image_token_index ${s.config.image_token_index} vs added_tokens.json <image> ${s.addedTokens['<image>']}`);
  need(s.config.vision_feature_select_strategy === 'full', `vision_feature_select_strategy ${s.config.vision_feature_select_strategy} (grid² rows per frame needs "full")`);
  need(s.videoProcessor.resample === 3, `video processor resample ${s.videoProcessor.resample} (bicubic is 3)`);
  need(s.chatTemplate.includes('<video>'), 'chat template renders no <video>');
  const wp = s.whisperPreprocessor;
  need(wp.chunk_length === 30 && wp.nb_max_frames && wp.feature_size, 'Whisper preprocessor_config (chunk_length 30, nb_max_frames, feature_size)');
  const wc = s.whisperConfig;
  const wg = s.whisperGeneration;
  need(wg.lang_to_id?.['<|en|>'] !== undefined && wg.task_to_id?.transcribe !== undefined, 'Whisper generation_config lang_to_id <|en|> / task_to_id transcribe');
  need(!f.graphs.sound_tagger || (s.astConfig && s.astPreprocessor), 'a sound_tagger graph needs the AST config.json and preprocessor_config.json');
  const g = f.graphs;
  const graph = (e: LiteGraphFile, inputs: Record<string, string>, outputs: Record<string, string>, extra: Record<string, unknown> = {}) => ({
    path: e.path, bytes: e.bytes, sha256: e.sha256, externalData: [], inputs, outputs, dtype: e.dtype, device: e.device, ...extra,
  });
  return {
    format: 'salmonn-bundle',
    version: 2,
    family: 'llava-onevision-whisper',
    name: f.name,
    description: f.description,
    randomWeights: f.randomWeights,
    graphs: {
      vision_encoder: graph(g.vision_encoder, { pixel_values: 'pixel_values' }, { image_features: 'image_features' }),
      embed_tokens: graph(g.embed_tokens, { input_ids: 'input_ids' }, { inputs_embeds: 'inputs_embeds' }),
      decoder_model_merged: graph(
        g.decoder_model_merged,
        { inputs_embeds: 'inputs_embeds', attention_mask: 'attention_mask', position_ids: 'position_ids', past_key: 'past_key_values.{i}.key', past_value: 'past_key_values.{i}.value' },
        { logits: 'logits', present_key: 'present.{i}.key', present_value: 'present.{i}.value' },
        { kvCache: { dtype: g.decoder_model_merged.dtype === 'q4f16' ? 'float16' : 'float32', layout: 'batch,kv_heads,sequence,head_dim' }, logits: 'all' },
      ),
      speech_encoder: graph(g.speech_encoder, { input_features: 'input_features' }, { last_hidden_state: 'last_hidden_state' }),
      speech_decoder: graph(
        g.speech_decoder,
        { input_ids: 'input_ids', encoder_hidden_states: 'encoder_hidden_states', use_cache_branch: 'use_cache_branch', ...kv('past', 'decoder'), ...kv('past', 'encoder') },
        { logits: 'logits', ...kv('present', 'decoder'), ...kv('present', 'encoder') },
      ),
      ...(g.sound_tagger ? { sound_tagger: graph(g.sound_tagger, { input_values: 'input_values' }, { logits: 'logits' }) } : {}),
    },
    tokenizer: { files: f.tokenizer },
    vision: { imageSize: v.image_size, patchSize: v.patch_size, grid, pooledGrid: pooled, tokensPerFrame: pooled * pooled, mean: s.videoProcessor.image_mean, std: s.videoProcessor.image_std, resample: 'bicubic' },
    sampling: { fps: 1, maxFrames: 32, minFrames: 1 },
    audio: {
      sampleRate: wp.sampling_rate, windowSeconds: wp.chunk_length, numMels: wp.feature_size, nFft: wp.n_fft, hopLength: wp.hop_length,
      melFrames: wp.nb_max_frames, encoderFrames: wc.max_source_positions, framesPerToken: 25, tokensPerWindow: 60, encoderHidden: wc.d_model,
    },
    llm: {
      hidden: t.hidden_size, layers: t.num_hidden_layers, heads: t.num_attention_heads, kvHeads: t.num_key_value_heads,
      headDim: t.head_dim ?? t.hidden_size / t.num_attention_heads, vocab: t.vocab_size, ropeTheta: t.rope_theta, maxPositions: t.max_position_embeddings,
      tieEmbeddings: t.tie_word_embeddings ?? s.config.tie_word_embeddings ?? false,
    },
    interleave: { default: 'timestamp' },
    prompt: { chatTemplate: s.chatTemplate, systemPrompt: '', defaultPrompt: 'Describe the video in detail: what is seen and what is said, in order.' },
    generation: { stopTokenIds: [s.generation.eos_token_id].flat(), maxNewTokens: 512, repetitionPenalty: 1.0 },
    lite: {
      vision: { pool: 'bilinear', imageTokenId: s.config.image_token_index, videoTokenId: s.config.video_token_index, videoToken: '<video>' },
      speech: {
        layers: wc.decoder_layers, heads: wc.decoder_attention_heads, headDim: wc.d_model / wc.decoder_attention_heads,
        tokens: {
          prompt: [wg.decoder_start_token_id, wg.lang_to_id['<|en|>'], wg.task_to_id.transcribe],
          eos: [wg.eos_token_id].flat()[0], noTimestamps: wg.no_timestamps_token_id, timestampBegin: wg.no_timestamps_token_id + 1, timeStep: 0.02,
          maxInitialTimestampIndex: wg.max_initial_timestamp_index ?? null, suppress: wg.suppress_tokens ?? [], beginSuppress: wg.begin_suppress_tokens ?? [],
          maxNewTokens: Math.floor(wc.max_target_positions / 2),
        },
        tokenizerJson: f.tokenizer[2].path,
        tokenizerConfig: f.tokenizer[3].path,
        transcriptFormat: '[{start}–{end} s] Speech: {text}',
      },
      ...(g.sound_tagger ? { sounds: buildSounds(s.astConfig, s.astPreprocessor) } : {}),
    },
  };
}
