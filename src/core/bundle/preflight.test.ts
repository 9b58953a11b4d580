import { describe, expect, it } from 'vitest';
import type { RuntimeOptions } from '../runtime/backend';
import type { GpuAdapterFacts } from '../runtime/capabilities';
import { sampleManifest } from './fake-bundle.testutil';
import type { BundleManifest, GraphDtype } from './manifest';
import { WASM_WEIGHT_BUDGET, assertRunnable, pickVariant, preflight } from './preflight';

const GB = 1e9;
const GiB = 2 ** 30;
const gpu = (o: Partial<GpuAdapterFacts> = {}): GpuAdapterFacts => ({ vendor: 'v', architecture: 'a', device: '', description: '', isFallback: false, shaderF16: true, maxBufferSize: 2 ** 31, ...o });
const web = (adapter: GpuAdapterFacts | null, prefer: RuntimeOptions['prefer'] = 'auto'): RuntimeOptions => ({ platform: 'web', prefer, adapter });

/** A 7B-shaped q4 manifest: a 4.3 GB decoder in three chunks, its largest tensor 0.55 GB. */
function big(dtype: GraphDtype, name = `7b-${dtype}`): BundleManifest {
  const m = sampleManifest();
  m.name = name;
  for (const g of Object.values(m.graphs)) {
    g.bytes = 1_000_000;
    g.dtype = dtype;
  }
  const dec = m.graphs.decoder_model_merged;
  dec.externalData = [1.9 * GB, 1.9 * GB, 0.5 * GB].map((bytes, i) => ({ path: `onnx/decoder_model_merged.onnx_data${i ? `_${i}` : ''}`, bytes, sha256: '0'.repeat(64) }));
  dec.largestTensorBytes = 0.55 * GB;
  return m;
}

describe('preflight: from bundle.json and the adapter, before any download', () => {
  it('puts a q4 7B on a real GPU and counts its bytes', () => {
    const r = assertRunnable(big('q4'), web(gpu()));
    expect(r.graphs.decoder_model_merged).toMatchObject({ backend: 'webgpu', bytes: 4.3 * GB + 1_000_000 });
    expect(r.graphs.embed_tokens.backend).toBe('wasm'); // the manifest places it on the CPU
    expect(r.gpuBytes).toBe(4.3 * GB + 4_000_000);
    expect(r.wasmBytes).toBe(1_000_000);
    expect(r.problems).toEqual([]);
  });

  it("refuses a tensor over the adapter's maxBufferSize when WASM cannot hold the graph either, naming both", () => {
    const m = big('q4');
    m.graphs.decoder_model_merged.largestTensorBytes = 1.09 * GB;
    let err: unknown;
    try {
      assertRunnable(m, web(gpu({ maxBufferSize: 2 ** 30 })));
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'bundle/unsupported' });
    const msg = (err as Error).message;
    expect(msg).toContain('nothing was downloaded');
    expect(msg).toContain('decoder_model_merged');
    expect(msg).toContain(`largest tensor (${1.09 * GB} bytes) exceeds this GPU's maxBufferSize (${2 ** 30} bytes)`);
    expect(msg).toContain('1.50 GiB WASM can hold');
  });

  it('refuses q4f16 without shader-f16 when the fallback does not fit WASM', () => {
    const r = preflight(big('q4f16'), web(gpu({ shaderF16: false })));
    expect(r.graphs.decoder_model_merged.backend).toBe('wasm');
    expect(r.problems.join(' ')).toMatch(/q4f16 and this GPU has no shader-f16/);
  });

  it('refuses a large model without WebGPU, and with WASM chosen', () => {
    expect(preflight(big('q4'), web(null)).problems.join(' ')).toMatch(/No WebGPU adapter/);
    expect(preflight(big('q4'), web(gpu(), 'wasm')).problems.join(' ')).toMatch(/WASM was chosen/);
  });

  it('lets small bundles run on WASM, and never refuses on Node', () => {
    expect(preflight(sampleManifest(), web(null)).problems).toEqual([]);
    const m = big('q4');
    expect(preflight(m, { platform: 'node', prefer: 'auto', adapter: null }).problems).toEqual([]);
    const justUnder = sampleManifest();
    justUnder.graphs.decoder_model_merged.bytes = WASM_WEIGHT_BUDGET;
    expect(preflight(justUnder, web(null)).problems).toEqual([]);
  });

  it('accepts a bundle that fits WASM only one stage at a time, and says it runs in low-memory mode', () => {
    const m = sampleManifest();
    m.graphs.vision_encoder.bytes = 0.9 * GiB; // encoders 0.9 GiB + LLM 1.0 GiB: over 1.5 together, each under
    m.graphs.decoder_model_merged.bytes = 1.0 * GiB;
    const r = assertRunnable(m, web(null));
    expect(r.memory.lowMemory).toBe(true);
    expect(r.memory.reason).toMatch(/on WASM exceed its 1\.50 GiB heap budget together .*the encoders are released before the LLM is loaded/);
    expect(r.problems).toEqual([]);
    // Off in the settings: refused, saying that low-memory mode would run it.
    const off = preflight(m, { ...web(null), lowMemory: 'off' });
    expect(off.memory.lowMemory).toBe(false);
    expect(off.problems.join(' ')).toMatch(/of weights would run on WASM, more than the 1\.50 GiB WASM can hold.* Low-memory mode \(setting "auto" or "on"\) would run it one stage at a time\./);
  });

  it('refuses a bundle whose LLM alone is over the WASM budget, even in low-memory mode', () => {
    const m = sampleManifest();
    m.graphs.decoder_model_merged.bytes = 1.6 * GiB;
    const r = preflight(m, { ...web(null), lowMemory: 'on' });
    expect(r.problems.join(' ')).toMatch(/^Even one stage at a time \(low-memory mode\), 1\.60 GiB of weights would run on WASM, more than the 1\.50 GiB WASM can hold/);
    expect(r.problems.join(' ')).not.toContain('would run it one stage at a time');
  });

  it('picks q4f16 where the GPU has shader-f16 and q4 where it has not', () => {
    const variants = [{ id: 'q4f16', manifest: big('q4f16') }, { id: 'q4', manifest: big('q4') }];
    expect(pickVariant(variants, web(gpu())).variant.id).toBe('q4f16');
    const noF16 = pickVariant(variants, web(gpu({ shaderF16: false })));
    expect(noF16.variant.id).toBe('q4');
    expect(noF16.skipped[0]).toMatch(/^7b-q4f16: .*shader-f16/);
  });

  it('says why no variant fits', () => {
    const variants = [{ manifest: big('q4f16') }, { manifest: big('q4') }];
    expect(() => pickVariant(variants, web(null))).toThrow(/No variant of this model can run on this device.*7b-q4f16.*7b-q4:/);
  });
});
