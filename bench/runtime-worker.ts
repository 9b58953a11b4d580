/// <reference lib="webworker" />
/**
 * Chromium side of bench/runtime.ts: a module worker (as the app's caption worker) that
 * fetches a bundle's graphs from the dev server and times them with onnxruntime-web on
 * WASM or on WebGPU, configured exactly as the app configures it (src/worker/ort-web.ts: on
 * WebGPU the JSPI build where the browser has JSPI), and reports the adapter it ran on.
 */
import type { BundleManifest, GraphName } from '../src/core/bundle/manifest';
import { adapterFacts, type GpuAdapterFacts } from '../src/core/runtime/capabilities';
import { ortWeb, ortWebFor, type OrtBuild } from '../src/worker/ort-web';
import { benchBundle, benchDecodeSplit, type BenchConfig, type RunCopyTrace, type SplitConfig, type StageResult, type StepSplit } from './runtime-core';

export interface WorkerBenchRequest {
  bundleUrl: string;
  config: BenchConfig;
  /** bench/decode-split.ts: the decode-step split at these contexts instead of the stages. */
  split?: SplitConfig[];
  /** The stages on WebGPU instead of WASM (the graphs the manifest places on the CPU stay on WASM). */
  backend?: 'wasm' | 'webgpu';
}

/** What the WebGPU run ran on: the adapter's facts (a software fallback or a real GPU) and the ORT build. */
export interface WebGpuInfo {
  adapter: GpuAdapterFacts;
  ortBuild: OrtBuild;
}

export type WorkerBenchMessage =
  | { type: 'log'; text: string }
  | { type: 'done'; result: StageResult; split?: StepSplit[]; threads: number; webgpu?: WebGpuInfo }
  | { type: 'error'; message: string };

/** The adapter this worker's WebGPU offers (the one ORT's WebGPU EP requests, with the same default options). */
async function webGpuAdapter(): Promise<GpuAdapterFacts> {
  const adapter = await (navigator as Navigator & { gpu?: GPU }).gpu?.requestAdapter();
  if (!adapter) throw new Error('WebGPU: this browser offers no adapter (start Chromium with --enable-unsafe-webgpu, on a GPU machine with its Vulkan/GL drivers)');
  return adapterFacts(adapter);
}

/**
 * ORT-web times its input copies into the wasm heap and output copies out of it with
 * console.time/timeEnd when `env.trace` is set (labels in onnxruntime-web's
 * wasm-core-impl.ts); this collects them instead of printing.
 */
function heapCopyTrace(ort: ReturnType<typeof ortWeb>): RunCopyTrace {
  const labels: Record<string, 'copyIn' | 'copyOut'> = { 'ORT::wasm prepareInputOutputTensor': 'copyIn', 'ORT::wasm ProcessOutputTensor': 'copyOut' };
  const started = new Map<string, number>();
  let acc = { copyIn: 0, copyOut: 0 };
  const { time, timeEnd } = console;
  console.time = (label?: string) => (label && labels[label] ? started.set(label, performance.now()) : time.call(console, label));
  console.timeEnd = (label?: string) => {
    if (label && labels[label]) acc[labels[label]] += performance.now() - (started.get(label) ?? performance.now());
    else timeEnd.call(console, label);
  };
  ort.env.trace = true;
  return {
    take() {
      const r = acc;
      acc = { copyIn: 0, copyOut: 0 };
      return r;
    },
  };
}

const scope = self as unknown as DedicatedWorkerGlobalScope;

async function bytes(url: string): Promise<Uint8Array> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

scope.onmessage = async (ev: MessageEvent<WorkerBenchRequest>) => {
  const { bundleUrl, config } = ev.data;
  const post = (m: WorkerBenchMessage) => scope.postMessage(m);
  try {
    const base = new URL(bundleUrl, scope.location.href).href;
    const manifest = (await (await fetch(base + 'bundle.json')).json()) as BundleManifest;
    const ort = ortWeb();
    const load = async (name: GraphName) => {
      const g = manifest.graphs[name];
      return {
        model: await bytes(base + g.path),
        externalData: await Promise.all(g.externalData.map(async (e) => ({ path: e.path.split('/').pop()!, data: await bytes(base + e.path) }))),
      };
    };
    if (ev.data.split) {
      const copies = heapCopyTrace(ort);
      const split: StepSplit[] = [];
      for (const cfg of ev.data.split) split.push(...(await benchDecodeSplit(ort, manifest, load, 'wasm', ort.env.wasm.numThreads ?? 1, cfg, copies, (text) => post({ type: 'log', text }))));
      post({ type: 'done', result: {} as StageResult, split, threads: ort.env.wasm.numThreads ?? 1 });
      return;
    }
    if (ev.data.backend === 'webgpu') {
      const adapter = await webGpuAdapter();
      const { ort: gpuOrt, build } = await ortWebFor(true);
      post({ type: 'log', text: `WebGPU adapter: ${JSON.stringify(adapter)}, ORT ${build} build` });
      const result = await benchBundle(gpuOrt, manifest, load, 'webgpu', gpuOrt.env.wasm.numThreads ?? 1, config, (text) => post({ type: 'log', text }));
      post({ type: 'done', result, threads: gpuOrt.env.wasm.numThreads ?? 1, webgpu: { adapter, ortBuild: build } });
      return;
    }
    const result = await benchBundle(ort, manifest, load, 'wasm', ort.env.wasm.numThreads ?? 1, config, (text) => post({ type: 'log', text }));
    post({ type: 'done', result, threads: ort.env.wasm.numThreads ?? 1 });
  } catch (e) {
    post({ type: 'error', message: e instanceof Error ? e.message : String(e) });
  }
};
