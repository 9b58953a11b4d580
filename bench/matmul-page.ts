/** Page of bench/matmul-wasm.ts: one module worker per request (a fresh wasm module, so each its own thread count). */
import type { MatmulRow } from './matmul-core';
import type { MatmulMessage, MatmulRequest } from './matmul-worker';

declare global {
  interface Window {
    benchMatmul: (req: MatmulRequest) => Promise<{ rows: MatmulRow[]; threads: number; isolated: boolean }>;
  }
}

window.benchMatmul = (req) =>
  new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./matmul-worker.ts', import.meta.url), { type: 'module' });
    worker.onmessage = (e: MessageEvent<MatmulMessage>) => {
      const m = e.data;
      if (m.type === 'log') console.log(m.text);
      else {
        worker.terminate();
        if (m.type === 'done') resolve({ rows: m.rows, threads: m.threads, isolated: crossOriginIsolated });
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
