/** Why the loaded model runs where it runs, in words for the Compute backend panel. */
import type { Capabilities, GpuAdapterFacts } from '../../core/runtime/capabilities';

export interface LoadedBackends {
  backends: Record<string, string>;
  adapter: GpuAdapterFacts | null;
  fallbackReasons: string[];
}

/**
 * Null while no model is loaded or when it runs on a hardware WebGPU adapter. For WASM it
 * says why: the switch, no WebGPU at all, only a software (fallback) adapter, or the
 * reasons the runtime gave.
 */
export function backendReason(caps: Pick<Capabilities, 'webgpu' | 'webgpuUnavailableReason'> | null, ready: LoadedBackends | null, prefer: string): string | null {
  if (!ready) return null;
  const used = new Set(Object.values(ready.backends));
  const adapter = ready.adapter ?? caps?.webgpu ?? null;
  if (used.has('webgpu')) {
    if (used.size > 1 && ready.fallbackReasons.length) return `Some graphs run on WASM: ${ready.fallbackReasons.join('; ')}`;
    return adapter?.isFallback ? 'WebGPU on a software adapter: correct, but much slower than WASM.' : null;
  }
  if (prefer === 'wasm') return 'WASM, because “Force WASM” is on.';
  if (!adapter) return `WASM, because this browser offers no WebGPU${caps?.webgpuUnavailableReason ? ` (${caps.webgpuUnavailableReason})` : ''}.`;
  if (adapter.isFallback) {
    const name = [adapter.vendor, adapter.architecture].filter(Boolean).join(' ') || adapter.description || 'unknown';
    return `WASM, because the only WebGPU adapter is a software fallback (${name}): it computes on the CPU, 20–60× slower than WASM.`;
  }
  if (ready.fallbackReasons.length) return `WASM, because WebGPU failed: ${ready.fallbackReasons.join('; ')}`;
  return 'WASM.';
}
