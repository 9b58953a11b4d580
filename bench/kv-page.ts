/**
 * Page of bench/kv.ts: the LLM of a bundle on WebGPU through the app's own session creation
 * (src/core/runtime/sessions.ts) and decode loop (src/core/model/decoder.ts), with the
 * decoder's `present.*` kept on the GPU (`gpu-buffer`, what the app does) or read back to
 * the CPU after every step and uploaded again as the next past (`cpu`).
 */
import type { BundleManifest, GraphName } from '../src/core/bundle/manifest';
import { Decoder, maxRowsPerRun } from '../src/core/model/decoder';
import type { Session } from '../src/core/runtime/ort';
import { createSession, expandPort } from '../src/core/runtime/sessions';
import { ortWeb } from '../src/worker/ort-web';

export interface KvRequest {
  bundleUrl: string;
  kv: 'gpu-buffer' | 'cpu';
  /** Prompt rows before the timed steps (the cache length the steps start at). */
  context: number;
  steps: number;
}

export interface KvResult {
  kv: KvRequest['kv'];
  context: number;
  steps: number;
  /** Median ms of the decoder's run and of the cache swap per step, and the whole step's mean. */
  runMs: number;
  cacheMs: number;
  stepMs: number;
  backends: string[];
}

declare global {
  interface Window {
    benchKv: (req: KvRequest) => Promise<KvResult>;
  }
}

function noise(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = (s / 2 ** 31 - 1) * 0.1;
  }
  return a;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

async function graphBytes(base: string, m: BundleManifest, role: GraphName) {
  const g = m.graphs[role];
  const get = async (p: string) => new Uint8Array(await (await fetch(new URL(p, base))).arrayBuffer());
  return { model: await get(g.path), externalData: await Promise.all(g.externalData.map(async (e) => ({ path: e.path.split('/').pop()!, data: await get(e.path) }))) };
}

window.benchKv = async ({ bundleUrl, kv, context, steps }) => {
  const base = new URL(bundleUrl, location.href).href;
  const m = (await (await fetch(base + 'bundle.json')).json()) as BundleManifest;
  const ort = ortWeb();
  const dec = m.graphs.decoder_model_merged;
  const gpuOutputs = kv === 'gpu-buffer' ? [...expandPort(dec.outputs.present_key, m.llm.layers), ...expandPort(dec.outputs.present_value, m.llm.layers)] : [];
  const plan = { order: ['webgpu' as const], reason: null };
  const sessions: Session[] = [];
  try {
    const embed = await createSession(ort, 'embed_tokens', await graphBytes(base, m, 'embed_tokens'), { order: ['wasm'], reason: null });
    sessions.push(embed.session);
    const decoder = await createSession(ort, 'decoder_model_merged', await graphBytes(base, m, 'decoder_model_merged'), plan, gpuOutputs);
    sessions.push(decoder.session);
    const loop = new Decoder(ort, { embed: { session: embed.session, entry: m.graphs.embed_tokens }, decoder: { session: decoder.session, entry: dec } }, m.llm, maxRowsPerRun('webgpu', dec)); // the app's ≤ 31-row runs on WebGPU (decoder.ts)
    const argmax = (row: Float32Array) => row.reduce((best, v, i, a) => (v > a[best] ? i : best), 0);
    const opts = (n: number) => ({ maxNewTokens: n, stopTokenIds: [], pickToken: argmax, prefillChunk: 512 });
    await loop.generate(noise(8 * m.llm.hidden, 3), opts(3)); // warm-up: compiles the kernels
    loop.reset();
    const parts: Record<string, number[]> = { run: [], cache: [] };
    let timing = false;
    loop.trace = (part, ms) => void (timing && parts[part]?.push(ms));
    // The first token comes from the prefill; the steps after it are timed.
    const pick = opts(steps + 1).pickToken;
    const r = await loop.generate(noise(context * m.llm.hidden, 5), { ...opts(steps + 1), pickToken: (row: Float32Array) => ((timing = true), pick(row)) });
    loop.dispose();
    return { kv, context, steps, runMs: median(parts.run), cacheMs: median(parts.cache), stepMs: r.decodeMs / steps, backends: [embed.backend, decoder.backend] };
  } finally {
    for (const s of sessions) await s.release();
  }
};

document.getElementById('status')!.textContent = 'ready';
