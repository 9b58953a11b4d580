/**
 * Shared core of bench/matmul-wasm.ts, run in Node (onnxruntime-node, CPU EP) and in a
 * Chromium module worker (onnxruntime-web, WASM EP): times the single-op graphs of
 * bench/matmul_graphs.py (one 0.5B Linear layer per export style) with the app's session
 * options (src/core/runtime/sessions.ts) and checks each output against the fp32 graph's
 * and the float64 reference. Times are taken here, around `session.run` only (session
 * creation excluded), with performance.now(): median of `runs` after `warmup` runs.
 */
import type { Ort, SessionOptions, Tensor } from '../src/core/runtime/ort';

export const VARIANTS = ['nbits0', 'nbits4', 'fp32', 'q8', 'q8u'] as const;
export type Variant = (typeof VARIANTS)[number];

export interface MatmulShape {
  name: string;
  K: number;
  N: number;
  /** Files in the graph folder: A (rows × K float32), the reference (rows × N float32), one graph per variant. */
  a: string;
  ref: string;
  graphs: Record<Variant, string>;
  /** The only M this shape runs at (the lm_head: the decoder's last position), else the config's. */
  ms?: number[];
}

export interface MatmulManifest {
  rows: number;
  shapes: MatmulShape[];
}

export interface MatmulConfig {
  ms: number[];
  warmup: number;
  runs: number;
  variants: Variant[];
  /** Shape names to run (all when empty). */
  shapes: string[];
  /** ORT's own log at INFO for every session (the kernel's choice of path: `--ort-log`). */
  ortLog?: boolean;
}

export interface MatmulRow {
  shape: string;
  K: number;
  N: number;
  variant: Variant;
  M: number;
  threads: number;
  /** Median and fastest ms of one `session.run`. */
  ms: number;
  minMs: number;
  /** max |Y - Y_fp32| (same platform, same M) and max |Y - reference|; the reference's own max |.|. */
  maxAbsVsFp32: number;
  maxAbsVsRef: number;
  refMaxAbs: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const floats = (bytes: Uint8Array) => new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));

/** Times one graph at each M; returns ms and the outputs (first M rows of A). */
async function timeGraph(ort: Ort, model: Uint8Array, backend: 'wasm' | 'cpu', threads: number, a: Float32Array, K: number, cfg: MatmulConfig) {
  const options: SessionOptions = { executionProviders: [backend], graphOptimizationLevel: 'all', extra: { session: { intra_op: { allow_spinning: '0' } } } };
  if (backend === 'cpu') options.intraOpNumThreads = threads; // WASM: env.wasm.numThreads, set by the worker
  if (cfg.ortLog) options.logSeverityLevel = 1;
  const session = await ort.InferenceSession.create(model, options);
  const out: { M: number; ms: number; minMs: number; y: Float32Array }[] = [];
  try {
    for (const M of cfg.ms) {
      const feeds = { A: new ort.Tensor('float32', a.slice(0, M * K), [M, K]) as Tensor };
      const times: number[] = [];
      let y = new Float32Array(0);
      for (let i = 0; i < cfg.warmup + cfg.runs; i++) {
        const t0 = performance.now();
        const r = await session.run(feeds, cfg.ortLog ? { logSeverityLevel: 1 } : {});
        const dt = performance.now() - t0;
        if (i >= cfg.warmup) times.push(dt);
        if (i === 0) y = (r.Y.data as Float32Array).slice();
        r.Y.dispose();
      }
      out.push({ M, ms: median(times), minMs: Math.min(...times), y });
    }
  } finally {
    await session.release();
  }
  return out;
}

/** Every (shape, variant, M) of the manifest on one backend and thread count. */
export async function benchMatmul(ort: Ort, backend: 'wasm' | 'cpu', threads: number, manifest: MatmulManifest, load: (file: string) => Promise<Uint8Array>, cfg: MatmulConfig, log: (text: string) => void): Promise<MatmulRow[]> {
  const rows: MatmulRow[] = [];
  for (const s of manifest.shapes.filter((x) => !cfg.shapes.length || cfg.shapes.includes(x.name))) {
    const a = floats(await load(s.a));
    const ref = floats(await load(s.ref));
    // fp32 first: the other variants' outputs are compared with its.
    const order = [...new Set(['fp32' as const, ...cfg.variants])];
    const fp32Y = new Map<number, Float32Array>();
    for (const variant of order) {
      const timed = await timeGraph(ort, await load(s.graphs[variant]), backend, threads, a, s.K, { ...cfg, ms: s.ms ?? cfg.ms });
      for (const t of timed) {
        if (variant === 'fp32') fp32Y.set(t.M, t.y);
        const r = ref.subarray(0, t.M * s.N);
        const row: MatmulRow = { shape: s.name, K: s.K, N: s.N, variant, M: t.M, threads, ms: t.ms, minMs: t.minMs, maxAbsVsFp32: maxAbsDiff(t.y, fp32Y.get(t.M)!), maxAbsVsRef: maxAbsDiff(t.y, r), refMaxAbs: maxAbsDiff(r, new Float32Array(r.length)) };
        log(`${backend} ${threads}t ${s.name} ${variant} M=${t.M}: ${t.ms.toFixed(2)} ms (min ${t.minMs.toFixed(2)}), |Δ fp32| ${row.maxAbsVsFp32.toExponential(2)}, |Δ ref| ${row.maxAbsVsRef.toExponential(2)}`);
        rows.push(row);
      }
    }
  }
  return rows.filter((r) => cfg.variants.includes(r.variant));
}
