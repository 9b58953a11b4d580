/**
 * Test-only page: runs the tiny bundle's golden cases in a module worker, the way the app
 * runs captions, and exposes `window.runGolden(request)` to Playwright.
 */
import type { GoldenRequest, GoldenResult } from './golden-worker';

declare global {
  interface Window {
    runGolden: (req: GoldenRequest) => Promise<GoldenResult>;
  }
}

window.runGolden = (req) =>
  new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./golden-worker.ts', import.meta.url), { type: 'module' });
    worker.onmessage = (e: MessageEvent<GoldenResult>) => {
      worker.terminate();
      resolve(e.data);
    };
    worker.onerror = (e) => {
      worker.terminate();
      reject(new Error(e.message));
    };
    worker.postMessage(req);
  });

document.getElementById('status')!.textContent = 'ready';
