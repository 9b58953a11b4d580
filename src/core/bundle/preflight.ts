/**
 * Preflight: can this bundle run here? Decided from bundle.json alone (dtype, device,
 * largestTensorBytes, bytes of every graph) and the adapter's facts, before anything but
 * bundle.json is downloaded. Each graph gets the backend its plan allows
 * (runtime/backend.ts); the graphs that land on WASM must fit its heap together, because
 * every WASM session shares one 4 GiB wasm32 heap and ORT holds a graph's weights there
 * about twice while creating the session (a 2 GB fp32 decoder fails, bench/README.md).
 * WebGPU weights go straight into GPU buffers (ENVIRONMENT.md), so GPU graphs only need
 * every tensor to fit `maxBufferSize` and fp16 graphs `shader-f16`; how much memory the GPU
 * has is not exposed to the page, so the GPU total is reported, not checked.
 */
import { CaptionError } from '../errors';
import { familyById } from '../families';
import { planBackends, type RuntimeOptions } from '../runtime/backend';
import { formatBytes } from './format';
import { GPU_WEIGHT_BUDGET, planMemory, wasmPeak, type MemoryPlan } from './memory';

export { formatBytes };
import type { Backend } from '../runtime/ort';
import type { BundleManifest, GraphName } from './manifest';
import { graphRoles } from './validate';

/** Weights (graph + external data) the WASM graphs may hold together. */
export const WASM_WEIGHT_BUDGET = 1.5 * 2 ** 30;

export interface GraphPreflight {
  backend: Backend;
  /** Graph file + its external-data chunks. */
  bytes: number;
  /** Why the GPU was passed over (null when it was not). */
  reason: string | null;
}

export interface PreflightReport {
  /** The manifest's name. */
  name: string;
  graphs: Record<GraphName, GraphPreflight>;
  /** Bytes of every file of the bundle (the download when nothing is cached). */
  downloadBytes: number;
  /** Weights that go to WebGPU / to the WASM heap. */
  gpuBytes: number;
  wasmBytes: number;
  /** Low-memory mode or not, and why (bundle/memory.ts). */
  memory: MemoryPlan;
  /** Why it cannot run here, in words (empty when it can). */
  problems: string[];
}

/** Where each graph would run and whether the whole bundle fits this device. */
export function preflight(manifest: BundleManifest, runtime: RuntimeOptions, wasmBudget = WASM_WEIGHT_BUDGET): PreflightReport {
  const graphs: Record<GraphName, GraphPreflight> = {};
  let gpuBytes = 0;
  let wasmBytes = 0;
  let downloadBytes = manifest.tokenizer.files.reduce((s, f) => s + f.bytes, 0) + (manifest.golden?.bytes ?? 0);
  for (const role of graphRoles(manifest)) {
    const g = manifest.graphs[role];
    const bytes = g.bytes + g.externalData.reduce((s, f) => s + f.bytes, 0);
    downloadBytes += bytes;
    const plan = planBackends(g, runtime);
    const backend = plan.order[0];
    graphs[role] = { backend, bytes, reason: plan.reason };
    if (backend === 'webgpu') gpuBytes += bytes;
    else wasmBytes += bytes;
  }
  const llmRoles = new Set(familyById(manifest.family).graphs.filter((g) => g.llm).map((g) => g.role));
  const memory = planMemory(graphs, llmRoles, runtime.lowMemory ?? 'auto', runtime.platform, { wasm: wasmBudget, gpu: GPU_WEIGHT_BUDGET });
  const problems: string[] = [];
  // The heap must hold every WASM graph at once, or one stage's in low-memory mode.
  if (runtime.platform === 'web' && wasmPeak(memory) > wasmBudget) problems.push(wasmProblem(graphs, memory, wasmBudget));
  return { name: manifest.name, graphs, downloadBytes, gpuBytes, wasmBytes, memory, problems };
}

/** What is over the WASM budget, naming the large graphs and why they are not on the GPU. */
function wasmProblem(graphs: Record<GraphName, GraphPreflight>, memory: MemoryPlan, wasmBudget: number): string {
  const onWasm = Object.entries(graphs).filter(([, g]) => g.backend !== 'webgpu');
  const why = onWasm
    .filter(([, g]) => g.bytes > 64 * 2 ** 20)
    .map(([role, g]) => `${role} (${formatBytes(g.bytes)}${g.reason ? `: ${g.reason}` : ''})`)
    .join('; ');
  const { encoders, llm } = memory.stages;
  const what = memory.lowMemory ? `Even one stage at a time (low-memory mode), ${formatBytes(wasmPeak(memory))}` : `${formatBytes(encoders.wasm + llm.wasm)}`;
  const hint = !memory.lowMemory && Math.max(encoders.wasm, llm.wasm) <= wasmBudget ? ' Low-memory mode (setting "auto" or "on") would run it one stage at a time.' : '';
  return `${what} of weights would run on WASM, more than the ${formatBytes(wasmBudget)} WASM can hold${why ? ` — ${why}` : ''}.${hint}`;
}

/** Throws `bundle/unsupported` naming what this device lacks, when the bundle cannot run here. */
export function assertRunnable(manifest: BundleManifest, runtime: RuntimeOptions, wasmBudget = WASM_WEIGHT_BUDGET): PreflightReport {
  const report = preflight(manifest, runtime, wasmBudget);
  if (report.problems.length) {
    throw new CaptionError(
      'bundle/unsupported',
      `The model "${manifest.name}" cannot run on this device, so nothing was downloaded: ${report.problems.join(' ')} Use a GPU that has what it needs, or a smaller or differently quantised variant of the model.`,
      { name: manifest.name, problems: report.problems, gpuBytes: report.gpuBytes, wasmBytes: report.wasmBytes, downloadBytes: report.downloadBytes },
    );
  }
  return report;
}

/**
 * Why a variant is passed over here (null: it is taken): it cannot run, or — unless it is the
 * last one — it only runs because its fp16 graphs fell back to WASM, so a later one that runs
 * on the GPU wins. Variants built one at a time (bundle/hub-preset.ts) ask this of each.
 */
export function variantProblem(manifest: BundleManifest, runtime: RuntimeOptions, last: boolean, wasmBudget = WASM_WEIGHT_BUDGET): { report: PreflightReport; problem: string | null } {
  const report = preflight(manifest, runtime, wasmBudget);
  const fp16OffGpu = Object.values(report.graphs).some((g) => g.reason?.includes('shader-f16'));
  if (report.problems.length) return { report, problem: report.problems.join(' ') };
  return { report, problem: fp16OffGpu && !last ? 'its fp16 graphs would leave the GPU (no shader-f16)' : null };
}

/**
 * The first variant that can run here (variants best first, e.g. q4f16 then q4), with the
 * reasons each earlier one was passed over; `bundle/unsupported` naming every variant's
 * reason when none can.
 */
export function pickVariant<T extends { manifest: BundleManifest }>(variants: readonly T[], runtime: RuntimeOptions, wasmBudget = WASM_WEIGHT_BUDGET): { variant: T; report: PreflightReport; skipped: string[] } {
  const skipped: string[] = [];
  for (const v of variants) {
    const { report, problem } = variantProblem(v.manifest, runtime, v === variants.at(-1), wasmBudget);
    if (problem === null) return { variant: v, report, skipped };
    skipped.push(`${v.manifest.name}: ${problem}`);
  }
  throw new CaptionError('bundle/unsupported', `No variant of this model can run on this device, so nothing was downloaded: ${skipped.join(' | ')}`, { skipped });
}
