/**
 * Platform-neutral part of the runtime bench (bench/runtime.ts): times each stage of one
 * bundle with the app's own decode loop (`Decoder`, src/core/model/decoder.ts) on
 * synthetic inputs of the bundle's real shapes. Runs in Node (onnxruntime-node) and in a
 * Chromium worker (onnxruntime-web on WASM, or on WebGPU as the app places the graphs: those
 * the manifest puts on the CPU on WASM, the decoder's KV cache kept on the GPU) on the same
 * graph bytes.
 *
 * Sessions are created one stage at a time and released after it (the decoder and
 * embed_tokens together), so the WASM heap (4 GiB at most) holds one stage's weights.
 */
import type { BundleManifest, GraphName } from '../src/core/bundle/manifest';
import { Decoder, maxRowsPerRun } from '../src/core/model/decoder';
import { disposeAll, float32Tensor, now, readFloat32, type Backend, type Ort, type Session } from '../src/core/runtime/ort';
import type { GraphBytes } from '../src/core/bundle/load';
import { salmonnFamily } from '../src/core/families/salmonn';

export interface BenchConfig {
  frames: number;
  audioWindows: number;
  prefillTokens: number;
  decodeSteps: number;
  /** Timed repetitions of the encoder stages (the median is kept), after one warm-up. */
  repeats: number;
}

export interface StageResult {
  /** Session creation of every graph, ms. */
  sessionCreate: number;
  vision: number;
  audioEncoder: number;
  aligner: number;
  prefill: number;
  /** ms per decode step (embed_tokens + decoder + logits read) and tokens/s. */
  decodeStepMs: number;
  tokensPerSecond: number;
  /** Error text of a stage that could not run (e.g. out of memory), by stage. */
  failed: Record<string, string>;
}

export type GraphLoader = (name: GraphName) => Promise<GraphBytes>;



/** Deterministic pseudo-random fill in [−1, 1). */
function noise(n: number, seed = 1): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 2 ** 31 - 1;
  }
  return a;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** `spinning: false` sets ORT's `session.intra_op.allow_spinning` to 0 (idle worker threads sleep instead of spinning after each parallel section). */
async function create(ort: Ort, bytes: GraphBytes, backend: Backend, threads: number, spinning = true, gpuOutputs: string[] = []): Promise<Session> {
  return ort.InferenceSession.create(bytes.model, {
    executionProviders: [backend],
    ...(gpuOutputs.length ? { preferredOutputLocation: Object.fromEntries(gpuOutputs.map((o) => [o, 'gpu-buffer' as const])) } : {}),
    graphOptimizationLevel: 'all',
    ...(spinning ? {} : { extra: { session: { intra_op: { allow_spinning: '0' } } } }),
    ...(backend === 'cpu' ? { intraOpNumThreads: threads, interOpNumThreads: 1 } : {}),
    ...(bytes.externalData.length ? { externalData: bytes.externalData } : {}),
  });
}

async function timeRuns(session: Session, feeds: () => Record<string, ReturnType<typeof float32Tensor>>, output: string, repeats: number): Promise<number> {
  const times: number[] = [];
  for (let r = 0; r <= repeats; r++) {
    const t = now();
    const out = await session.run(feeds());
    await readFloat32(out[output]);
    disposeAll(Object.values(out));
    if (r > 0) times.push(now() - t);
  }
  return median(times);
}

const argmax = (row: Float32Array) => {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
};

/** On WebGPU, as the app's plan (src/core/runtime/backend.ts) with the GPU chosen: a graph the manifest places on the CPU runs on WASM; the decoder's `present.*` stay on the GPU (the family's gpuOutputs). */
function placement(m: BundleManifest, name: GraphName, backend: Backend): { backend: Backend; gpuOutputs: string[] } {
  if (backend !== 'webgpu') return { backend, gpuOutputs: [] };
  if (m.graphs[name].device === 'cpu') return { backend: 'wasm', gpuOutputs: [] };
  return { backend, gpuOutputs: salmonnFamily.gpuOutputs(name, m) };
}

export async function benchBundle(ort: Ort, m: BundleManifest, load: GraphLoader, backend: Backend, threads: number, cfg: BenchConfig, log: (s: string) => void = () => {}): Promise<StageResult> {
  const res: StageResult = { sessionCreate: 0, vision: NaN, audioEncoder: NaN, aligner: NaN, prefill: NaN, decodeStepMs: NaN, tokensPerSecond: NaN, failed: {} };
  const open = async (name: GraphName) => {
    const bytes = await load(name);
    const t = now();
    const where = placement(m, name, backend);
    const s = await create(ort, bytes, where.backend, threads, true, where.gpuOutputs);
    res.sessionCreate += now() - t;
    return s;
  };
  const stage = async (name: string, fn: () => Promise<void>) => {
    try {
      await fn();
      log(`  ${name} done`);
    } catch (e) {
      res.failed[name] = e instanceof Error ? e.message : String(e);
      log(`  ${name} FAILED: ${res.failed[name]}`);
    }
  };

  const { vision: v, audio: a, llm } = m;
  await stage('vision', async () => {
    const s = await open('vision_encoder');
    const px = noise(cfg.frames * 3 * v.imageSize * v.imageSize, 2);
    res.vision = await timeRuns(s, () => ({ pixel_values: float32Tensor(ort, px, [cfg.frames, 3, v.imageSize, v.imageSize]) }), 'image_features', cfg.repeats);
    await s.release();
  });
  await stage('audio encoder', async () => {
    const s = await open('audio_encoder');
    const mel = noise(cfg.audioWindows * a.numMels * a.melFrames, 3);
    res.audioEncoder = await timeRuns(s, () => ({ input_features: float32Tensor(ort, mel, [cfg.audioWindows, a.numMels, a.melFrames]) }), 'last_hidden_state', cfg.repeats);
    await s.release();
  });
  await stage('aligner', async () => {
    const s = await open('audio_aligner');
    const states = noise(cfg.audioWindows * a.encoderFrames * a.encoderHidden, 4);
    res.aligner = await timeRuns(s, () => ({ encoder_hidden_states: float32Tensor(ort, states, [cfg.audioWindows, a.encoderFrames, a.encoderHidden]) }), 'audio_features', cfg.repeats);
    await s.release();
  });
  await stage('decoder', async () => {
    const embedTokens = await open('embed_tokens');
    const decoder = await open('decoder_model_merged');
    try {
      // On WebGPU the app's prefill runs of ≤ 31 rows (onnxruntime-web 1.30's GQA, decoder.ts maxRowsPerRun).
      const rows = maxRowsPerRun(placement(m, 'decoder_model_merged', backend).backend, m.graphs.decoder_model_merged);
      const loop = new Decoder(ort, { embed: { session: embedTokens, entry: m.graphs.embed_tokens }, decoder: { session: decoder, entry: m.graphs.decoder_model_merged } }, llm, rows);
      // Each prefill run and decode step logged with its ms (a slow adapter shows where its time goes).
      const run = (what: string, tokens: number, steps: number) => {
        loop.reset();
        let t = now();
        const lap = () => {
          const ms = now() - t;
          t = now();
          return ms.toFixed(0);
        };
        return loop.generate(noise(tokens * llm.hidden, 5), {
          maxNewTokens: steps,
          stopTokenIds: [],
          pickToken: argmax,
          prefillChunk: tokens,
          onPrefill: (done, total) => log(`  ${what}: prefill ${done}/${total} rows, ${lap()} ms`),
          onToken: (_id, i) => i > 0 && log(`  ${what}: decode step ${i}, ${lap()} ms`),
        });
      };
      // Warm-up: on WebGPU with the timed prefill's run shape (its kernels are compiled for it: ≤ 31 rows), elsewhere 8 rows.
      await run('warm-up', Number.isFinite(rows) ? Math.min(rows, cfg.prefillTokens) : 8, 2);
      const r = await run('timed', cfg.prefillTokens, cfg.decodeSteps + 1);
      // The first token comes from the prefill's logits: decodeSteps decoder steps follow.
      res.prefill = r.prefillMs;
      res.decodeStepMs = r.decodeMs / cfg.decodeSteps;
      res.tokensPerSecond = 1000 / res.decodeStepMs;
    } finally {
      await embedTokens.release();
      await decoder.release();
    }
  });
  return res;
}

// ---- Decode-step split (bench/decode-split.ts) ----

/** Milliseconds per generated token by part of the step: the median over the timed steps of each. */
export interface StepSplit {
  /** ORT's worker threads spin after each parallel section (its default), or sleep. */
  spinning: boolean;
  context: number;
  steps: number;
  /** embed_tokens run for one id (what every step cost before the row cache). */
  embedRun: number;
  /** What the loop spends on the embedding now (row lookup after the first sight of an id). */
  embed: number;
  feeds: number;
  /** decoder `session.run`, all of it; on WASM split into the copies in/out of the heap (ORT's own trace) and the rest. */
  run: number;
  copyIn: number | null;
  copyOut: number | null;
  logits: number;
  cache: number;
  /** Median wall time of a step, pick to pick, as the loop sees it (the parts plus the loop's own bookkeeping). */
  total: number;
  /** Bytes of KV cache fed in (and read out) per step at this context. */
  kvBytes: number;
}

/**
 * ORT-web's trace labels (onnxruntime-web/lib/wasm/wasm-core-impl.ts): inputs copied into the
 * wasm heap, outputs copied out. `take()` returns what was timed since the last call.
 */
export interface RunCopyTrace {
  take(): { copyIn: number; copyOut: number };
}

export interface SplitConfig {
  contexts: number[];
  steps: number;
  prefillChunk: number;
  spinning: boolean;
}

export async function benchDecodeSplit(
  ort: Ort,
  m: BundleManifest,
  load: GraphLoader,
  backend: Backend,
  threads: number,
  cfg: SplitConfig,
  copies: RunCopyTrace | null,
  log: (s: string) => void = () => {},
): Promise<StepSplit[]> {
  const embedTokens = await create(ort, await load('embed_tokens'), backend, threads, cfg.spinning);
  const decoder = await create(ort, await load('decoder_model_merged'), backend, threads, cfg.spinning);
  const { llm } = m;
  const out: StepSplit[] = [];
  try {
    const loop = new Decoder(ort, { embed: { session: embedTokens, entry: m.graphs.embed_tokens }, decoder: { session: decoder, entry: m.graphs.decoder_model_merged } }, llm);
    await loop.generate(noise(8 * llm.hidden, 5), { maxNewTokens: 3, stopTokenIds: [], pickToken: argmax, prefillChunk: 8 }); // warm-up
    for (const context of cfg.contexts) {
      loop.reset();
      // Per timed step: each part's ms (medians below: a loaded machine deschedules a step now and then).
      const parts: Record<string, number[]> = { embed: [], feeds: [], run: [], logits: [], cache: [], copyIn: [], copyOut: [], total: [] };
      let timing = false;
      let last = 0;
      loop.trace = (part, ms) => {
        const c = copies?.take();
        if (!timing) return;
        parts[part].push(ms);
        if (c && part === 'run') {
          parts.copyIn.push(c.copyIn);
          parts.copyOut.push(c.copyOut);
        }
      };
      // Prefill `context` rows (the first token comes from its logits), then `steps` timed decoder steps.
      const ids: number[] = [];
      await loop.generate(noise(context * llm.hidden, 7), {
        maxNewTokens: cfg.steps + 1,
        stopTokenIds: [],
        prefillChunk: cfg.prefillChunk,
        pickToken: (row) => {
          const t = now();
          if (timing) parts.total.push(t - last);
          timing = true;
          last = t;
          const id = argmax(row);
          ids.push(id);
          return id;
        },
      });
      loop.trace = null;
      copies?.take();
      // The embed_tokens run per id, as every step paid it before the row cache.
      const embedRun: number[] = [];
      for (const id of ids.slice(0, cfg.steps)) {
        const t = now();
        await loop.embed([id]);
        embedRun.push(now() - t);
      }
      const total = median(parts.total);
      out.push({
        spinning: cfg.spinning,
        context,
        steps: cfg.steps,
        embedRun: median(embedRun),
        embed: median(parts.embed),
        feeds: median(parts.feeds),
        run: median(parts.run),
        copyIn: copies ? median(parts.copyIn) : null,
        copyOut: copies ? median(parts.copyOut) : null,
        logits: median(parts.logits),
        cache: median(parts.cache),
        total,
        kvBytes: 2 * llm.layers * llm.kvHeads * context * llm.headDim * (m.graphs.decoder_model_merged.kvCache?.dtype === 'float16' ? 2 : 4),
      });
      log(`  context ${context}, spinning ${cfg.spinning}: ${total.toFixed(2)} ms/token`);
    }
    loop.dispose();
  } finally {
    await embedTokens.release();
    await decoder.release();
  }
  return out;
}
