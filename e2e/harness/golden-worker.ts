/// <reference lib="webworker" />
/**
 * Test-only worker: loads the tiny bundle by URL, creates the sessions on the requested
 * backend with the app's own code, runs golden cases through `captionMedia` on in-memory
 * inputs (the reference's exact frames and audio) and reports ids, layouts and memory.
 */
import { loadBundle, UrlBundleSource } from '../../src/core/bundle';
import { captionMedia, disposeModel, loadModel } from '../../src/core/caption';
import { serializeError } from '../../src/core/errors';
import { MemoryMediaSource } from '../../src/core/media/memory-source';
import { probeCapabilities } from '../../src/core/runtime/capabilities';
import { compareTokens, goldenMedia, goldenOptions, stats, statsMismatch, type Golden, type Stats } from '../../src/core/testing/golden';
import { ortWeb } from '../../src/worker/ort-web';

export interface GoldenRequest {
  prefer: 'auto' | 'wasm';
  /** Case names to run (all when absent) and how many times to repeat the whole set. */
  cases?: string[];
  repeat?: number;
  marginTolerance: number;
}

export interface GoldenRunResult {
  name: string;
  ids: number[];
  expectedIds: number[];
  layoutOk: boolean;
  promptTokensOk: boolean;
  framesOk: boolean;
  /** Intermediate tensors against PyTorch: the first statistic off by more than 1e-4, per tensor (null = within). */
  tensors: Record<string, string | null>;
  comparison: ReturnType<typeof compareTokens>;
}

export interface GoldenResult {
  /** WASM threads ORT was configured with, and whether the worker is cross-origin isolated. */
  threads: number;
  isolated: boolean;
  backends: Record<string, string>;
  adapter: string | null;
  runs: GoldenRunResult[];
  /** performance.memory.usedJSHeapSize after each repeat (Chromium), bytes. */
  heap: number[];
  error?: ReturnType<typeof serializeError>;
}

const scope = self as unknown as DedicatedWorkerGlobalScope;
/** fp32 ONNX graphs on WASM/WebGPU vs torch fp32. */
const TENSOR_TOLERANCE = 1e-4;

async function fetchBytes(url: string): Promise<Uint8Array> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

function usedHeap(): number {
  const mem = (performance as Performance & { memory?: { usedJSHeapSize: number } }).memory;
  return mem?.usedJSHeapSize ?? -1;
}

scope.onmessage = async (ev: MessageEvent<GoldenRequest>) => {
  const req = ev.data;
  const base = new URL('/bundles/tiny/', scope.location.href).href;
  const ort = ortWeb();
  const result: GoldenResult = { threads: Number(ort.env.wasm.numThreads), isolated: Boolean(scope.crossOriginIsolated), backends: {}, adapter: null, runs: [], heap: [] };
  try {
    const bundle = await loadBundle(new UrlBundleSource(base, { cache: false }));
    const golden = bundle.golden as unknown as Golden;
    const caps = await probeCapabilities(scope as unknown as typeof globalThis);
    const webgpu = req.prefer === 'wasm' ? null : caps.webgpu;
    result.adapter = webgpu ? `${webgpu.vendor} ${webgpu.architecture}` : null;
    const model = await loadModel(ort, bundle, { prefer: req.prefer, platform: 'web', capabilities: { webgpu } });
    result.backends = { ...model.backends };
    const fixtureCase = golden.cases.find((c) => c.source.kind === 'ffmpeg-fixture');
    const fixture = fixtureCase
      ? {
          frames: await fetchBytes(base + fixtureCase.source.decodedFrames!.path),
          audio: new Float32Array((await fetchBytes(base + fixtureCase.source.decodedAudio!.path)).buffer),
        }
      : undefined;
    const cases = golden.cases.filter((c) => !req.cases || req.cases.includes(c.name));
    for (let r = 0; r < (req.repeat ?? 1); r++) {
      for (const c of cases) {
        for (const run of c.runs) {
          const media = new MemoryMediaSource(goldenMedia(c, model.manifest.audio.sampleRate, c.source.kind === 'ffmpeg-fixture' ? fixture : undefined));
          const ours = new Map<string, Stats>();
          const onTensor = (name: string, data: Float32Array, shape: number[]) => ours.set(name, stats(data, shape));
          const { report } = await captionMedia(model, media, goldenOptions(golden, run, model.manifest, 64), { onTensor });
          const refs: [string, Stats][] = [['inputsEmbeds', run.inputsEmbeds]];
          if (run.modality !== 'audio') refs.push(['visionFeatures', c.visionFeatures]);
          if (run.modality !== 'video') refs.push(['audioFeatures', c.audioFeatures]);
          const tensors = Object.fromEntries(refs.map(([name, ref]) => [name, ours.has(name) ? statsMismatch(ours.get(name)!, ref, TENSOR_TOLERANCE) : 'missing']));
          const layout = report.layout.filter((l) => l.frame !== null);
          const trailing = report.layout.find((l) => l.frame === null)?.audioTokens ?? 0;
          result.runs.push({
            name: `${c.name}: ${run.modality}/${run.interleave}`,
            ids: report.generatedTokenIds,
            expectedIds: run.generated.ids,
            layoutOk: JSON.stringify(layout) === JSON.stringify(run.layout) && trailing === run.trailingAudio,
            promptTokensOk: report.promptTokens === run.promptLength,
            tensors,
            framesOk: run.modality === 'audio' || JSON.stringify(report.frames.map((f) => f.timestamp)) === JSON.stringify(c.timestamps),
            comparison: compareTokens(report.generatedTokenIds, run.generated, req.marginTolerance),
          });
        }
      }
      result.heap.push(usedHeap());
    }
    await disposeModel(model);
  } catch (e) {
    result.error = serializeError(e);
  }
  scope.postMessage(result);
};
