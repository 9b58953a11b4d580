/** Page of the runtime bench: starts bench/runtime-worker.ts and exposes `window.benchRuntime`. */
import type { StageResult, StepSplit } from './runtime-core';
import type { WebGpuInfo, WorkerBenchMessage, WorkerBenchRequest } from './runtime-worker';
import { runBenchWorker } from './worker-run';

declare global {
  interface Window {
    benchRuntime: (req: WorkerBenchRequest) => Promise<{ result: StageResult; split?: StepSplit[]; threads: number; isolated: boolean; webgpu?: WebGpuInfo }>;
    benchLog: (text: string) => void;
  }
}

window.benchRuntime = (req) =>
  runBenchWorker<Extract<WorkerBenchMessage, { type: 'done' }>, Awaited<ReturnType<Window['benchRuntime']>>>(new Worker(new URL('./runtime-worker.ts', import.meta.url), { type: 'module' }), req, (m) => ({
    result: m.result,
    split: m.split,
    threads: m.threads,
    isolated: crossOriginIsolated,
    webgpu: m.webgpu,
  }));

document.getElementById('status')!.textContent = 'ready';
