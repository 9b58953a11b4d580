/**
 * The typed message protocol between the app and the worker that owns the core
 * (ARCHITECTURE "The worker protocol"). Requests go in; events come out.
 */
import type { BundleManifest } from '../core/bundle/manifest';
import type { SerializedError } from '../core/errors';
import type { CaptionOptions } from '../core/options';
import type { CaptionReport, FrameFact, Stage } from '../core/report';
import type { GpuAdapterFacts } from '../core/runtime/capabilities';
import type { Backend } from '../core/runtime/ort';

/** Where a bundle comes from: a URL prefix (cached) or the files of a picked folder. */
export type BundleLocation = { kind: 'url'; url: string } | { kind: 'files'; files: File[] };

export type WorkerRequest =
  | { type: 'load'; bundle: BundleLocation; prefer: 'auto' | 'wasm' }
  | { type: 'caption'; runId: string; file: File; options: CaptionOptions }
  | { type: 'interrupt' }
  | { type: 'dispose' }
  /** Test-only (src/worker/debug.ts): answered with `ok: false` outside the test harness. */
  | { type: 'debug'; id: number; action: DebugAction };

/** 'stats': memory numbers; 'lose-gpu-device': destroy the GPUDevice ORT uses. */
export type DebugAction = 'stats' | 'lose-gpu-device';

export interface WorkerStats {
  /** performance.memory.usedJSHeapSize of the worker, −1 where workers lack it (Chromium's dedicated workers do; measure from the page then). */
  jsHeapBytes: number;
  /** Size of onnxruntime-web's wasm heap (never shrinks), −1 before it exists. */
  wasmMemoryBytes: number;
  /** GPU buffers created through the worker's GPUDevice(s) and not yet destroyed. */
  gpuBuffers: { live: number; liveBytes: number; created: number; destroyed: number };
  /** Tokens streamed by the current/last caption run, and how many when the interrupt arrived. */
  tokens: number;
  tokensAtInterrupt: number | null;
}

export interface DebugResult {
  ok: boolean;
  message?: string;
  stats?: WorkerStats;
}

export interface ProgressEvent {
  type: 'progress';
  stage: Stage;
  /** 0…1 within the stage. */
  fraction: number;
  loadedBytes?: number;
  totalBytes?: number;
  fromCache?: boolean;
  detail?: string;
}

export type WorkerEvent =
  | ProgressEvent
  | {
      type: 'ready';
      model: string;
      randomWeights: boolean;
      backends: Record<string, Backend>;
      adapter: GpuAdapterFacts | null;
      fallbackReasons: string[];
      /** The loaded bundle's manifest: the app takes its defaults (prompt, fps, window length) from it. */
      manifest: BundleManifest;
    }
  | { type: 'frames'; runId: string; frames: (FrameFact & { thumbnail: Blob | null })[] }
  | { type: 'token'; runId: string; text: string; tokenId: number; tokensPerSecond: number }
  | { type: 'done'; runId: string; report: CaptionReport }
  | { type: 'error'; runId: string | null; error: SerializedError; partialCaption?: string }
  | { type: 'debug'; id: number; result: DebugResult };
