/**
 * onnxruntime-web for the worker: the WebGPU build (native WebGPU EP, also runs WASM),
 * its wasm/mjs files served as static files under /ort/ (vite.config.ts), and threads
 * only where the page is cross-origin isolated.
 */
import * as ort from 'onnxruntime-web/webgpu';
import type { Ort } from '../core/runtime/ort';
import { wasmThreadCount } from '../core/runtime/capabilities';

let configured = false;

export function ortWeb(): Ort {
  if (!configured) {
    const scope = globalThis as typeof globalThis & { crossOriginIsolated?: boolean };
    ort.env.wasm.wasmPaths = new URL('/ort/', scope.location.href).href;
    ort.env.wasm.numThreads = wasmThreadCount(Boolean(scope.crossOriginIsolated), navigator.hardwareConcurrency ?? 1);
    ort.env.logLevel = 'error';
    configured = true;
  }
  return ort as unknown as Ort;
}
