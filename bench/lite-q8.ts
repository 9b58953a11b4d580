/**
 * The lite decode step, q4 vs q8 (`npx tsx bench/lite-q8.ts [--past 64] [--runs 15] [--warmup 3]`;
 * not CI): one decode step (1 new row, `--past` cached rows) of the lite fixture's two decoders
 * (npm run models:lite-fixture) as fp32, q4 (MatMulNBits, accuracy_level 4) and q8
 * (DynamicQuantizeLinear + MatMulInteger), in onnxruntime-node (CPU EP) and in onnxruntime-web's
 * WASM EP (run in Node here, one thread: the same .wasm and kernels as the app's worker, without
 * the browser), in the same run. Graphs: bench/lite_q8_graphs.py into .test-output/lite-q8/.
 * **Tiny widths** (LLM 32 wide, Whisper 16): a step's arithmetic is negligible, so the times
 * show per-node overheads only — the 0.5B's real linears are bench/matmul-wasm.ts'. Median ms
 * of `session.run`, the app's session options; max |Δ logits| against fp32 on the same platform.
 * Writes .test-output/bench-lite-q8.json. Only ratios within one run mean anything.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import * as ortWeb from 'onnxruntime-web';
import { ortNode } from '../src/cli/ort-node';
import type { Feeds, Ort, SessionOptions, Tensor } from '../src/core/runtime/ort';

const ROOT = resolve(import.meta.dirname, '..');
const DIR = join(ROOT, '.test-output', 'lite-q8');
const args = process.argv.slice(2);
const opt = (name: string, fallback: string) => Number(args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const PAST = opt('--past', '64');
const RUNS = opt('--runs', '15');
const WARMUP = opt('--warmup', '3');
const VARIANTS = ['fp32', 'q4', 'q8'] as const;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Seeded floats in [-1, 1) (the same feeds on both platforms). */
function noise(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = ((s >>> 0) / 2 ** 32) * 2 - 1;
  }
  return out;
}

function feeds(ort: Ort, decoder: 'llm' | 'whisper'): Feeds {
  const f = (dims: number[], seed: number) => new ort.Tensor('float32', noise(dims.reduce((a, b) => a * b, 1), seed), dims) as Tensor;
  const out: Feeds = {};
  if (decoder === 'llm') {
    out.inputs_embeds = f([1, 1, 32], 1);
    out.attention_mask = new ort.Tensor('int64', new BigInt64Array(PAST + 1).fill(1n), [1, PAST + 1]) as Tensor;
    out.position_ids = new ort.Tensor('int64', BigInt64Array.of(BigInt(PAST)), [1, 1]) as Tensor;
    for (let i = 0; i < 2; i++) for (const kv of ['key', 'value']) out[`past_key_values.${i}.${kv}`] = f([1, 2, PAST, 8], 10 + i * 2 + (kv === 'key' ? 0 : 1));
    return out;
  }
  out.input_ids = new ort.Tensor('int64', BigInt64Array.of(300n), [1, 1]) as Tensor;
  out.encoder_hidden_states = f([1, 1500, 16], 2);
  out.use_cache_branch = new ort.Tensor('bool', Uint8Array.of(1), [1]) as Tensor;
  for (let i = 0; i < 2; i++) {
    for (const [part, len] of [['decoder', PAST], ['encoder', 1500]] as const) {
      for (const kv of ['key', 'value']) out[`past_key_values.${i}.${part}.${kv}`] = f([1, 2, len, 8], 20 + i * 4 + (part === 'encoder' ? 2 : 0) + (kv === 'key' ? 0 : 1));
    }
  }
  return out;
}

interface Row { platform: string; decoder: string; variant: string; ms: number; minMs: number; maxAbsVsFp32: number }

async function step(ort: Ort, backend: 'cpu' | 'wasm', file: string, decoder: 'llm' | 'whisper') {
  const options: SessionOptions = { executionProviders: [backend], graphOptimizationLevel: 'all', extra: { session: { intra_op: { allow_spinning: '0' } } } };
  if (backend === 'cpu') options.intraOpNumThreads = 1;
  const session = await ort.InferenceSession.create(file, options);
  const input = feeds(ort, decoder);
  const times: number[] = [];
  let logits = new Float32Array(0);
  for (let i = 0; i < WARMUP + RUNS; i++) {
    const t0 = performance.now();
    const r = await session.run(input);
    const dt = performance.now() - t0;
    if (i >= WARMUP) times.push(dt);
    if (i === 0) logits = (r.logits.data as Float32Array).slice();
  }
  await session.release();
  return { ms: median(times), minMs: Math.min(...times), logits };
}

async function main() {
  execFileSync('/usr/bin/python3', [join(ROOT, 'bench', 'lite_q8_graphs.py'), join(ROOT, 'public', 'bundles', 'lite-fixture'), DIR], { stdio: 'inherit' });
  (ortWeb.env.wasm as { numThreads?: number }).numThreads = 1;
  const platforms = [['node (ORT CPU, 1 thread)', ortNode(), 'cpu'], ['WASM (onnxruntime-web in Node, 1 thread)', ortWeb as unknown as Ort, 'wasm']] as const;
  const load = [loadavg()[0]];
  const rows: Row[] = [];
  for (const [platform, ort, backend] of platforms) {
    for (const decoder of ['llm', 'whisper'] as const) {
      let ref = new Float32Array(0);
      for (const variant of VARIANTS) {
        const r = await step(ort, backend, join(DIR, `${decoder}_${variant}.onnx`), decoder);
        if (variant === 'fp32') ref = r.logits;
        let d = 0;
        for (let i = 0; i < ref.length; i++) d = Math.max(d, Math.abs(r.logits[i] - ref[i]));
        rows.push({ platform, decoder, variant, ms: r.ms, minMs: r.minMs, maxAbsVsFp32: d });
        console.log(`${platform} ${decoder} ${variant}: ${r.ms.toFixed(3)} ms (min ${r.minMs.toFixed(3)}), max |Δ logits| vs fp32 ${d.toExponential(2)}`);
      }
    }
    load.push(loadavg()[0]);
  }
  console.log(`\none decode step, past ${PAST}, median of ${RUNS} after ${WARMUP}; load average ${load.map((l) => l.toFixed(2)).join(' → ')}`);
  console.log('| platform | decoder | fp32 ms | q4 ms | q8 ms | q4 / q8 | q8 / fp32 |');
  console.log('|---|---|---:|---:|---:|---:|---:|');
  for (const [platform] of platforms) {
    for (const decoder of ['llm', 'whisper']) {
      const ms = (v: string) => rows.find((r) => r.platform === platform && r.decoder === decoder && r.variant === v)!.ms;
      console.log(`| ${platform} | ${decoder} | ${ms('fp32').toFixed(3)} | ${ms('q4').toFixed(3)} | ${ms('q8').toFixed(3)} | ${(ms('q4') / ms('q8')).toFixed(2)}× | ${(ms('q8') / ms('fp32')).toFixed(2)}× |`);
    }
  }
  mkdirSync(join(ROOT, '.test-output'), { recursive: true });
  writeFileSync(join(ROOT, '.test-output', 'bench-lite-q8.json'), JSON.stringify({ past: PAST, runs: RUNS, warmup: WARMUP, loadavg: load, rows }, null, 2));
}

await main();
