/// <reference lib="webworker" />
/**
 * Chromium side of bench/transformers-generate.ts: in ONE module worker, the app's
 * onnxruntime-web (configured as the app's worker: src/worker/ort-web.ts, wasm from /ort/)
 * runs our decode loop, and `@huggingface/transformers` — imported only after that
 * configuration, since at import it points wasmPaths at a CDN unless they are set — runs its
 * own `generate` on the same fixture files. Checks both use the same runtime instance.
 */
import { UrlBundleSource } from '../src/core/bundle';
import { loadBundle } from '../src/core/bundle/load';
import { disposeModel, loadModel } from '../src/core/families/load';
import { ortWeb } from '../src/worker/ort-web';
import { compareGenerate, type CompareConfig, type CompareResult } from './transformers-core';

export interface TransformersBenchRequest extends CompareConfig {
  /** e.g. /bundles/lite-fixture/ */
  bundleUrl: string;
  /** transformers.js `use_external_data_format`: chunks per graph file. */
  externalData: Record<string, number>;
}
export type TransformersBenchMessage = { type: 'done'; result: CompareResult; sameRuntime: boolean; wasmPaths: string } | { type: 'error'; message: string };

const scope = self as unknown as DedicatedWorkerGlobalScope;

scope.onmessage = async (ev: MessageEvent<TransformersBenchRequest>) => {
  const { bundleUrl, externalData, ...config } = ev.data;
  try {
    const ort = ortWeb();
    const model = await loadModel(ort, await loadBundle(new UrlBundleSource(new URL(bundleUrl, scope.location.href).href, { cache: false })), { prefer: 'wasm', platform: 'web', adapter: null, warmUp: false });
    const tf = await import('@huggingface/transformers');
    tf.env.allowRemoteModels = false;
    tf.env.allowLocalModels = true;
    tf.env.useBrowserCache = false;
    const parts = bundleUrl.replace(/\/$/, '').split('/');
    tf.env.localModelPath = `${parts.slice(0, -1).join('/')}/`;
    const hf = await tf.LlavaOnevisionForConditionalGeneration.from_pretrained(parts[parts.length - 1], { dtype: 'fp32', device: 'wasm', local_files_only: true, use_external_data_format: externalData });
    const onnx = tf.env.backends.onnx as { wasm?: { wasmPaths?: unknown } } | undefined;
    const sameRuntime = onnx?.wasm === (ort.env as { wasm?: unknown }).wasm;
    const result = await compareGenerate(model, hf, tf.Tensor as never, config);
    await disposeModel(model);
    await hf.dispose();
    scope.postMessage({ type: 'done', result, sameRuntime, wasmPaths: String(ort.env.wasm.wasmPaths) } satisfies TransformersBenchMessage);
  } catch (e) {
    scope.postMessage({ type: 'error', message: e instanceof Error ? (e.stack ?? e.message) : String(e) } satisfies TransformersBenchMessage);
  }
};
