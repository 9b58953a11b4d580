/**
 * Low-memory mode, decided from bundle.json alone: in it the encoders (vision, audio
 * encoder, aligner, a sound tagger) run and are released before the LLM sessions
 * (embed_tokens + decoder) are created, so only one stage's weights are held at a time
 * (families/stages.ts). 'auto' turns it on when the weights of all graphs together exceed a
 * budget and each stage alone fits it:
 *  - WASM: `WASM_WEIGHT_BUDGET` (preflight.ts), the wasm32 heap every WASM session shares;
 *  - WebGPU: `GPU_WEIGHT_BUDGET`. A page cannot read how much memory the GPU has, so the
 *    rule is a fixed budget: 4 GiB of weights, what a laptop's 6–8 GB GPU (or an
 *    integrated one sharing 16 GB) holds besides the KV cache, activations and the
 *    browser's own use. Over it the mode is a precaution, never a refusal;
 *  - Node: onnxruntime-node maps the weights from disk with the machine's memory: no budget.
 */
import type { Backend } from '../runtime/ort';
import { formatBytes } from './format';

export type LowMemorySetting = 'auto' | 'on' | 'off';

export const LOW_MEMORY_SETTINGS: readonly LowMemorySetting[] = ['auto', 'on', 'off'];

/** Weights on WebGPU above which 'auto' runs one stage at a time (see above). */
export const GPU_WEIGHT_BUDGET = 4 * 2 ** 30;

export type StageName = 'encoders' | 'llm';

export interface StageBytes {
  wasm: number;
  gpu: number;
}

export interface MemoryPlan {
  lowMemory: boolean;
  setting: LowMemorySetting;
  /** Why, in words for the page and the report. */
  reason: string;
  /** Weights of each stage per backend. */
  stages: Record<StageName, StageBytes>;
}

export interface MemoryBudgets {
  wasm: number;
  gpu: number;
}

/** The graphs' bytes and backends → the mode. `llmRoles`: the roles of the LLM stage (the rest are encoders). */
export function planMemory(
  graphs: Record<string, { backend: Backend; bytes: number }>,
  llmRoles: ReadonlySet<string>,
  setting: LowMemorySetting,
  platform: 'web' | 'node',
  budgets: MemoryBudgets,
): MemoryPlan {
  const stages: Record<StageName, StageBytes> = { encoders: { wasm: 0, gpu: 0 }, llm: { wasm: 0, gpu: 0 } };
  for (const [role, g] of Object.entries(graphs)) stages[llmRoles.has(role) ? 'llm' : 'encoders'][g.backend === 'webgpu' ? 'gpu' : 'wasm'] += g.bytes;
  const plan = (lowMemory: boolean, reason: string): MemoryPlan => ({ lowMemory, setting, reason, stages });
  if (setting === 'on') return plan(true, 'Low-memory mode is on in the settings: the encoders are released before the LLM is loaded.');
  if (setting === 'off') return plan(false, 'Low-memory mode is off in the settings: every graph stays loaded.');
  if (platform === 'node') return plan(false, 'onnxruntime-node maps the weights from disk: every graph stays loaded.');
  const wasm = stages.encoders.wasm + stages.llm.wasm;
  const gpu = stages.encoders.gpu + stages.llm.gpu;
  const split = (k: keyof StageBytes) => `encoders ${formatBytes(stages.encoders[k])}, LLM ${formatBytes(stages.llm[k])}`;
  if (wasm > budgets.wasm) {
    return plan(true, `${formatBytes(wasm)} of weights on WASM exceed its ${formatBytes(budgets.wasm)} heap budget together (${split('wasm')}): the encoders are released before the LLM is loaded.`);
  }
  if (gpu > budgets.gpu) {
    return plan(true, `${formatBytes(gpu)} of weights on WebGPU exceed the ${formatBytes(budgets.gpu)} this app assumes a GPU holds (${split('gpu')}): the encoders are released before the LLM is loaded.`);
  }
  return plan(false, `All graphs fit together (WASM ${formatBytes(wasm)} of ${formatBytes(budgets.wasm)}, WebGPU ${formatBytes(gpu)} of ${formatBytes(budgets.gpu)}).`);
}

/** The WASM weights that must fit the heap at once: one stage's in low-memory mode, else all. */
export function wasmPeak(plan: MemoryPlan): number {
  const { encoders, llm } = plan.stages;
  return plan.lowMemory ? Math.max(encoders.wasm, llm.wasm) : encoders.wasm + llm.wasm;
}
