/// <reference lib="webworker" />
/**
 * Test-only worker: loads a bundle (the tiny one unless asked for another) by URL, creates the sessions on the requested
 * backend with the app's own code, runs golden cases through `captionMedia` on in-memory
 * inputs (the reference's exact frames and audio) and reports ids, layouts and memory.
 */
import { UrlBundleSource } from '../../src/core/bundle';
import { InProcessEngine } from '../../src/core/engine';
import { serializeError } from '../../src/core/errors';
import { MemoryMediaSource } from '../../src/core/media/memory-source';
import type { MediaSource } from '../../src/core/media/types';
import type { Prefer } from '../../src/core/runtime/backend';
import { probeCapabilities } from '../../src/core/runtime/capabilities';
import { checkGoldenRun, checkGoldenSetupRun, goldenMedia, goldenOptions, goldenSetupOptions, stats, type GoldenCheck, type Golden, type GoldenRun, type Stats } from '../../src/core/testing/golden';
import { ortWeb } from '../../src/worker/ort-web';

export interface GoldenRequest {
  prefer: Prefer;
  /** The bundle's base URL (ending in '/'): the tiny bundle when absent. */
  bundle?: string;
  /** Only these legacy runs of each case, by index (all when absent). */
  runs?: number[];
  /** Generate only this many tokens and compare them with the reference's first ones (greedy: a prefix of the same sequence). */
  maxNewTokens?: number;
  /** Tolerance for inputsEmbeds against PyTorch (fp16 activations); TENSOR_TOLERANCE when absent. */
  embedsTolerance?: number;
  /** Case names to run (all when absent) and how many times to repeat the whole set. */
  cases?: string[];
  repeat?: number;
  marginTolerance: number;
  /** Also run the cases' setup runs (the released checkpoint's run set-up: official prompt, time tokens, max_time, penalty). */
  setup?: boolean;
  /** Only these setup runs: by modality ('audio-video', 'video', 'audio') or 'penalty' (the repetition-penalty run). */
  setupKinds?: string[];
}

export type GoldenRunResult = GoldenCheck & { promptIdsOk?: boolean; timeTokensOk?: boolean };

export interface GoldenResult {
  /** WASM threads ORT was configured with, and whether the worker is cross-origin isolated. */
  threads: number;
  isolated: boolean;
  backends: Record<string, string>;
  adapter: string | null;
  runs: GoldenRunResult[];
  /** performance.memory.usedJSHeapSize after each repeat (Chromium), bytes. */
  heap: number[];
  error?: ReturnType<typeof serializeError>;
}

/** The run with its reference cut to the first `n` generated tokens. */
function prefixOf(run: GoldenRun, n?: number): GoldenRun {
  return n === undefined ? run : { ...run, generated: { ...run.generated, ids: run.generated.ids.slice(0, n), margins: run.generated.margins.slice(0, n) } };
}

const scope = self as unknown as DedicatedWorkerGlobalScope;

async function fetchBytes(url: string): Promise<Uint8Array> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

function usedHeap(): number {
  const mem = (performance as Performance & { memory?: { usedJSHeapSize: number } }).memory;
  return mem?.usedJSHeapSize ?? -1;
}

scope.onmessage = async (ev: MessageEvent<GoldenRequest>) => {
  const req = ev.data;
  const base = new URL(req.bundle ?? '/bundles/tiny/', scope.location.href).href;
  const ort = ortWeb();
  const result: GoldenResult = { threads: Number(ort.env.wasm.numThreads), isolated: Boolean(scope.crossOriginIsolated), backends: {}, adapter: null, runs: [], heap: [] };
  // The app's engine, in this worker, over the reference's exact frames and audio (in memory).
  const engine = new InProcessEngine<string, MediaSource>({
    ort,
    platform: 'web',
    source: (url) => new UrlBundleSource(url, { cache: false }),
    openMedia: async (m) => m,
    adapter: async () => (await probeCapabilities(scope as unknown as typeof globalThis)).webgpu,
  });
  try {
    const info = await engine.load(base, { prefer: req.prefer });
    const golden = (await (await fetch(base + info.manifest.golden!.path)).json()) as Golden;
    result.backends = { ...info.backends };
    result.adapter = info.adapter && Object.values(info.backends).includes('webgpu') ? `${info.adapter.vendor} ${info.adapter.architecture}` : null;
    const fixtureCase = golden.cases.find((c) => c.source.kind === 'ffmpeg-fixture');
    const fixture = fixtureCase
      ? {
          frames: await fetchBytes(base + fixtureCase.source.decodedFrames!.path),
          audio: new Float32Array((await fetchBytes(base + fixtureCase.source.decodedAudio!.path)).buffer),
        }
      : undefined;
    const cases = golden.cases.filter((c) => !req.cases || req.cases.includes(c.name));
    for (let r = 0; r < (req.repeat ?? 1); r++) {
      for (const c of cases) {
        const input = goldenMedia(c, info.manifest.audio.sampleRate, c.source.kind === 'ffmpeg-fixture' ? fixture : undefined);
        const { mediaId } = await engine.open(new MemoryMediaSource(input));
        for (const run of c.runs.filter((_, i) => !req.runs || req.runs.includes(i)).map((r) => prefixOf(r, req.maxNewTokens))) {
          const ours = new Map<string, Stats>();
          const onTensor = (name: string, data: Float32Array, shape: number[]) => ours.set(name, stats(data, shape));
          const report = await engine.caption(mediaId, { ...goldenOptions(golden, run, info.manifest, 64), ...(req.maxNewTokens ? { maxNewTokens: req.maxNewTokens } : {}) }, { onTensor });
          result.runs.push(checkGoldenRun(c, run, report, ours, req.marginTolerance, req.embedsTolerance));
        }
        const picked = (r: NonNullable<typeof c.setupRuns>[number]) => !req.setupKinds || req.setupKinds.includes(r.setup.repetitionPenalty !== 1 ? 'penalty' : r.modality);
        for (const run of req.setup ? (c.setupRuns ?? []).filter(picked) : []) {
          const ours = new Map<string, Stats>();
          const onTensor = (name: string, data: Float32Array, shape: number[]) => ours.set(name, stats(data, shape));
          // An audio-only setup run is an audio-only input: no video track (cut to max_time).
          const media = run.audioInput ? await engine.open(new MemoryMediaSource({ name: input.name, audio: input.audio })) : { mediaId };
          const report = await engine.caption(media.mediaId, goldenSetupOptions(golden, run, info.manifest, 64), { onTensor });
          if (media.mediaId !== mediaId) await engine.close(media.mediaId);
          result.runs.push(checkGoldenSetupRun(c, run, report, ours, req.marginTolerance));
        }
        await engine.close(mediaId);
      }
      result.heap.push(usedHeap());
    }
  } catch (e) {
    result.error = serializeError(e);
  } finally {
    await engine.dispose();
  }
  scope.postMessage(result);
};
