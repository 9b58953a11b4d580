/** Page of the runtime bench: starts bench/runtime-worker.ts and exposes `window.benchRuntime`. */
import type { StageResult, StepSplit } from './runtime-core';
import type { WebGpuInfo, WorkerBenchMessage, WorkerBenchRequest } from './runtime-worker';

declare global {
  interface Window {
    benchRuntime: (req: WorkerBenchRequest) => Promise<{ result: StageResult; split?: StepSplit[]; threads: number; isolated: boolean; webgpu?: WebGpuInfo }>;
    benchLog: (text: string) => void;
  }
}

window.benchRuntime = (req) =>
  new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./runtime-worker.ts', import.meta.url), { type: 'module' });
    worker.onmessage = (e: MessageEvent<WorkerBenchMessage>) => {
      const m = e.data;
      if (m.type === 'log') console.log(m.text);
      else {
        worker.terminate();
        if (m.type === 'done') resolve({ result: m.result, split: m.split, threads: m.threads, isolated: crossOriginIsolated, webgpu: m.webgpu });
        else reject(new Error(m.message));
      }
    };
    worker.onerror = (e) => {
      worker.terminate();
      reject(new Error(e.message || 'the bench worker crashed'));
    };
    worker.postMessage(req);
  });

document.getElementById('status')!.textContent = 'ready';
