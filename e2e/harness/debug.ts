/// <reference lib="webworker" />
/**
 * Test-only hooks of the harness caption worker (debug.worker.ts, for
 * e2e/robustness.spec.ts): memory numbers and a real WebGPU device loss. Nothing of this
 * is in the app's worker or protocol.
 *
 * Instrumentation, installed when this module is evaluated (debug.worker.ts imports it
 * first, i.e. before onnxruntime-web creates its wasm memory or its GPU device):
 *  - `WebAssembly.Memory` is subclassed so the worker can read the size of ORT's heap
 *    (a leak of tensors or sessions in the wasm heap grows it; it never shrinks);
 *  - `GPUDevice.prototype.createBuffer` / `GPUBuffer.prototype.destroy` count the GPU
 *    buffers ORT holds (ORT 1.30 exposes no GPU memory figure of its own).
 */
import type { Ort } from '../../src/core/runtime/ort';

/** 'stats': memory numbers; 'lose-gpu-device': destroy the GPUDevice ORT uses. */
export type DebugAction = 'stats' | 'lose-gpu-device';

export interface WorkerStats {
  /** performance.memory.usedJSHeapSize of the worker, −1 where workers lack it. */
  jsHeapBytes: number;
  /** Size of onnxruntime-web's wasm heap (never shrinks), −1 before it exists. */
  wasmMemoryBytes: number;
  /** GPU buffers created through the worker's GPUDevice(s) and not yet destroyed. */
  gpuBuffers: { live: number; liveBytes: number; created: number; destroyed: number };
  /** Tokens streamed by the current/last caption run, and how many when the interrupt arrived. */
  tokens: number;
  tokensAtInterrupt: number | null;
}

export interface DebugResult {
  ok: boolean;
  message?: string;
  stats?: WorkerStats;
}

/** Harness messages: outside the app's protocol (no `id`, so the engine client never sees them). */
export type DebugMessage = { type: 'debug'; debugId: number; action: DebugAction };
export type DebugReply = { type: 'debug-result'; debugId: number; result: DebugResult };

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

install();

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
