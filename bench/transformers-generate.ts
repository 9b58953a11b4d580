/**
 * Our decode loop (src/core/model/decoder.ts, as the lite family runs it) against
 * `@huggingface/transformers`' own `generate` on the same graphs — the lite fixture's
 * embed_tokens + decoder_model_merged (public/bundles/lite-fixture, `npm run
 * models:lite-fixture`, or `--bundle NAME` for another folder under public/bundles with those
 * two graphs, e.g. a random-shape Qwen2-0.5B export; a folder without a config.json gets one
 * for transformers.js from its bundle.json) — greedy, the same prompt ids and the same number of new tokens,
 * alternating, in one run, twice:
 *   - Node: one process on the tree's one onnxruntime-node (npm overrides);
 *   - Chromium: one module worker (bench/transformers-worker.ts) on the app's onnxruntime-web.
 * Each checks that both produce the same token ids, then reports each side's median and the
 * ratio ours / transformers.js (< 1: ours is faster). `--node-only` skips Chromium.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium } from '@playwright/test';
import { env, LlavaOnevisionForConditionalGeneration, Tensor } from '@huggingface/transformers';
import { createServer } from 'vite';
import { chromiumArgs } from '../playwright.config';
import { ortNode } from '../src/cli/ort-node';
import { FsBundleSource } from '../src/core/bundle/fs-source';
import { loadBundle } from '../src/core/bundle/load';
import { disposeModel, loadModel } from '../src/core/families/load';
import type { BundleManifest } from '../src/core/bundle/manifest';
import { compareGenerate, report, type CompareConfig, type CompareResult } from './transformers-core';

const arg = (flag: string, fallback: string) => {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const ROOT = resolve(import.meta.dirname, '..');
const NAME = arg('--bundle', 'lite-fixture');
const DIR = join(ROOT, 'public', 'bundles', NAME);
const CONFIG: CompareConfig = { newTokens: Number(arg('--new-tokens', '64')), promptTokens: Number(arg('--prompt-tokens', '256')), reps: Number(arg('--reps', '5')) };
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const PORT = Number(process.env.BENCH_TRANSFORMERS_PORT ?? 5261);

/**
 * transformers.js reads the folder as a LLaVA-OneVision repo: config.json (from bundle.json's
 * llm and vision sections when the folder has none) and, per graph with external data, one
 * `<file>.onnx_data` chunk (`use_external_data_format`).
 */
function transformersLayout(m: BundleManifest): Record<string, number> {
  if (!existsSync(join(DIR, 'config.json'))) {
    const { llm, vision } = m;
    const text_config = { model_type: 'qwen2', hidden_size: llm.hidden, num_hidden_layers: llm.layers, num_attention_heads: llm.heads, num_key_value_heads: llm.kvHeads, head_dim: llm.headDim, vocab_size: llm.vocab, rope_theta: llm.ropeTheta, max_position_embeddings: llm.maxPositions, tie_word_embeddings: llm.tieEmbeddings };
    const config = { architectures: ['LlavaOnevisionForConditionalGeneration'], model_type: 'llava_onevision', image_token_index: 151646, video_token_index: 151647, text_config, vision_config: { model_type: 'siglip_vision_model', image_size: vision.imageSize, patch_size: vision.patchSize } };
    writeFileSync(join(DIR, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
    writeFileSync(join(DIR, 'generation_config.json'), `${JSON.stringify({ eos_token_id: m.generation.stopTokenIds }, null, 2)}\n`);
    console.log(`wrote ${DIR}/config.json and generation_config.json for transformers.js (from bundle.json)`);
  }
  const chunks: Record<string, number> = {};
  for (const role of ['vision_encoder', 'embed_tokens', 'decoder_model_merged']) {
    const g = m.graphs[role];
    if (!g) throw new Error(`${DIR}: bundle.json has no ${role} graph`);
    if (g.path !== `onnx/${role}.onnx`) throw new Error(`${DIR}: ${role} is ${g.path}, transformers.js looks for onnx/${role}.onnx`);
    if (g.externalData.length) chunks[`${role}.onnx`] = g.externalData.length;
  }
  return chunks;
}

let EXTERNAL: Record<string, number> = {};

async function inNode(): Promise<CompareResult> {
  const model = await loadModel(ortNode(), await loadBundle(new FsBundleSource(DIR)), { prefer: 'wasm', platform: 'node', adapter: null, warmUp: false });
  env.allowRemoteModels = false;
  env.localModelPath = `${join(ROOT, 'public', 'bundles')}/`;
  const hf = await LlavaOnevisionForConditionalGeneration.from_pretrained(NAME, { dtype: 'fp32', device: 'cpu', local_files_only: true, use_external_data_format: EXTERNAL });
  try {
    return await compareGenerate(model, hf, Tensor as never, CONFIG);
  } finally {
    await disposeModel(model);
    await hf.dispose();
  }
}

async function inChromium(): Promise<{ result: CompareResult; sameRuntime: boolean; wasmPaths: string }> {
  // transformers.js is imported by the worker after start-up: pre-bundle it up front (no reload)
  const server = await createServer({ root: ROOT, logLevel: 'error', server: { port: PORT, strictPort: true, host: '127.0.0.1' }, optimizeDeps: { include: ['@huggingface/transformers'] } });
  await server.listen();
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: chromiumArgs });
  try {
    const page = await browser.newPage();
    page.on('console', (m) => console.log(`  [chromium] ${m.text()}`));
    await page.goto(`http://127.0.0.1:${PORT}/bench/transformers.html`);
    await page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready');
    return await page.evaluate((req) => window.benchTransformers(req), { bundleUrl: `/bundles/${NAME}/`, externalData: EXTERNAL, ...CONFIG });
  } finally {
    await browser.close();
    await server.close();
  }
}

async function main(): Promise<void> {
  EXTERNAL = transformersLayout(JSON.parse(readFileSync(join(DIR, 'bundle.json'), 'utf8')) as BundleManifest);
  const node = await inNode();
  console.log(report(`Node, onnxruntime-node (${NAME})`, node));
  let ok = node.sameIds;
  if (!process.argv.includes('--node-only')) {
    const web = await inChromium();
    console.log(report(`Chromium worker, onnxruntime-web WASM (${NAME})`, web.result));
    console.log(`  one runtime in the worker: ${web.sameRuntime ? 'yes' : 'NO'} (wasmPaths ${web.wasmPaths})`);
    ok &&= web.result.sameIds && web.sameRuntime;
  }
  if (!ok) process.exitCode = 1;
}

main().catch((e: unknown) => {
  console.error(`transformers-generate bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  process.exit(1);
});
