/**
 * Test-only page for e2e/lite.spec.ts: the picked file goes to a module worker that runs the
 * app's engine on the lite fixture (as the app's worker does); the outcome lands in
 * `window.__lite`.
 */
import type { LiteRequest, LiteResult } from './lite-worker';

declare global {
  interface Window {
    __liteRequest: Omit<LiteRequest, 'file'>;
    __lite: LiteResult | null;
  }
}

window.__lite = null;
const input = document.getElementById('file') as HTMLInputElement;
input.addEventListener('change', () => {
  const file = input.files?.[0];
  if (!file) return;
  document.getElementById('status')!.textContent = 'running';
  const worker = new Worker(new URL('./lite-worker.ts', import.meta.url), { type: 'module' });
  worker.onmessage = (e: MessageEvent<LiteResult>) => {
    window.__lite = e.data;
    document.getElementById('status')!.textContent = 'done';
    worker.terminate();
  };
  worker.onerror = (e) => {
    window.__lite = { error: { code: 'worker', message: e.message, details: {} } } as unknown as LiteResult;
    document.getElementById('status')!.textContent = 'done';
  };
  worker.postMessage({ ...window.__liteRequest, file } satisfies LiteRequest);
});
document.getElementById('status')!.textContent = 'ready';
