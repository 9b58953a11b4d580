/// <reference lib="webworker" />
/**
 * The Web Worker that owns the core: it loads a bundle into ONNX sessions, opens the
 * user's file with mediabunny, runs `captionMedia`, and reports through the typed
 * protocol (protocol.ts). The page's main thread never runs model code.
 */
import { FileListBundleSource, loadBundle, UrlBundleSource, type BundleSource } from '../core/bundle';
import { captionMedia, disposeModel, loadModel, type CaptionModel } from '../core/caption';
import { CaptionError, serializeError, toCaptionError } from '../core/errors';
import { openBrowserMedia } from '../core/media/browser';
import type { RgbImage } from '../core/media/resize';
import { probeCapabilities, type GpuAdapterFacts } from '../core/runtime/capabilities';
import { debugEnabled, loseGpuDevice, runStats, stats } from './debug';
import { ortWeb } from './ort-web';
import type { BundleLocation, DebugResult, WorkerEvent, WorkerRequest } from './protocol';

const scope = self as unknown as DedicatedWorkerGlobalScope;

let model: CaptionModel | null = null;
let adapter: GpuAdapterFacts | null = null;
let lastLoad: { bundle: BundleLocation; prefer: 'auto' | 'wasm' } | null = null;
let abort: AbortController | null = null;
/** A reload on WASM after the GPU device was lost. */
let reloading: Promise<void> | null = null;

function post(ev: WorkerEvent, transfer: Transferable[] = []): void {
  scope.postMessage(ev, transfer);
}

/** At most ~10 progress messages a second per stage, plus every stage's end. */
function throttled(): (ev: Extract<WorkerEvent, { type: 'progress' }>) => void {
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

function sourceOf(bundle: BundleLocation): BundleSource {
  return bundle.kind === 'url' ? new UrlBundleSource(new URL(bundle.url, scope.location.href).href, { cache: true }) : new FileListBundleSource(bundle.files);
}

async function load(bundle: BundleLocation, prefer: 'auto' | 'wasm', announce = true): Promise<void> {
  const progress = throttled();
  abort = new AbortController();
  if (model) {
    await disposeModel(model);
    model = null;
  }
  const loaded = await loadBundle(sourceOf(bundle), {
    signal: abort.signal,
    onProgress: (p) => progress({ type: 'progress', stage: 'bundle', fraction: p.overallTotal ? p.overallLoaded / p.overallTotal : 1, loadedBytes: p.overallLoaded, totalBytes: p.overallTotal, fromCache: p.fromCache, detail: p.file }),
  });
  const caps = await probeCapabilities(scope as unknown as typeof globalThis);
  adapter = prefer === 'wasm' ? null : caps.webgpu;
  model = await loadModel(ortWeb(), loaded, { prefer, platform: 'web', capabilities: { webgpu: adapter } }, (stage, fraction, detail) => progress({ type: 'progress', stage, fraction, detail }));
  lastLoad = { bundle, prefer };
  if (announce) post({ type: 'ready', model: loaded.manifest.name, randomWeights: loaded.manifest.randomWeights, backends: { ...model.backends }, adapter, fallbackReasons: model.fallbackReasons, manifest: loaded.manifest });
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

/** A WebGPU device loss surfaces as an ORT error; after it the GPU sessions are useless. */
function isDeviceLoss(e: unknown): boolean {
  const text = e instanceof Error ? `${e.name} ${e.message}` : String(e);
  return /device (was |is )?lost|GPUDevice.*lost|DeviceLost/i.test(text);
}

async function caption(runId: string, file: File, options: Parameters<typeof captionMedia>[2]): Promise<void> {
  if (!model && reloading) await reloading.catch(() => undefined);
  if (!model) throw new CaptionError('runtime/internal', 'No model is loaded: load a model first.');
  abort = new AbortController();
  const signal = abort.signal;
  const progress = throttled();
  let partial = '';
  runStats.tokens = 0;
  runStats.tokensAtInterrupt = null;
  const media = await openBrowserMedia(file);
  try {
    const { report } = await captionMedia(
      model,
      media,
      options,
      {
        onProgress: (stage, fraction, detail) => progress({ type: 'progress', stage, fraction, detail }),
        onFrames: (frames) => {
          void Promise.all(frames.map((f) => thumbnailBlob(f.thumbnail))).then((blobs) =>
            post({ type: 'frames', runId, frames: frames.map((f, i) => ({ index: f.index, timestamp: f.timestamp, thumbnail: blobs[i] })) }),
          );
        },
        onToken: (text, tokenId, tokensPerSecond) => {
          partial += text;
          runStats.tokens++;
          post({ type: 'token', runId, text, tokenId, tokensPerSecond });
        },
      },
      signal,
    );
    post({ type: 'done', runId, report });
  } catch (e) {
    if (isDeviceLoss(e)) {
      // The next run reloads the model on WASM: never a hang, never a dead engine.
      const reload = lastLoad;
      model = null;
      if (reload) reloading = load(reload.bundle, 'wasm', false).finally(() => (reloading = null));
      throw new CaptionError('runtime/device-lost', 'The GPU device was lost during the run (driver reset or out of memory). The model is being reloaded on WASM; run the caption again.', { partialCaption: partial });
    }
    const err = toCaptionError(e);
    post({ type: 'error', runId, error: serializeError(err), partialCaption: partial });
    return;
  } finally {
    media.close();
  }
}

scope.onmessage = async (ev: MessageEvent<WorkerRequest>) => {
  const req = ev.data;
  switch (req.type) {
    case 'interrupt':
      if (abort && !abort.signal.aborted) runStats.tokensAtInterrupt = runStats.tokens;
      abort?.abort();
      return;
    case 'debug': {
      let result: DebugResult;
      if (!debugEnabled()) result = { ok: false, message: 'debug requests are disabled outside the test harness' };
      else if (req.action === 'stats') result = { ok: true, stats: stats() };
      else {
        const onGpu = model !== null && Object.values(model.backends).includes('webgpu');
        result = await loseGpuDevice(ortWeb(), onGpu).catch((e: unknown) => ({ ok: false, message: String(e) }));
      }
      post({ type: 'debug', id: req.id, result });
      return;
    }
    case 'dispose':
      abort?.abort();
      if (model) await disposeModel(model);
      model = null;
      return;
    case 'load':
      try {
        await load(req.bundle, req.prefer);
      } catch (e) {
        post({ type: 'error', runId: null, error: serializeError(e) });
      }
      return;
    case 'caption':
      try {
        await caption(req.runId, req.file, req.options);
      } catch (e) {
        const err = toCaptionError(e);
        post({ type: 'error', runId: req.runId, error: serializeError(err), partialCaption: String(err.details.partialCaption ?? '') });
      }
      return;
  }
};
