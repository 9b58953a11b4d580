/**
 * WorkerAudioPump (the source's side of the audio worker) over a fake worker that plays the
 * protocol: windows in order, at most `prefetch` not yet taken, errors revived as they were
 * thrown, the worker terminated when the consumer stops. The real worker: e2e/media-audio-worker.spec.ts.
 */
import { describe, expect, it } from 'vitest';
import { CaptionError, isCaptionError, serializeError } from '../errors';
import { WorkerAudioPump, type AudioWorkerPort, type AudioWorkerReply, type AudioWorkerRequest, type AudioWorkerStart } from './audio-worker';
import type { AudioPlan } from './plan';

const plan = { sampleRate: 16000, windowSamples: 4, totalSamples: 24, sourceSamples: 24, windows: [] } as unknown as AudioPlan;
const start: AudioWorkerStart = { type: 'start', file: new Blob([]), name: 'clip.mp4', plan, channel: 0, prefetch: 2, stallMs: 1000 };

/** A worker that sends `n` windows as credit allows, then `end` (or `fail` after `failAfter`). */
class FakeWorker implements AudioWorkerPort {
  onmessage: ((ev: MessageEvent) => unknown) | null = null;
  onerror: ((ev: ErrorEvent) => unknown) | null = null;
  terminated = 0;
  sent = 0;
  taken = 0;
  maxOut = 0;
  private credit = 0;
  constructor(
    private readonly n: number,
    private readonly fail: CaptionError | null = null,
    private readonly failAfter = Infinity,
  ) {}
  postMessage(m: AudioWorkerRequest): void {
    if (this.terminated) throw new Error('posted to a terminated worker');
    if (m.type === 'start') this.credit = m.prefetch;
    else {
      this.credit++;
      this.taken++;
    }
    queueMicrotask(() => this.pump());
  }
  terminate(): void {
    this.terminated++;
  }
  private reply(m: AudioWorkerReply): void {
    if (!this.terminated) this.onmessage?.({ data: m } as MessageEvent);
  }
  private pump(): void {
    while (this.credit > 0 && this.sent < Math.min(this.n, this.failAfter)) {
      this.credit--;
      this.reply({ type: 'window', window: { index: this.sent, start: this.sent * 4, startTime: this.sent / 4000, samples: new Float32Array(4).fill(this.sent) } });
      this.sent++;
      this.maxOut = Math.max(this.maxOut, this.sent - this.taken);
    }
    if (this.sent === this.failAfter && this.fail) this.reply({ type: 'error', error: serializeError(this.fail) });
    else if (this.sent === this.n) this.reply({ type: 'end' });
  }
}

const pumpOver = (w: FakeWorker) => new WorkerAudioPump(() => w, start, () => undefined, () => undefined);

describe('WorkerAudioPump', () => {
  it('hands out every window in order, never more than prefetch ahead, and terminates the worker at the end', async () => {
    const w = new FakeWorker(6);
    const p = pumpOver(w);
    await new Promise((r) => setTimeout(r, 1));
    expect(w.sent).toBe(start.prefetch); // decoding started at the call, before anyone asked (early start)
    const got: number[] = [];
    for await (const win of p.windows()) {
      got.push(win.samples[0]);
      await new Promise((r) => setTimeout(r, 1)); // a slow consumer
    }
    expect(got).toEqual([0, 1, 2, 3, 4, 5]);
    expect(w.maxOut).toBeLessThanOrEqual(start.prefetch);
    expect(w.terminated).toBe(1);
  });

  it('a consumer that breaks off terminates the worker', async () => {
    const w = new FakeWorker(100);
    const p = pumpOver(w);
    for await (const win of p.windows()) if (win.index === 2) break;
    expect(w.terminated).toBe(1);
    expect(w.sent).toBeLessThan(100);
    p.stop(); // idempotent (close() after the consumer)
    expect(w.terminated).toBe(1);
  });

  it('an error in the worker comes out with its code, message and details, after the windows before it', async () => {
    const e = new CaptionError('media/corrupt', '“clip.mp4” could not be read while decoding the audio', { name: 'clip.mp4', stage: 'decoding the audio' });
    const w = new FakeWorker(10, e, 3);
    const got: number[] = [];
    let caught: unknown = null;
    try {
      for await (const win of pumpOver(w).windows()) got.push(win.index);
    } catch (x) {
      caught = x;
    }
    expect(got).toEqual([0, 1, 2]);
    expect(isCaptionError(caught)).toBe(true);
    expect(serializeError(caught)).toEqual(serializeError(e));
    expect(w.terminated).toBe(1);
  });

  it('a worker that breaks (script failed to load) is a decode failure naming the file', async () => {
    const w = new FakeWorker(0);
    w.postMessage = () => queueMicrotask(() => w.onerror?.({ message: 'failed to fetch', preventDefault: () => undefined } as ErrorEvent));
    let caught: unknown = null;
    try {
      for await (const _ of pumpOver(w).windows()) void _;
    } catch (x) {
      caught = x;
    }
    expect(isCaptionError(caught) && caught.code).toBe('media/decode-failed');
    expect((caught as Error).message).toContain('clip.mp4');
    expect(w.terminated).toBe(1);
  });
});
