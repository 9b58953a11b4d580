/**
 * The audio of a BrowserMediaSource on a JS thread of its own (a dedicated Web Worker), so
 * audioWindows() and frames() run in parallel instead of sharing the media worker's one
 * thread (bench/README.md "Media": frames ∥ audio cost the sum on one thread). The worker
 * runs the same AudioPump as the in-thread path over its own mediabunny Input on the same
 * Blob (a File/Blob is cloned by reference, no copy), so the samples are the same bits.
 *
 * Protocol: the source posts one `start`; the worker posts `path`, then `window`s in order
 * (their samples transferred), then `end` or one `error` (a serialized CaptionError).
 * Flow control by credit: the worker has at most `prefetch` windows out that the consumer
 * has not taken; each window taken posts a `more`.
 */
import { ALL_FORMATS, BlobSource, Input } from 'mediabunny';
import { CaptionError, serializeError, type ErrorCode, type SerializedError } from '../errors';
import { AudioPump, WindowQueue } from './audio-pump';
import type { AudioPlan } from './plan';
import { decodeError } from './pipeline';
import type { AudioChannel, AudioWindow } from './types';

/** What the source needs of a Worker (a real `Worker` fits; tests may pass a double). */
export interface AudioWorkerPort {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  terminate(): void;
  onmessage: ((ev: MessageEvent) => unknown) | null;
  onerror: ((ev: ErrorEvent) => unknown) | null;
}

/** Makes the audio worker (the app: `new Worker(new URL('…/audio.worker.ts', import.meta.url), { type: 'module' })`). */
export type AudioWorkerFactory = () => AudioWorkerPort;

/** What the worker is asked to decode (the source's file, its name for messages, the plan). */
export interface AudioWorkerStart {
  type: 'start';
  file: Blob;
  name: string;
  plan: AudioPlan;
  channel: AudioChannel;
  prefetch: number;
  stallMs: number;
}

export type AudioWorkerRequest = AudioWorkerStart | { type: 'more' };

export type AudioWorkerReply =
  | { type: 'path'; path: string }
  | { type: 'window'; window: AudioWindow }
  | { type: 'end' }
  | { type: 'error'; error: SerializedError };

interface WorkerScope {
  postMessage(message: AudioWorkerReply, transfer?: Transferable[]): void;
  onmessage: ((ev: MessageEvent<AudioWorkerRequest>) => unknown) | null;
}

/** The worker's side: decodes the requested file's primary audio track and posts its windows. */
export function serveAudioWorker(scope: WorkerScope): void {
  let credit = 0;
  let wake: (() => void) | null = null;
  const post = (m: AudioWorkerReply, transfer: Transferable[] = []) => scope.postMessage(m, transfer);
  scope.onmessage = (ev) => {
    const m = ev.data;
    if (m.type === 'more') {
      credit++;
      wake?.();
      return;
    }
    credit = m.prefetch;
    void run(m).catch((e) => post({ type: 'error', error: serializeError(decodeError(e, m.name, 'decoding the audio')) }));
  };
  const run = async (m: AudioWorkerStart) => {
    const input = new Input({ source: new BlobSource(m.file), formats: ALL_FORMATS });
    try {
      const track = await input.getPrimaryAudioTrack();
      if (!track) throw new CaptionError('media/no-audio-track', `“${m.name}” has no audio track.`, {});
      const pump = new AudioPump(track, m.plan, m.channel, m.prefetch, m.name, m.stallMs, (path) => post({ type: 'path', path }));
      for await (const w of pump.windows()) {
        while (credit <= 0) await new Promise<void>((r) => (wake = () => ((wake = null), r())));
        credit--;
        post({ type: 'window', window: w }, [w.samples.buffer]);
      }
      post({ type: 'end' });
    } finally {
      input.dispose();
    }
  };
}

/** A CaptionError as it was thrown in the worker (same code, message, details). */
function reviveError(e: SerializedError): CaptionError {
  return new CaptionError(e.code as ErrorCode, e.message, e.details);
}

/**
 * The source's side: starts the worker at construction (decoding begins at the
 * audioWindows() call, as in-thread), hands out its windows in order; `stop()` (consumer
 * done, gone, or the source closed) terminates the worker.
 */
export class WorkerAudioPump {
  private readonly queue = new WindowQueue();
  private worker: AudioWorkerPort | null;

  constructor(
    factory: AudioWorkerFactory,
    request: AudioWorkerStart,
    onPath: (path: string) => void,
    private readonly onStop: () => void,
  ) {
    const worker = factory();
    this.worker = worker;
    worker.onmessage = (ev: MessageEvent<AudioWorkerReply>) => {
      const m = ev.data;
      if (m.type === 'path') onPath(m.path);
      else if (m.type === 'window') this.queue.push(m.window);
      else if (m.type === 'end') this.queue.end();
      else this.queue.fail(reviveError(m.error));
    };
    worker.onerror = (ev) => {
      // the worker itself broke (script failed to load, crashed): not the file's fault
      ev.preventDefault?.();
      this.queue.fail(new CaptionError('media/decode-failed', `The audio of “${request.name}” could not be decoded: the audio worker stopped (${ev.message || 'no message'}). Reload the page and try again.`, { name: request.name, stage: 'audio worker' }));
    };
    try {
      worker.postMessage(request);
    } catch (e) {
      worker.terminate();
      throw e;
    }
  }

  /** Terminates the worker (idempotent). */
  stop(): void {
    if (!this.worker) return;
    this.worker.terminate();
    this.worker = null;
    this.onStop();
  }

  async *windows(): AsyncGenerator<AudioWindow> {
    try {
      yield* this.queue.drain(() => this.worker?.postMessage({ type: 'more' } satisfies AudioWorkerRequest));
    } finally {
      // consumer done or gone (break, error, abort): the worker goes
      this.stop();
    }
  }
}
