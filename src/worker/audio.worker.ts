/// <reference lib="webworker" />
/**
 * The audio worker: decodes and resamples a file's audio on a JS thread of its own for the
 * media source in the caption worker (src/core/media/audio-worker.ts), which spawns it.
 */
import { serveAudioWorker } from '../core/media/audio-worker';

serveAudioWorker(self as unknown as Parameters<typeof serveAudioWorker>[0]);
