// Greedy decoding with onnxruntime-node over an embed_tokens + decoder_model_merged pair
// (the direct-built decoder: no position_ids, logits of the last position only).
// usage: node ort_greedy.mjs job.json
// job = { decoder, embed, embeds: { file, dims, dtype: 'float32'|'float16' } | promptIds: [..], steps, layers,
//         kvHeads, headDim, kvDtype: 'float32'|'float16', stopIds: [..], out }
// Prefills the prompt embeddings with an empty past, then feeds each argmax token back through
// embed_tokens; writes `out` = { ids, margins, logits0 (first step's top-8 [id, value]),
//   createMs, prefillMs, stepMs: [...] }. Options: forceIds (teacher forcing: feed these tokens
// instead of the argmax; ids still records the argmax), dumpLogits (a file: float32 logits of
// every step, [steps, V]).
import fs from 'node:fs';
import * as ort from 'onnxruntime-node';

const job = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const opts = { intraOpNumThreads: job.threads ?? 2, graphOptimizationLevel: 'all' };
const ARR = { float32: Float32Array, float16: Uint16Array };

const t0 = performance.now();
const dec = await ort.InferenceSession.create(job.decoder, opts);
const emb = await ort.InferenceSession.create(job.embed, opts);
const createMs = performance.now() - t0;

let x;
if (job.promptIds) {
  const ids = BigInt64Array.from(job.promptIds.map((i) => BigInt(i)));
  x = (await emb.run({ input_ids: new ort.Tensor('int64', ids, [1, ids.length]) })).inputs_embeds;
} else {
  const buf = fs.readFileSync(job.embeds.file);
  x = new ort.Tensor(job.embeds.dtype, new ARR[job.embeds.dtype](buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength)), job.embeds.dims);
}
const past = {};
for (let i = 0; i < job.layers; i++) {
  for (const kv of ['key', 'value']) {
    past[`past_key_values.${i}.${kv}`] = new ort.Tensor(job.kvDtype, new ARR[job.kvDtype](0), [1, job.kvHeads, 0, job.headDim]);
  }
}
let total = 0;
const ids = [], margins = [], stepMs = [];
const dump = job.dumpLogits ? fs.openSync(job.dumpLogits, 'w') : null;
let prefillMs = 0, logits0 = null;
for (let step = 0; step < job.steps; step++) {
  const s = x.dims[1];
  total += s;
  const mask = new ort.Tensor('int64', new BigInt64Array(total).fill(1n), [1, total]);
  const t = performance.now();
  const out = await dec.run({ inputs_embeds: x, attention_mask: mask, ...past });
  const ms = performance.now() - t;
  if (step === 0) prefillMs = ms; else stepMs.push(ms);
  const l = out.logits.data;
  const v = l.length; // [1, 1, V]
  let a = 0, b = -1;
  for (let j = 1; j < v; j++) if (l[j] > l[a]) a = j;
  for (let j = 0; j < v; j++) if (j !== a && (b < 0 || l[j] > l[b])) b = j;
  if (step === 0) {
    const order = Array.from(l.keys()).sort((p, q) => l[q] - l[p]).slice(0, 8);
    logits0 = order.map((j) => [j, l[j]]);
  }
  ids.push(a);
  margins.push(l[a] - l[b]);
  if (dump !== null) fs.writeSync(dump, Buffer.from(l.buffer, l.byteOffset, l.byteLength));
  const next = job.forceIds ? job.forceIds[step] : a;
  for (let i = 0; i < job.layers; i++) {
    past[`past_key_values.${i}.key`] = out[`present.${i}.key`];
    past[`past_key_values.${i}.value`] = out[`present.${i}.value`];
  }
  if ((job.stopIds ?? []).includes(next) || next === undefined) break;
  const e = await emb.run({ input_ids: new ort.Tensor('int64', BigInt64Array.from([BigInt(next)]), [1, 1]) });
  x = e.inputs_embeds;
}
if (dump !== null) fs.closeSync(dump);
const rssMiB = Math.round(process.memoryUsage().rss / 2 ** 20);
fs.writeFileSync(job.out, JSON.stringify({ ids, margins, logits0, createMs, prefillMs, stepMs, rssMiB }));
