/**
 * What compute this JavaScript environment offers: a WebGPU adapter (and whether it has
 * shader-f16, which fp16 graphs need), threads for WASM, WebCodecs. Works in a window, a
 * worker or Node (where there is no `navigator.gpu`).
 */

export interface GpuAdapterFacts {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallback: boolean;
  shaderF16: boolean;
  maxBufferSize: number;
}

export interface Capabilities {
  webgpu: GpuAdapterFacts | null;
  /** Why there is no adapter, when there is none. */
  webgpuUnavailableReason: string | null;
  crossOriginIsolated: boolean;
  /** Threads WASM may use: > 1 only when cross-origin isolated. */
  wasmThreads: number;
  webcodecs: boolean;
}

interface GpuLike {
  requestAdapter(options?: { powerPreference?: string }): Promise<GPUAdapter | null>;
}

/** Reads the adapter's facts; `info` is the modern attribute, older builds lack it. */
export function adapterFacts(adapter: GPUAdapter): GpuAdapterFacts {
  const info = (adapter as GPUAdapter & { info?: GPUAdapterInfo }).info;
  const fallback = (info as (GPUAdapterInfo & { isFallbackAdapter?: boolean }) | undefined)?.isFallbackAdapter;
  return {
    vendor: info?.vendor ?? '',
    architecture: info?.architecture ?? '',
    device: info?.device ?? '',
    description: info?.description ?? '',
    isFallback: Boolean(fallback ?? (adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter),
    shaderF16: adapter.features.has('shader-f16'),
    maxBufferSize: Number(adapter.limits.maxBufferSize),
  };
}

export async function probeWebGpu(gpu: GpuLike | undefined): Promise<{ facts: GpuAdapterFacts | null; reason: string | null }> {
  if (!gpu) return { facts: null, reason: 'This browser has no WebGPU (navigator.gpu is missing).' };
  try {
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) return { facts: null, reason: 'WebGPU is present but no adapter was offered (GPU blocklisted or disabled).' };
    return { facts: adapterFacts(adapter), reason: null };
  } catch (e) {
    return { facts: null, reason: `Requesting a WebGPU adapter failed: ${e instanceof Error ? e.message : String(e)}` };
  }
}

export async function probeCapabilities(scope: typeof globalThis = globalThis): Promise<Capabilities> {
  const nav = (scope as { navigator?: Navigator }).navigator;
  const { facts, reason } = await probeWebGpu((nav as Navigator & { gpu?: GpuLike } | undefined)?.gpu);
  const isolated = Boolean((scope as { crossOriginIsolated?: boolean }).crossOriginIsolated);
  return {
    webgpu: facts,
    webgpuUnavailableReason: reason,
    crossOriginIsolated: isolated,
    wasmThreads: wasmThreadCount(isolated, nav?.hardwareConcurrency ?? 1),
    webcodecs: typeof (scope as { VideoDecoder?: unknown }).VideoDecoder === 'function',
  };
}

/** Threaded WASM needs SharedArrayBuffer, hence isolation; ORT gains little past 4 threads. */
export function wasmThreadCount(crossOriginIsolated: boolean, hardwareConcurrency: number): number {
  if (!crossOriginIsolated) return 1;
  return Math.max(1, Math.min(4, Math.floor(hardwareConcurrency)));
}

/** One line for the UI: "WebGPU · google swiftshader (fallback) · no shader-f16" or "WASM only". */
export function describeBackend(c: Pick<Capabilities, 'webgpu'>): string {
  const g = c.webgpu;
  if (!g) return 'WASM only';
  const name = [g.vendor, g.architecture].filter(Boolean).join(' ') || g.description || 'unknown adapter';
  const parts = ['WebGPU', name + (g.isFallback ? ' (software fallback)' : ''), g.shaderF16 ? 'shader-f16' : 'no shader-f16'];
  return parts.join(' · ');
}
