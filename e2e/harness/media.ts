/**
 * Test-only page script: the file from the real <input type=file> goes to a Web Worker
 * (media-worker.ts) as in the app; the result lands on window.__media for Playwright.
 */
import type { HarnessRequest } from './media-worker';

interface HarnessState {
  status: 'idle' | 'running' | 'done' | 'error';
  result?: unknown;
  error?: { code: string; message: string; details: Record<string, unknown> };
  /** Audio workers made / terminated (media-worker.ts), on errors too. */
  audioWorkers?: { spawned: number; terminated: number };
}

declare global {
  interface Window {
    __media: HarnessState;
    __mediaOptions?: Partial<Omit<HarnessRequest, 'file'>>;
  }
}

window.__media = { status: 'idle' };
const input = document.getElementById('file') as HTMLInputElement;
const status = document.getElementById('status')!;
const raw = document.getElementById('raw') as HTMLInputElement;

input.addEventListener('change', () => {
  const file = input.files?.[0];
  if (!file) return;
  window.__media = { status: 'running' };
  status.textContent = `decoding ${file.name}…`;
  const worker = new Worker(new URL('./media-worker.ts', import.meta.url), { type: 'module' });
  const o = window.__mediaOptions ?? {};
  const req: HarnessRequest = {
    file,
    // the numbers a bundle manifest carries (src/core/bundle/manifest.ts) for the 7B checkpoint
    sampling: o.sampling ?? { fps: 1, maxFrames: 30, minFrames: 2 },
    vision: o.vision ?? { imageSize: 384, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
    audio: o.audio ?? { sampleRate: 16000, windowSeconds: 30 },
    raw: o.raw ?? raw.checked,
    planOnly: o.planOnly,
    maxWindows: o.maxWindows,
    channel: o.channel,
    concurrent: o.concurrent,
    scenes: o.scenes,
    skipNonReference: o.skipNonReference,
    videoDecoders: o.videoDecoders,
    audioWorker: o.audioWorker,
    skipFrames: o.skipFrames,
  };
  worker.onmessage = (ev) => {
    const d = ev.data;
    if (d.ok) {
      window.__media = { status: 'done', result: d.result };
      status.textContent = `done: ${d.result.frames.length} frames, ${d.result.windows.length} audio windows`;
      drawThumbs(d.result.frames);
    } else {
      window.__media = { status: 'error', error: d.error, audioWorkers: d.audioWorkers };
      status.textContent = `error ${d.error.code}: ${d.error.message}`;
    }
    worker.terminate();
  };
  worker.onerror = (ev) => {
    window.__media = { status: 'error', error: { code: 'harness/worker-error', message: ev.message, details: {} } };
    status.textContent = `worker error: ${ev.message}`;
  };
  worker.postMessage(req);
});

function drawThumbs(frames: { thumb: Uint8Array; thumbWidth: number; thumbHeight: number; timestamp: number }[]) {
  const box = document.getElementById('thumbs')!;
  box.textContent = '';
  for (const f of frames) {
    const c = document.createElement('canvas');
    c.width = f.thumbWidth;
    c.height = f.thumbHeight;
    c.title = `${f.timestamp.toFixed(2)} s`;
    const id = new ImageData(f.thumbWidth, f.thumbHeight);
    for (let i = 0; i < f.thumbWidth * f.thumbHeight; i++) {
      id.data[i * 4] = f.thumb[i * 3];
      id.data[i * 4 + 1] = f.thumb[i * 3 + 1];
      id.data[i * 4 + 2] = f.thumb[i * 3 + 2];
      id.data[i * 4 + 3] = 255;
    }
    c.getContext('2d')!.putImageData(id, 0, 0);
    box.appendChild(c);
  }
}
