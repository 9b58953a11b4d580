/**
 * onnxruntime-web for the worker, its wasm/mjs files served as static files under /ort/
 * (vite.config.ts), threads only where the page is cross-origin isolated. Two builds of
 * the one onnxruntime-web package: the WebGPU build (asyncify: native WebGPU EP, also runs
 * WASM), and the JSPI build where the browser has JSPI and a graph runs on WebGPU (it reads
 * external-data Blob ranges on demand: a lower peak memory while sessions are created).
 */
import * as asyncify from 'onnxruntime-web/webgpu';
import type { Ort } from '../core/runtime/ort';
import { wasmThreadCount } from '../core/runtime/capabilities';

export type OrtBuild = 'jspi' | 'asyncify';

const configured = new Set<unknown>();

function configure(ort: typeof asyncify): Ort {
  if (!configured.has(ort)) {
    const scope = globalThis as typeof globalThis & { crossOriginIsolated?: boolean };
    ort.env.wasm.wasmPaths = new URL('/ort/', scope.location.href).href;
    ort.env.wasm.numThreads = wasmThreadCount(Boolean(scope.crossOriginIsolated), navigator.hardwareConcurrency ?? 1);
    ort.env.logLevel = 'error';
    configured.add(ort);
  }
  return ort as unknown as Ort;
}

/** The asyncify (WebGPU) build: the harnesses' and the fallback. */
export function ortWeb(): Ort {
  return configure(asyncify);
}

/** JSPI (WebAssembly stack switching): `WebAssembly.Suspending` and `WebAssembly.promising`. */
export function hasJspi(wasm: object = WebAssembly): boolean {
  const w = wasm as { Suspending?: unknown; promising?: unknown };
  return typeof w.Suspending === 'function' && typeof w.promising === 'function';
}

export function pickOrtBuild(jspi: boolean, webgpu: boolean): OrtBuild {
  return jspi && webgpu ? 'jspi' : 'asyncify';
}

/** The build for a load (EnginePlatform.ortFor); the JSPI one is fetched only when picked. */
export async function ortWebFor(webgpu: boolean, jspi = hasJspi()): Promise<{ ort: Ort; build: OrtBuild }> {
  const build = pickOrtBuild(jspi, webgpu);
  if (build === 'asyncify') return { ort: ortWeb(), build };
  const ort = (await import('onnxruntime-web/jspi')) as unknown as typeof asyncify;
  return { ort: configure(ort), build };
}
