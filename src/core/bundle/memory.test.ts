import { describe, expect, it } from 'vitest';
import type { Backend } from '../runtime/ort';
import { GPU_WEIGHT_BUDGET, planMemory, wasmPeak, type LowMemorySetting } from './memory';

const MiB = 2 ** 20;
const GiB = 2 ** 30;
const BUDGETS = { wasm: 1.5 * GiB, gpu: 4 * GiB };
const LLM = new Set(['embed_tokens', 'decoder_model_merged']);

/** Encoders and LLM graph sizes in MiB on one backend each. */
function graphs(enc: number, encOn: Backend, llm: number, llmOn: Backend) {
  return {
    vision_encoder: { backend: encOn, bytes: (enc / 2) * MiB },
    audio_encoder: { backend: encOn, bytes: (enc / 4) * MiB },
    audio_aligner: { backend: encOn, bytes: (enc / 4) * MiB },
    embed_tokens: { backend: llmOn, bytes: (llm / 4) * MiB },
    decoder_model_merged: { backend: llmOn, bytes: ((3 * llm) / 4) * MiB },
  };
}

// Hand-written: encoders (MiB, backend), LLM (MiB, backend), setting, platform → mode, words of the reason, peak WASM MiB.
const CASES: [number, Backend, number, Backend, LowMemorySetting, 'web' | 'node', boolean, RegExp, number][] = [
  [40, 'wasm', 120, 'wasm', 'auto', 'web', false, /^All graphs fit together \(WASM 160\.0 MiB of 1\.50 GiB, WebGPU 0 bytes of 4\.00 GiB\)/, 160],
  [800, 'wasm', 1000, 'wasm', 'auto', 'web', true, /^1\.76 GiB of weights on WASM exceed its 1\.50 GiB heap budget together \(encoders 800\.0 MiB, LLM 1000\.0 MiB\)/, 1000],
  [1536, 'wasm', 1, 'wasm', 'auto', 'web', true, /on WASM exceed/, 1536],
  [1535, 'wasm', 1, 'wasm', 'auto', 'web', false, /^All graphs fit/, 1536],
  [1200, 'webgpu', 3200, 'webgpu', 'auto', 'web', true, /^4\.30 GiB of weights on WebGPU exceed the 4\.00 GiB this app assumes a GPU holds \(encoders 1\.17 GiB, LLM 3\.13 GiB\)/, 0],
  [1000, 'webgpu', 3000, 'webgpu', 'auto', 'web', false, /^All graphs fit together \(WASM 0 bytes of 1\.50 GiB, WebGPU 3\.91 GiB of 4\.00 GiB\)/, 0],
  [800, 'wasm', 1000, 'wasm', 'off', 'web', false, /^Low-memory mode is off in the settings/, 1800],
  [40, 'wasm', 120, 'wasm', 'on', 'web', true, /^Low-memory mode is on in the settings/, 120],
  [800, 'wasm', 4000, 'wasm', 'auto', 'node', false, /^onnxruntime-node maps the weights from disk/, 4800],
  [40, 'wasm', 120, 'wasm', 'on', 'node', true, /^Low-memory mode is on/, 120],
];

describe('planMemory: the low-memory mode from the manifest sizes', () => {
  it.each(CASES)('encoders %d MiB on %s, LLM %d MiB on %s, %s on %s → low %s', (enc, encOn, llm, llmOn, setting, platform, low, reason, peak) => {
    const plan = planMemory(graphs(enc, encOn, llm, llmOn), LLM, setting, platform, BUDGETS);
    expect(plan.lowMemory).toBe(low);
    expect(plan.setting).toBe(setting);
    expect(plan.reason).toMatch(reason);
    expect(wasmPeak(plan)).toBe(peak * MiB);
  });

  it('splits the bytes into the two stages per backend', () => {
    const plan = planMemory({ ...graphs(100, 'webgpu', 400, 'webgpu'), embed_tokens: { backend: 'wasm', bytes: 100 * MiB } }, LLM, 'auto', 'web', BUDGETS);
    expect(plan.stages).toEqual({ encoders: { wasm: 0, gpu: 100 * MiB }, llm: { wasm: 100 * MiB, gpu: 300 * MiB } });
  });

  it('assumes a 4 GiB GPU', () => {
    expect(GPU_WEIGHT_BUDGET).toBe(4 * GiB);
  });
});
