/// <reference lib="webworker" />
/**
 * Test-only hooks of the caption worker (e2e/robustness.spec.ts): memory numbers and a
 * real WebGPU device loss. They exist only on the Vite dev server (`import.meta.env.DEV`,
 * replaced by `false` in a production build, so the code is dropped) AND only in a worker
 * whose name starts with `caption-debug` (the test harness names it so; the app never
 * does). Anywhere else `debugEnabled()` is false, nothing is patched, and the worker
 * answers every debug request with `ok: false`.
 *
 * Instrumentation, installed at module evaluation, i.e. before onnxruntime-web creates its
 * wasm memory or its GPU device:
 *  - `WebAssembly.Memory` is subclassed so the worker can read the size of ORT's heap
 *    (a leak of tensors or sessions in the wasm heap grows it; it never shrinks);
 *  - `GPUDevice.prototype.createBuffer` / `GPUBuffer.prototype.destroy` count the GPU
 *    buffers ORT holds (ORT 1.30 exposes no GPU memory figure of its own).
 */
import type { Ort } from '../core/runtime/ort';
import type { DebugResult, WorkerStats } from './protocol';

export function debugEnabled(): boolean {
  return import.meta.env.DEV && typeof self !== 'undefined' && typeof self.name === 'string' && self.name.startsWith('caption-debug');
}

const memories: WebAssembly.Memory[] = [];
const gpu = { created: 0, destroyed: 0, liveBytes: 0, live: new Map<GPUBuffer, number>() };

function install(): void {
  const Base = WebAssembly.Memory;
  class CountedMemory extends Base {
    constructor(descriptor: WebAssembly.MemoryDescriptor) {
      super(descriptor);
      memories.push(this);
    }
  }
  (WebAssembly as { Memory: typeof WebAssembly.Memory }).Memory = CountedMemory;

  const G = globalThis as { GPUDevice?: { prototype: GPUDevice }; GPUBuffer?: { prototype: GPUBuffer } };
  if (G.GPUDevice && G.GPUBuffer) {
    const create = G.GPUDevice.prototype.createBuffer;
    G.GPUDevice.prototype.createBuffer = function (this: GPUDevice, desc: GPUBufferDescriptor) {
      const buf = create.call(this, desc);
      gpu.created++;
      gpu.live.set(buf, desc.size);
      gpu.liveBytes += desc.size;
      return buf;
    };
    const destroy = G.GPUBuffer.prototype.destroy;
    G.GPUBuffer.prototype.destroy = function (this: GPUBuffer) {
      const size = gpu.live.get(this);
      if (size !== undefined) {
        gpu.live.delete(this);
        gpu.liveBytes -= size;
        gpu.destroyed++;
      }
      return destroy.call(this);
    };
  }
}

if (debugEnabled()) install();

/** Interrupt accounting of the current run: tokens streamed before and after the interrupt. */
export const runStats = { tokens: 0, tokensAtInterrupt: null as number | null };

export function stats(): WorkerStats {
  const mem = (performance as Performance & { memory?: { usedJSHeapSize: number } }).memory;
  const wasm = memories.filter((m) => m.buffer.byteLength > 0);
  return {
    jsHeapBytes: mem?.usedJSHeapSize ?? -1,
    wasmMemoryBytes: wasm.length ? Math.max(...wasm.map((m) => m.buffer.byteLength)) : -1,
    gpuBuffers: { live: gpu.live.size, liveBytes: gpu.liveBytes, created: gpu.created, destroyed: gpu.destroyed },
    tokens: runStats.tokens,
    tokensAtInterrupt: runStats.tokensAtInterrupt,
  };
}

/**
 * Destroys the GPUDevice onnxruntime-web uses: a real device loss (its `lost` promise
 * resolves with reason 'destroyed', every later GPU call fails). Only when a WebGPU
 * session exists: reading `env.webgpu.device` earlier would create a device instead.
 */
export async function loseGpuDevice(ort: Ort, usesWebGpu: boolean): Promise<DebugResult> {
  if (!usesWebGpu) return { ok: false, message: 'no session runs on WebGPU' };
  const device = await ort.env.webgpu.device;
  device.destroy();
  return { ok: true, message: `destroyed ${device.adapterInfo?.vendor ?? ''} ${device.adapterInfo?.architecture ?? ''}`.trim() };
}
