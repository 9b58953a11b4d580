/// <reference lib="webworker" />
/**
 * Chromium side of bench/runtime.ts: a module worker (as the app's caption worker) that
 * fetches a bundle's graphs from the dev server and times them with onnxruntime-web on
 * WASM, configured exactly as the app configures it (src/worker/ort-web.ts).
 */
import type { BundleManifest, GraphName } from '../src/core/bundle/manifest';
import { ortWeb } from '../src/worker/ort-web';
import { benchBundle, type BenchConfig, type StageResult } from './runtime-core';

export interface WorkerBenchRequest {
  bundleUrl: string;
  config: BenchConfig;
}

export type WorkerBenchMessage = { type: 'log'; text: string } | { type: 'done'; result: StageResult; threads: number } | { type: 'error'; message: string };

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
    const result = await benchBundle(ort, manifest, load, 'wasm', ort.env.wasm.numThreads ?? 1, config, (text) => post({ type: 'log', text }));
    post({ type: 'done', result, threads: ort.env.wasm.numThreads ?? 1 });
  } catch (e) {
    post({ type: 'error', message: e instanceof Error ? e.message : String(e) });
  }
};
