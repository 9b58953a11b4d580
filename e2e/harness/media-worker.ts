/// <reference lib="webworker" />
/**
 * Test-only worker: runs src/core/media's browser side the way the app's worker will
 * (open → check codecs → plan → frames → audio windows) and posts the results back.
 */
import { serializeError } from '../../src/core/errors';
import { assertDecodable, openBrowserMedia } from '../../src/core/media/browser';
import { prepareFrame } from '../../src/core/features/pixels';
import { planMedia } from '../../src/core/media/pipeline';
import { detectScenes } from '../../src/core/timed/scenes';
import type { FrameRule } from '../../src/core/media/plan';
import type { AudioChannel } from '../../src/core/media/types';

export interface HarnessRequest {
  file: File;
  sampling: { fps: number; maxFrames: number; minFrames: number; rule?: FrameRule };
  vision: { imageSize: number; mean: [number, number, number]; std: [number, number, number] };
  audio: { sampleRate: number; windowSeconds: number };
  raw: boolean;
  /** Probe and plan only (no decoding). */
  planOnly?: boolean;
  /** Stop the audio after this many windows (streaming check on long files). */
  maxWindows?: number;
  /** Audio channel option of MediaSource.audioWindows (default: the source's, 0). */
  channel?: AudioChannel;
  /** Decode the audio while the frames are decoded (both generators at once), as a consumer that overlaps them would. */
  concurrent?: boolean;
  /** Scene cuts only (core/timed/scenes.ts over the browser's frames), with the default rule. */
  scenes?: boolean;
  /** H.264: leave out the non-reference pictures on the way to a planned frame (OpenOptions; default true). */
  skipNonReference?: boolean;
  /** Video decoders at once (OpenOptions; default 2). */
  videoDecoders?: 1 | 2;
  /** The audio in its own worker, as the app does (OpenOptions.audioWorker; default true); false: on this thread. */
  audioWorker?: boolean;
  /** Audio only: the planned frames are not decoded (audio errors of files whose frames fail too). */
  skipFrames?: boolean;
}

/** Audio workers made and terminated during a request (the cancel check). */
const audioWorkers = { spawned: 0, terminated: 0 };

/** The app's audio worker (src/worker/caption.worker.ts makes the same), counted. */
function audioWorker(): Worker {
  const w = new Worker(new URL('../../src/worker/audio.worker.ts', import.meta.url), { type: 'module' });
  audioWorkers.spawned++;
  const terminate = w.terminate.bind(w);
  w.terminate = () => {
    audioWorkers.terminated++;
    terminate();
  };
  return w;
}

const scope = self as unknown as DedicatedWorkerGlobalScope;

scope.onmessage = async (ev: MessageEvent<HarnessRequest>) => {
  const req = ev.data;
  const t0 = performance.now();
  const transfer: ArrayBuffer[] = [];
  try {
    const src = await openBrowserMedia(req.file, { skipNonReference: req.skipNonReference, videoDecoders: req.videoDecoders, audioWorker: req.audioWorker === false ? undefined : audioWorker });
    const tOpen = performance.now();
    try {
      if (req.scenes) {
        const scenes = await detectScenes(src);
        scope.postMessage({ ok: true, result: { info: src.info, framePlan: null, audioPlan: null, frames: [], windows: [], scenes, timings: { total: performance.now() - t0 } } });
        return;
      }
      assertDecodable(src.info);
      const plan = planMedia(src.info, req.sampling, req.audio);
      const tPlan = performance.now();
      const frames: Record<string, unknown>[] = [];
      const windows: { index: number; start: number; length: number; peak: number }[] = [];
      let audio: Float32Array | null = null;
      let tFramesEnd = 0;
      let tPrepare = 0; // prepareFrame (the model's resize + thumbnail), inside the frames time
      let tAudioStart = 0;
      const doFrames = async () => {
        if (plan.frames && !req.planOnly && !req.skipFrames) {
          for await (const f of src.frames(plan.frames)) {
            const tp = performance.now();
            const p = prepareFrame(f, req.vision);
            tPrepare += performance.now() - tp;
            const item = {
              index: f.index,
              frameIndex: f.frameIndex,
              timestamp: f.timestamp,
              frameTimestamp: f.frameTimestamp,
              width: f.image.width,
              height: f.image.height,
              pixelsWidth: p.pixels.width,
              pixelsHeight: p.pixels.height,
              thumbWidth: p.thumbnail.width,
              thumbHeight: p.thumbnail.height,
              rgb: req.raw ? f.image.data : null,
              pixels: req.raw ? p.pixels.data : null,
              thumb: p.thumbnail.data,
            };
            if (item.rgb) transfer.push(item.rgb.buffer as ArrayBuffer, item.pixels!.buffer as ArrayBuffer);
            transfer.push(item.thumb.buffer as ArrayBuffer);
            frames.push(item);
          }
        }
        tFramesEnd = performance.now();
      };
      const doAudio = async () => {
        tAudioStart = performance.now();
        if (plan.audio && !req.planOnly) {
          if (req.raw) audio = new Float32Array(plan.audio.totalSamples);
          for await (const w of src.audioWindows(plan.audio, req.channel === undefined ? undefined : { channel: req.channel })) {
            let peak = 0;
            for (const x of w.samples) peak = Math.max(peak, Math.abs(x));
            windows.push({ index: w.index, start: w.start, length: w.samples.length, peak });
            audio?.set(w.samples, w.start);
            if (req.maxWindows && windows.length >= req.maxWindows) break;
          }
          if (audio) transfer.push((audio as Float32Array).buffer as ArrayBuffer);
        }
      };
      if (req.concurrent) await Promise.all([doFrames(), doAudio()]);
      else {
        await doFrames();
        await doAudio();
      }
      const tFrames = tFramesEnd;
      const tAudio = performance.now();
      const info = src.info;
      const video = info.video ? { ...info.video, timeline: { ...info.video.timeline, timestamps: undefined } } : null;
      scope.postMessage(
        {
          ok: true,
          result: {
            info: { ...info, video },
            framePlan: plan.frames,
            audioPlan: plan.audio ? { ...plan.audio, windows: plan.audio.windows.map((w) => w.length) } : null,
            frames,
            windows,
            audio,
            timings: { open: tOpen - t0, plan: tPlan - tOpen, frames: tFrames - tPlan, prepare: tPrepare, audio: tAudio - tAudioStart, total: tAudio - t0 },
            concurrent: !!req.concurrent,
            audioPath: src.audioPath,
            audioInWorker: src.audioInWorker,
            audioWorkers: { ...audioWorkers },
            frameStats: src.frameStats,
            workerHasOfflineAudioContext: typeof (globalThis as { OfflineAudioContext?: unknown }).OfflineAudioContext !== 'undefined',
          },
        },
        transfer,
      );
    } finally {
      src.close();
    }
  } catch (e) {
    scope.postMessage({ ok: false, error: serializeError(e), audioWorkers: { ...audioWorkers }, ms: performance.now() - t0 });
  }
};
