/// <reference lib="webworker" />
/**
 * The worker side of the protocol: an in-process Engine over the browser's sources
 * (URL + Cache API, picked folder), mediabunny media and onnxruntime-web, answering each
 * request by its id. `extra` lets a test harness worker handle messages of its own
 * (e2e/harness) without putting test hooks into the production protocol.
 */
import { FileListBundleSource, UrlBundleSource } from '../core/bundle';
import { HubPresetSource } from '../core/bundle/hub-preset';
import { InProcessEngine } from '../core/engine';
import { serializeError } from '../core/errors';
import { openBrowserMedia, type AudioWorkerFactory } from '../core/media/browser';
import type { PreparedFrame } from '../core/features/pixels';
import type { RgbImage } from '../core/features/pixels';
import { probeCapabilities } from '../core/runtime/capabilities';
import { ortWeb, ortWebFor } from './ort-web';
import type { BundleLocation, ResultOf, WorkerEvent, WorkerRequest } from './protocol';

export type WebEngine = InProcessEngine<BundleLocation, File>;

/** `audioWorker`: the media's audio decoded in a worker of its own (OpenOptions.audioWorker). */
export function webEngine(scope: DedicatedWorkerGlobalScope, media: { audioWorker?: AudioWorkerFactory } = {}): WebEngine {
  return new InProcessEngine<BundleLocation, File>({
    ort: ortWeb(),
    ortFor: (webgpu) => ortWebFor(webgpu),
    platform: 'web',
    source: (b, runtime) => {
      if (b.kind === 'hub') return new HubPresetSource(b.pins, { endpoint: b.endpoint, runtime, cache: true });
      return b.kind === 'url' ? new UrlBundleSource(new URL(b.url, scope.location.href).href, { cache: true }) : new FileListBundleSource(b.files);
    },
    openMedia: (file) => openBrowserMedia(file, { audioWorker: media.audioWorker }),
    adapter: async () => (await probeCapabilities(scope as unknown as typeof globalThis)).webgpu,
  });
}

async function thumbnailBlob(img: RgbImage): Promise<Blob | null> {
  if (typeof OffscreenCanvas === 'undefined') return null;
  const canvas = new OffscreenCanvas(img.width, img.height);
  const ctx = canvas.getContext('2d');
  if (!ctx) return null;
  const rgba = new Uint8ClampedArray(img.width * img.height * 4);
  for (let i = 0, j = 0; i < img.data.length; i += 3, j += 4) {
    rgba[j] = img.data[i];
    rgba[j + 1] = img.data[i + 1];
    rgba[j + 2] = img.data[i + 2];
    rgba[j + 3] = 255;
  }
  ctx.putImageData(new ImageData(rgba, img.width, img.height), 0, 0);
  return canvas.convertToBlob({ type: 'image/jpeg', quality: 0.8 });
}

/** At most ~10 progress messages a second per stage, plus every stage's end. */
function throttled(post: (ev: WorkerEvent) => void): (ev: Extract<WorkerEvent, { type: 'progress' }>) => void {
  let last = 0;
  let lastStage = '';
  return (ev) => {
    const t = performance.now();
    if (ev.fraction >= 1 || ev.stage !== lastStage || t - last > 100) {
      last = t;
      lastStage = ev.stage;
      post(ev);
    }
  };
}

export interface ServeOptions {
  /** Handles a message the protocol does not know; returns true when it did. */
  extra?: (message: unknown, engine: WebEngine) => boolean;
  /** Called for every token (harness statistics). */
  onToken?: () => void;
  /** Called when an interrupt for the running request arrives. */
  onInterrupt?: () => void;
}

export function serve(scope: DedicatedWorkerGlobalScope, engine: WebEngine, options: ServeOptions = {}): void {
  const post = (ev: WorkerEvent) => scope.postMessage(ev);
  let running: number | null = null;

  const handle = async (req: Exclude<WorkerRequest, { type: 'interrupt' }>): Promise<ResultOf[keyof ResultOf]> => {
    const progress = throttled(post);
    const id = req.id;
    const events = {
      onProgress: (stage: Parameters<typeof progress>[0]['stage'], fraction: number, detail?: string) => progress({ type: 'progress', id, stage, fraction, detail }),
      onFrames: (frames: PreparedFrame[]) => {
        void Promise.all(frames.map((f) => thumbnailBlob(f.thumbnail))).then((blobs) =>
          post({ type: 'frames', id, frames: frames.map((f, i) => ({ index: f.index, timestamp: f.timestamp, thumbnail: blobs[i] })) }),
        );
      },
      onToken: (text: string, tokenId: number, tokensPerSecond: number) => {
        options.onToken?.();
        post({ type: 'token', id, text, tokenId, tokensPerSecond });
      },
    };
    switch (req.type) {
      case 'load':
        return engine.load(req.bundle, { prefer: req.prefer, lowMemory: req.lowMemory }, { onProgress: (p) => progress({ type: 'progress', id, ...p }) });
      case 'open':
        return engine.open(req.file);
      case 'caption':
        return engine.caption(req.mediaId, req.request, events);
      case 'ask':
        return engine.ask(req.mediaId, req.question, req.request, events);
      case 'complete':
        return engine.complete(req.prompt, req.request, events);
      case 'scenes':
        return engine.scenes(req.mediaId, req.options, events);
      case 'tokens':
        return engine.completionTokens(req.prompt, req.request);
      case 'reset':
        await engine.reset(req.mediaId);
        return null;
      case 'close':
        await engine.close(req.mediaId);
        return null;
      case 'dispose':
        await engine.dispose();
        return null;
    }
  };

  scope.onmessage = async (ev: MessageEvent<WorkerRequest>) => {
    const req = ev.data;
    if (options.extra?.(req, engine)) return;
    if (req.type === 'interrupt') {
      if (req.target === running) {
        options.onInterrupt?.();
        engine.interrupt();
      }
      return;
    }
    const exclusive = req.type === 'load' || req.type === 'caption' || req.type === 'ask' || req.type === 'complete' || req.type === 'scenes';
    if (exclusive) running = req.id;
    try {
      post({ type: 'result', id: req.id, value: await handle(req) });
    } catch (e) {
      post({ type: 'error', id: req.id, error: serializeError(e) });
    } finally {
      if (exclusive && running === req.id) running = null;
    }
  };
}
