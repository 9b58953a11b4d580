/** Page of bench/transformers-generate.ts: starts bench/transformers-worker.ts, exposes `window.benchTransformers`. */
import type { TransformersBenchMessage, TransformersBenchRequest } from './transformers-worker';

type Done = Extract<TransformersBenchMessage, { type: 'done' }>;

declare global {
  interface Window {
    benchTransformers: (req: TransformersBenchRequest) => Promise<Done>;
  }
}

window.benchTransformers = (req) =>
  new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./transformers-worker.ts', import.meta.url), { type: 'module' });
    worker.onmessage = (e: MessageEvent<TransformersBenchMessage>) => {
      worker.terminate();
      if (e.data.type === 'done') resolve(e.data);
      else reject(new Error(e.data.message));
    };
    worker.onerror = (e) => {
      worker.terminate();
      reject(new Error(e.message || 'the bench worker crashed'));
    };
    worker.postMessage(req);
  });

document.getElementById('status')!.textContent = 'ready';
