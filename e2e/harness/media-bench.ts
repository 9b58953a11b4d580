/**
 * Bench page (bench/media.ts drives it; with #video-first only the <video> path, see below): for the chosen file, (a) the app's path — the
 * worker (media-worker.ts: mediabunny, planned frames + all audio at 16 kHz, channel 0,
 * the audio in its own worker), once with the audio decoded while the frames are (both
 * generators at once) and once one after the other; then as it was (every packet, one
 * decoder) and frames ∥ audio with the audio on the media worker's thread — and (b) the
 * classic path on the main thread — <video> seeks + canvas drawImage for the same frame
 * timestamps, and decodeAudioData + OfflineAudioContext(1, n, 16000) for the audio.
 * Results land on window.__bench.
 */
import type { HarnessRequest } from './media-worker';

interface Heap {
  peak: number | null;
}

declare global {
  interface Window {
    __bench: { status: 'idle' | 'running' | 'done' | 'error'; result?: unknown; error?: string };
  }
}
window.__bench = { status: 'idle' };

const mem = () => (performance as Performance & { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? null;

function sampleHeap(): { stop: () => Heap } {
  const h: Heap = { peak: mem() };
  const t = setInterval(() => {
    const m = mem();
    if (m !== null) h.peak = Math.max(h.peak ?? 0, m);
  }, 50);
  return { stop: () => (clearInterval(t), h) };
}

async function viaWorker(file: File, concurrent: boolean, skipNonReference = true, videoDecoders: 1 | 2 = 2, audioWorker = true, planOnly = false) {
  const worker = new Worker(new URL('./media-worker.ts', import.meta.url), { type: 'module' });
  const req: HarnessRequest = {
    file,
    sampling: { fps: 1, maxFrames: 30, minFrames: 2 },
    vision: { imageSize: 384, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
    audio: { sampleRate: 16000, windowSeconds: 30 },
    raw: false,
    concurrent,
    skipNonReference,
    videoDecoders,
    audioWorker,
    planOnly,
  };
  const t0 = performance.now();
  const res = await new Promise<{ ok: boolean; result?: { info: { audio: { sampleRate: number } | null }; framePlan: { timestamps: number[] }; timings: Record<string, number>; windows: unknown[]; audioPath: string | null; frameStats?: { fed: number; skipped: number } }; error?: { message: string } }>((resolve) => {
    worker.onmessage = (ev) => resolve(ev.data);
    worker.postMessage(req);
  });
  worker.terminate();
  if (!res.ok) throw new Error(res.error!.message);
  return { ms: performance.now() - t0, timestamps: res.result!.framePlan.timestamps, sampleRate: res.result!.info.audio?.sampleRate ?? 16000, timings: res.result!.timings, windows: res.result!.windows.length, audioPath: res.result!.audioPath, frameStats: res.result!.frameStats ?? null };
}

/**
 * decodeRate: the rate decodeAudioData decodes at (its context's): 16 kHz (Chromium resamples
 * while decoding), or the file's own, resampled afterwards by the OfflineAudioContext's render.
 */
async function viaVideoElement(file: File, timestamps: number[], decodeRate = 16000) {
  const url = URL.createObjectURL(file);
  const t0 = performance.now();
  const video = document.createElement('video');
  video.muted = true;
  video.preload = 'auto';
  video.src = url;
  await new Promise<void>((res, rej) => {
    video.onloadeddata = () => res();
    video.onerror = () => rej(new Error(`<video> cannot load ${file.name}`));
  });
  const canvas = document.createElement('canvas');
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  let checksum = 0;
  for (const t of timestamps) {
    await new Promise<void>((res) => {
      video.onseeked = () => res();
      video.currentTime = t;
    });
    ctx.drawImage(video, 0, 0);
    checksum += ctx.getImageData(0, 0, canvas.width, canvas.height).data[0];
  }
  const tFrames = performance.now();
  // audio: the whole file through decodeAudioData, resampled to 16 kHz mono
  const bytes = await file.arrayBuffer();
  const tRead = performance.now();
  const probe = new OfflineAudioContext(1, 1, decodeRate);
  const decoded = await probe.decodeAudioData(bytes);
  const tDecoded = performance.now();
  const n = Math.ceil(decoded.duration * 16000);
  const off = new OfflineAudioContext(1, n, 16000);
  const src = off.createBufferSource();
  src.buffer = decoded;
  src.connect(off.destination);
  src.start();
  const rendered = await off.startRendering();
  const tAudio = performance.now();
  URL.revokeObjectURL(url);
  return {
    ms: tAudio - t0,
    frames: tFrames - t0,
    audio: tAudio - tFrames,
    audioSplit: { read: tRead - tFrames, decodeAudioData: tDecoded - tRead, render: tAudio - tDecoded },
    samples: rendered.length,
    checksum,
  };
}

/** Between phases: let the last phase's memory go (a full GC where the page may ask for one: --js-flags=--expose-gc). */
async function settle() {
  (window as Window & { gc?: () => void }).gc?.();
  await new Promise((r) => setTimeout(r, 500));
}

const planOnly = (file: File) => viaWorker(file, false, true, 2, true, true);

const input = document.getElementById('file') as HTMLInputElement;
input.addEventListener('change', async () => {
  const file = input.files?.[0];
  if (!file) return;
  window.__bench = { status: 'running' };
  try {
    const phases: Record<string, number> = {};
    if (location.hash === '#video-first') {
      // the <video> path alone in a page of its own before any worker run (bench/media.ts
      // closes it before the rest), so that the order cannot favour either side
      const videoFirst = await viaVideoElement(file, (await planOnly(file)).timestamps);
      window.__bench = { status: 'done', result: { videoElementFirst: videoFirst } };
      return;
    }
    phases.workerStart = Date.now();
    const h1 = sampleHeap();
    const worker = await viaWorker(file, true);
    const heapWorker = h1.stop();
    phases.workerEnd = Date.now();
    await settle();
    phases.seqStart = Date.now();
    const h0 = sampleHeap();
    const sequential = await viaWorker(file, false);
    const heapSeq = h0.stop();
    phases.seqEnd = Date.now();
    await settle();
    // one after the other as before: every H.264 packet fed (skipNonReference false), one decoder
    const noSkip = await viaWorker(file, false, false, 1);
    await settle();
    // frames ∥ audio with one video decoder
    const oneDecoder = await viaWorker(file, true, true, 1);
    await settle();
    // frames ∥ audio with the audio on the media worker's own thread (no audio worker)
    const inThread = await viaWorker(file, true, true, 2, false);
    await settle();
    phases.videoStart = Date.now();
    const h2 = sampleHeap();
    const video = await viaVideoElement(file, worker.timestamps);
    const heapVideo = h2.stop();
    phases.videoEnd = Date.now();
    await settle();
    phases.videoNativeStart = Date.now();
    const videoNative = await viaVideoElement(file, worker.timestamps, worker.sampleRate);
    phases.videoNativeEnd = Date.now();
    window.__bench = {
      status: 'done',
      result: {
        file: file.name,
        bytes: file.size,
        frames: worker.timestamps.length,
        mediabunny: { ...worker, timestamps: undefined, pageHeapPeak: heapWorker.peak },
        sequential: { ...sequential, timestamps: undefined, pageHeapPeak: heapSeq.peak },
        noSkip: { ...noSkip, timestamps: undefined },
        inThreadAudio: { ...inThread, timestamps: undefined },
        oneDecoder: { ...oneDecoder, timestamps: undefined },
        videoElement: { ...video, pageHeapPeak: heapVideo.peak },
        videoElementNativeRate: { ...videoNative, decodeRate: worker.sampleRate },
        phases,
      },
    };
    document.getElementById('status')!.textContent = JSON.stringify(window.__bench.result, null, 2);
  } catch (e) {
    window.__bench = { status: 'error', error: e instanceof Error ? e.message : String(e) };
  }
});
