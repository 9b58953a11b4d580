/// <reference lib="webworker" />
/**
 * Test-only worker: the app's engine (InProcessEngine over onnxruntime-web, the URL loader,
 * mediabunny) on the lite fixture served from public/bundles/lite-fixture/, captioning the
 * picked file on the requested backend; reports the caption, its streamed deltas and the
 * transcript pieces' place in the layout.
 */
import { UrlBundleSource } from '../../src/core/bundle';
import { InProcessEngine } from '../../src/core/engine';
import { serializeError } from '../../src/core/errors';
import { openBrowserMedia } from '../../src/core/media/browser';
import type { CaptionReport } from '../../src/core/report';
import type { Prefer } from '../../src/core/runtime/backend';
import { probeCapabilities } from '../../src/core/runtime/capabilities';
import { ortWeb } from '../../src/worker/ort-web';

export interface LiteRequest {
  file: File;
  prefer: Prefer;
  maxNewTokens: number;
  /** The frame cap (default: the bundle's). */
  maxFrames?: number;
}

export interface LiteResult {
  family?: string;
  label?: string;
  backends?: Record<string, string>;
  report?: CaptionReport;
  deltas?: string[];
  error?: ReturnType<typeof serializeError>;
}

const scope = self as unknown as DedicatedWorkerGlobalScope;

scope.onmessage = async (ev: MessageEvent<LiteRequest>) => {
  const { file, prefer, maxNewTokens, maxFrames } = ev.data;
  const engine = new InProcessEngine<string, Blob>({
    ort: ortWeb(),
    platform: 'web',
    source: (url) => new UrlBundleSource(url, { cache: false }),
    openMedia: (blob) => openBrowserMedia(blob),
    adapter: async () => (await probeCapabilities(scope as unknown as typeof globalThis)).webgpu,
  });
  const result: LiteResult = {};
  try {
    const info = await engine.load(new URL('/bundles/lite-fixture/', scope.location.href).href, { prefer });
    Object.assign(result, { family: info.family, label: info.label, backends: { ...info.backends } });
    const { mediaId } = await engine.open(file);
    const deltas: string[] = [];
    result.report = await engine.caption(mediaId, { maxNewTokens, ...(maxFrames ? { maxFrames } : {}) }, { onToken: (d) => deltas.push(d) });
    result.deltas = deltas;
  } catch (e) {
    result.error = serializeError(e);
  } finally {
    await engine.dispose();
  }
  scope.postMessage(result);
};
