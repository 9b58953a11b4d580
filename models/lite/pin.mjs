#!/usr/bin/env node
/**
 * Writes the lite preset's bundle.json files (one per dtype variant) from models/lite/pins.json
 * and the pinned repos' own files. Needs network access to huggingface.co; run it where there is.
 *
 *   node models/lite/pin.mjs [--out public/bundles] [--download]
 *
 * Every number comes from the repos at the pinned revisions: LLM shape and token ids from
 * config.json / added_tokens.json, the chat template from chat_template.json, pixel settings
 * from video_processor/preprocessor_config.json, Whisper ids and suppress lists from its
 * generation_config.json and widths from its config.json. Sizes and sha256: LFS files from the
 * Hub's X-Linked-Size / X-Linked-Etag headers (or, with --download, by hashing the bytes), small
 * files by hashing them. A pins.json lfsSha256 that disagrees stops the run.
 * Output: <out>/lite-q4f16/bundle.json and <out>/lite-q4/bundle.json, files at absolute URLs.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const pins = JSON.parse(readFileSync(join(here, 'pins.json'), 'utf8'));
const args = process.argv.slice(2);
const outDir = args.includes('--out') ? args[args.indexOf('--out') + 1] : 'public/bundles';
const download = args.includes('--download');

const url = (repoKey, path) => `https://huggingface.co/${pins[repoKey].repo}/resolve/${pins[repoKey].revision}/${path}`;

async function bytesOf(u) {
  const res = await fetch(u);
  if (!res.ok) throw new Error(`${u}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

const sha = (b) => createHash('sha256').update(b).digest('hex');

async function json(repoKey, path) {
  return JSON.parse(new TextDecoder().decode(await bytesOf(url(repoKey, path))));
}

/** {path (absolute URL), bytes, sha256} of one file. */
async function entry(repoKey, path, expectSha = null) {
  const u = url(repoKey, path);
  let bytes;
  let digest;
  if (!download) {
    const head = await fetch(u, { method: 'HEAD', redirect: 'manual' });
    const size = head.headers.get('x-linked-size');
    const etag = head.headers.get('x-linked-etag')?.replaceAll('"', '');
    if (size && etag && /^[0-9a-f]{64}$/.test(etag)) [bytes, digest] = [Number(size), etag];
  }
  if (digest === undefined) {
    const data = await bytesOf(u);
    [bytes, digest] = [data.length, sha(data)];
  }
  if (expectSha && expectSha !== digest) throw new Error(`${u}: sha256 ${digest}, but pins.json (from the Hub page) says ${expectSha}`);
  return { path: u, bytes, sha256: digest };
}

function need(cond, what) {
  if (!cond) throw new Error(`pinned files disagree with the lite family's contract: ${what}`);
}

async function main() {
  const cfg = await json('llava', 'config.json');
  const added = await json('llava', 'added_tokens.json');
  const chat = await json('llava', 'chat_template.json');
  const video = await json('llava', 'video_processor/preprocessor_config.json');
  const gen = await json('llava', 'generation_config.json');
  const wcfg = await json('whisper', 'config.json');
  const wgen = await json('whisper', 'generation_config.json');
  const wpre = await json('whisper', 'preprocessor_config.json');
  const t = cfg.text_config;
  const v = cfg.vision_config;
  const grid = Math.floor(v.image_size / v.patch_size);
  const pooled = Math.ceil(grid / 2);
  need(cfg.video_token_index === added['<video>'], `video_token_index ${cfg.video_token_index} vs added_tokens <video> ${added['<video>']}`);
  need(cfg.vision_feature_select_strategy === 'full', `vision_feature_select_strategy ${cfg.vision_feature_select_strategy}`);
  need(video.resample === 3, `video processor resample ${video.resample} (bicubic = 3)`);
  need(wpre.feature_size && wpre.nb_max_frames && wpre.chunk_length === 30, 'Whisper preprocessor_config (feature_size, nb_max_frames, chunk_length 30)');

  const tokenizer = [];
  for (const [k, files] of [['llava', pins.llava.tokenizerFiles], ['whisper', pins.whisper.tokenizerFiles]]) for (const f of files) tokenizer.push(await entry(k, f));

  for (const [variant, spec] of Object.entries(pins.variants)) {
    const graphs = {};
    for (const [role, g] of Object.entries(spec.graphs)) {
      const e = await entry(g.repo, g.path, g.lfsSha256);
      graphs[role] = { ...e, externalData: [], inputs: {}, outputs: {}, dtype: g.dtype, device: g.device };
    }
    const kv = (side, part) => Object.fromEntries(['key', 'value'].map((k) => [`${side}_${part}_${k}`, `${side === 'past' ? 'past_key_values' : 'present'}.{i}.${part}.${k}`]));
    Object.assign(graphs.vision_encoder, { inputs: { pixel_values: 'pixel_values' }, outputs: { image_features: 'image_features' } });
    Object.assign(graphs.embed_tokens, { inputs: { input_ids: 'input_ids' }, outputs: { inputs_embeds: 'inputs_embeds' } });
    Object.assign(graphs.decoder_model_merged, {
      inputs: { inputs_embeds: 'inputs_embeds', attention_mask: 'attention_mask', position_ids: 'position_ids', past_key: 'past_key_values.{i}.key', past_value: 'past_key_values.{i}.value' },
      outputs: { logits: 'logits', present_key: 'present.{i}.key', present_value: 'present.{i}.value' },
      kvCache: { dtype: spec.graphs.decoder_model_merged.dtype === 'q4f16' ? 'float16' : 'float32', layout: 'batch,kv_heads,sequence,head_dim' },
      logits: 'all',
    });
    Object.assign(graphs.speech_encoder, { inputs: { input_features: 'input_features' }, outputs: { last_hidden_state: 'last_hidden_state' } });
    Object.assign(graphs.speech_decoder, {
      inputs: { input_ids: 'input_ids', encoder_hidden_states: 'encoder_hidden_states', use_cache_branch: 'use_cache_branch', ...kv('past', 'decoder'), ...kv('past', 'encoder') },
      outputs: { logits: 'logits', ...kv('present', 'decoder'), ...kv('present', 'encoder') },
    });
    const total = [...Object.values(graphs), ...tokenizer].reduce((n, f) => n + f.bytes, 0);
    const manifest = {
      format: 'salmonn-bundle',
      version: 2,
      family: 'llava-onevision-whisper',
      name: `Lite: LLaVA-OneVision-Qwen2-0.5B + Whisper-base (${variant})`,
      description: `Public exports at pinned revisions (${pins.llava.repo}@${pins.llava.revision.slice(0, 7)}, ${pins.whisper.repo}@${pins.whisper.revision.slice(0, 7)}); ${(total / 1e9).toFixed(2)} GB. Not video-SALMONN 2: speech reaches the LLM as a timestamped transcript, other sounds are missed. Licences: ${pins.llava.licence}, ${pins.whisper.licence}.`,
      randomWeights: false,
      graphs,
      tokenizer: { files: tokenizer },
      vision: { imageSize: v.image_size, patchSize: v.patch_size, grid, pooledGrid: pooled, tokensPerFrame: pooled * pooled, mean: video.image_mean, std: video.image_std, resample: 'bicubic' },
      sampling: { fps: 1, maxFrames: 32, minFrames: 1 },
      audio: {
        sampleRate: wpre.sampling_rate, windowSeconds: wpre.chunk_length, numMels: wpre.feature_size, nFft: wpre.n_fft, hopLength: wpre.hop_length,
        melFrames: wpre.nb_max_frames, encoderFrames: wcfg.max_source_positions, framesPerToken: 25, tokensPerWindow: 60, encoderHidden: wcfg.d_model,
      },
      llm: {
        hidden: t.hidden_size, layers: t.num_hidden_layers, heads: t.num_attention_heads, kvHeads: t.num_key_value_heads,
        headDim: t.hidden_size / t.num_attention_heads, vocab: t.vocab_size, ropeTheta: t.rope_theta, maxPositions: t.max_position_embeddings,
        tieEmbeddings: t.tie_word_embeddings ?? cfg.tie_word_embeddings ?? false,
      },
      interleave: { default: 'timestamp' },
      prompt: { chatTemplate: chat.chat_template, systemPrompt: '', defaultPrompt: 'Describe the video in detail: what is seen and what is said, in order.' },
      generation: { stopTokenIds: [gen.eos_token_id].flat(), maxNewTokens: 512, repetitionPenalty: 1.0 },
      lite: {
        vision: { pool: 'bilinear', imageTokenId: cfg.image_token_index, videoTokenId: cfg.video_token_index, videoToken: '<video>' },
        speech: {
          layers: wcfg.decoder_layers, heads: wcfg.decoder_attention_heads, headDim: wcfg.d_model / wcfg.decoder_attention_heads,
          tokens: {
            prompt: [wgen.decoder_start_token_id, wgen.lang_to_id['<|en|>'], wgen.task_to_id.transcribe],
            eos: [wgen.eos_token_id].flat()[0], noTimestamps: wgen.no_timestamps_token_id, timestampBegin: wgen.no_timestamps_token_id + 1, timeStep: 0.02,
            maxInitialTimestampIndex: wgen.max_initial_timestamp_index ?? null, suppress: wgen.suppress_tokens ?? [], beginSuppress: wgen.begin_suppress_tokens ?? [],
            maxNewTokens: Math.floor(wcfg.max_target_positions / 2),
          },
          tokenizerJson: url('whisper', 'tokenizer.json'), tokenizerConfig: url('whisper', 'tokenizer_config.json'),
          transcriptFormat: '[{start}–{end} s] Speech: {text}',
        },
      },
    };
    const dir = join(outDir, `lite-${variant}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'bundle.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    console.log(`${dir}/bundle.json: ${(total / 1e9).toFixed(3)} GB`);
    if (total > 1.2e9) throw new Error(`lite-${variant} downloads ${total} bytes, over the 1.2 GB limit`);
  }
}

main().catch((e) => {
  console.error(`pin failed: ${e.message}`);
  process.exit(1);
});
