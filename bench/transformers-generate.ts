/**
 * Our decode loop (src/core/model/decoder.ts, as the lite family runs it) against
 * `@huggingface/transformers`' own `generate` on the same graphs — the lite fixture's
 * embed_tokens + decoder_model_merged (public/bundles/lite-fixture, `npm run
 * models:lite-fixture`, or `--bundle DIR` for another folder in the transformers.js layout) —
 * in one Node process on the one onnxruntime-node of the tree (npm overrides), greedy, the
 * same prompt ids and the same number of new tokens, alternating, in one run. Checks that both
 * produce the same token ids, then reports each side's median time and the ratio
 * ours / transformers.js (< 1: ours is faster).
 */
import { readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { env, LlavaOnevisionForConditionalGeneration, Tensor } from '@huggingface/transformers';
import { ortNode } from '../src/cli/ort-node';
import { FsBundleSource } from '../src/core/bundle/fs-source';
import { loadBundle } from '../src/core/bundle/load';
import { LITE_ROLES } from '../src/core/families/lite';
import { disposeModel, loadModel } from '../src/core/families/load';
import { decoderOf } from '../src/core/families/salmonn';
import { argmax } from '../src/core/model/sampling';
import { now } from '../src/core/runtime/ort';

const arg = (flag: string, fallback: string) => {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const bundleDir = resolve(arg('--bundle', 'public/bundles/lite-fixture'));
const NEW = Number(arg('--new-tokens', '64'));
const PROMPT = Number(arg('--prompt-tokens', '256'));
const REPS = Number(arg('--reps', '5'));

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const manifest = JSON.parse(readFileSync(join(bundleDir, 'bundle.json'), 'utf8')) as { family: string };
  if (manifest.family !== 'llava-onevision-whisper') throw new Error(`${bundleDir} is not a lite bundle (family ${manifest.family})`);
  // ordinary text ids (the fixture's embedding favours 220 + 60k), the same for both sides
  const prompt = Array.from({ length: PROMPT }, (_, i) => 220 + ((i * 7) % 64) * 60);

  const model = await loadModel(ortNode(), await loadBundle(new FsBundleSource(bundleDir)), { prefer: 'wasm', platform: 'node', adapter: null, warmUp: false });
  const ours = async () => {
    const decoder = decoderOf(model, LITE_ROLES.embed, LITE_ROLES.decoder);
    try {
      const t0 = now();
      const r = await decoder.generate(await decoder.embed(prompt), { maxNewTokens: NEW, stopTokenIds: [], pickToken: (l) => argmax(l), prefillChunk: PROMPT });
      return { ms: now() - t0, ids: r.tokenIds };
    } finally {
      decoder.dispose();
    }
  };

  env.allowRemoteModels = false;
  env.localModelPath = `${dirname(bundleDir)}/`;
  const hf = await LlavaOnevisionForConditionalGeneration.from_pretrained(basename(bundleDir), { dtype: 'fp32', device: 'cpu', local_files_only: true });
  const theirs = async () => {
    const input_ids = new Tensor('int64', BigInt64Array.from(prompt, BigInt), [1, PROMPT]);
    const attention_mask = new Tensor('int64', new BigInt64Array(PROMPT).fill(1n), [1, PROMPT]);
    const t0 = now();
    const out = (await hf.generate({ input_ids, attention_mask, max_new_tokens: NEW, min_new_tokens: NEW, do_sample: false })) as Tensor;
    const ms = now() - t0;
    return { ms, ids: Array.from(out.data as BigInt64Array, Number).slice(PROMPT) };
  };

  // warm-up both (first runs create kernels), then alternate
  const a0 = await ours();
  const b0 = await theirs();
  const same = a0.ids.length === b0.ids.length && a0.ids.every((id, i) => id === b0.ids[i]);
  const times = { ours: [] as number[], theirs: [] as number[] };
  for (let r = 0; r < REPS; r++) {
    times.ours.push((await ours()).ms);
    times.theirs.push((await theirs()).ms);
  }
  await disposeModel(model);
  await hf.dispose();

  const [o, t] = [median(times.ours), median(times.theirs)];
  console.log(`lite decoder (${bundleDir}): ${PROMPT} prompt tokens + ${NEW} new, greedy, median of ${REPS} (alternating), onnxruntime-node`);
  console.log(`  same token ids: ${same ? 'yes' : `NO (ours ${a0.ids.slice(0, 8).join(' ')} …, transformers.js ${b0.ids.slice(0, 8).join(' ')} …)`}`);
  console.log(`  ours (Decoder.generate)          ${o.toFixed(1)} ms  (${(o / NEW).toFixed(2)} ms/token incl. prefill)`);
  console.log(`  transformers.js generate          ${t.toFixed(1)} ms  (${(t / NEW).toFixed(2)} ms/token incl. prefill)`);
  console.log(`  ratio ours / transformers.js      ${(o / t).toFixed(2)}`);
  if (!same) process.exitCode = 1;
}

main().catch((e: unknown) => {
  console.error(`transformers-generate bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  process.exit(1);
});
