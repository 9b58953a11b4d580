/** Page of bench/matmul-wasm.ts: one module worker per request (a fresh wasm module, so each its own thread count). */
import type { MatmulRow } from './matmul-core';
import type { MatmulMessage, MatmulRequest } from './matmul-worker';
import { runBenchWorker } from './worker-run';

declare global {
  interface Window {
    benchMatmul: (req: MatmulRequest) => Promise<{ rows: MatmulRow[]; threads: number; isolated: boolean }>;
  }
}

window.benchMatmul = (req) =>
  runBenchWorker<Extract<MatmulMessage, { type: 'done' }>, { rows: MatmulRow[]; threads: number; isolated: boolean }>(new Worker(new URL('./matmul-worker.ts', import.meta.url), { type: 'module' }), req, (m) => ({
    rows: m.rows,
    threads: m.threads,
    isolated: crossOriginIsolated,
  }));

document.getElementById('status')!.textContent = 'ready';
