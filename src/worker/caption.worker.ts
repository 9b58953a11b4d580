/// <reference lib="webworker" />
/**
 * The Web Worker that owns the core: an in-process Engine behind the typed protocol
 * (protocol.ts, serve.ts). The page's main thread never runs model code.
 */
import { serve, webEngine } from './serve';

const scope = self as unknown as DedicatedWorkerGlobalScope;
// the media's audio on a thread of its own, beside the frames (src/core/media/audio-worker.ts)
const audioWorker = () => new Worker(new URL('./audio.worker.ts', import.meta.url), { type: 'module' });
serve(scope, webEngine(scope, { audioWorker }));
