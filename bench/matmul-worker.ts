/// <reference lib="webworker" />
/**
 * Chromium side of bench/matmul-wasm.ts: onnxruntime-web as the app's worker loads it
 * (src/worker/ort-web.ts, WASM EP) with the request's thread count, timing the graphs of
 * bench/matmul_graphs.py fetched from the dev server (bench/matmul-core.ts).
 */
import { ortWeb } from '../src/worker/ort-web';
import { benchMatmul, type MatmulConfig, type MatmulManifest, type MatmulRow } from './matmul-core';

export interface MatmulRequest {
  /** URL of the graph folder, ending in '/'. */
  dirUrl: string;
  threads: number;
  config: MatmulConfig;
}

export type MatmulMessage = { type: 'log'; text: string } | { type: 'done'; rows: MatmulRow[]; threads: number } | { type: 'error'; message: string };

const scope = self as unknown as DedicatedWorkerGlobalScope;

/** ORT's log (the wasm module prints through console.*) at INFO, its lines passed to the page. */
function forwardOrtLog(ort: ReturnType<typeof ortWeb>, post: (m: MatmulMessage) => void) {
  ort.env.logLevel = 'info';
  for (const k of ['log', 'info', 'warn', 'error'] as const) {
    const orig = console[k].bind(console);
    console[k] = (...xs: unknown[]) => {
      post({ type: 'log', text: `[ort ${k}] ${xs.map(String).join(' ')}` });
      orig(...xs);
    };
  }
}

scope.onmessage = async (ev: MessageEvent<MatmulRequest>) => {
  const post = (m: MatmulMessage) => scope.postMessage(m);
  try {
    const { dirUrl, threads, config } = ev.data;
    const base = new URL(dirUrl, scope.location.href).href;
    const load = async (file: string) => {
      const res = await fetch(base + file);
      if (!res.ok) throw new Error(`${file}: HTTP ${res.status}`);
      return new Uint8Array(await res.arrayBuffer());
    };
    const ort = ortWeb();
    ort.env.wasm.numThreads = threads; // read when the wasm module starts, i.e. at the first session
    if (config.ortLog) forwardOrtLog(ort, post);
    const manifest = JSON.parse(new TextDecoder().decode(await load('manifest.json'))) as MatmulManifest;
    const rows = await benchMatmul(ort, 'wasm', threads, manifest, load, config, (text) => post({ type: 'log', text }));
    post({ type: 'done', rows, threads: ort.env.wasm.numThreads ?? 1 });
  } catch (e) {
    post({ type: 'error', message: e instanceof Error ? e.message : String(e) });
  }
};
