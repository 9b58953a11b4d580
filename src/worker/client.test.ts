/**
 * The worker client settles every request by its id only: an event of request 1 that
 * arrives after request 2 started changes nothing in request 2 (the worker is a test
 * double that records what was posted and lets the test deliver events in any order).
 */
import { describe, expect, it } from 'vitest';
import { EngineError, WorkerEngine, type WorkerLike } from './client';
import type { WorkerEvent, WorkerRequest } from './protocol';

class FakeWorker implements WorkerLike {
  posted: WorkerRequest[] = [];
  onmessage: ((e: MessageEvent<WorkerEvent>) => void) | null = null;
  onerror: ((e: ErrorEvent) => void) | null = null;
  terminated = false;
  postMessage(m: WorkerRequest): void {
    this.posted.push(m);
  }
  terminate(): void {
    this.terminated = true;
  }
  emit(ev: WorkerEvent): void {
    this.onmessage?.({ data: ev } as MessageEvent<WorkerEvent>);
  }
}

const report = (caption: string) => ({ caption }) as never;

describe('WorkerEngine request ids', () => {
  it('routes every event by id: a late event of request 1 never reaches request 2', async () => {
    const w = new FakeWorker();
    const engine = new WorkerEngine(w);
    const seen1: string[] = [];
    const seen2: string[] = [];
    const frames2: number[] = [];
    const p1 = engine.caption('m1', {}, { onToken: (t) => seen1.push(t) });
    const id1 = w.posted[0].id;
    w.emit({ type: 'token', id: id1, text: 'a', tokenId: 1, tokensPerSecond: 0 });
    engine.interrupt();
    expect(w.posted[1]).toMatchObject({ type: 'interrupt', target: id1 });
    w.emit({ type: 'error', id: id1, error: { code: 'runtime/interrupted', message: 'The run was cancelled.', details: { stage: 'generate', partialCaption: 'a' } } });
    const e1 = await p1.catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(EngineError);
    expect((e1 as EngineError).partialCaption).toBe('a');

    const p2 = engine.caption('m1', {}, { onToken: (t) => seen2.push(t), onFrames: (f) => frames2.push(...f.map((x) => x.index)) });
    const id2 = w.posted[2].id;
    expect(id2).not.toBe(id1);
    // Late events of request 1 (its frames, a token, even a second result) arrive now.
    w.emit({ type: 'frames', id: id1, frames: [{ index: 0, timestamp: 0, thumbnail: null }] });
    w.emit({ type: 'token', id: id1, text: 'late', tokenId: 2, tokensPerSecond: 0 });
    w.emit({ type: 'result', id: id1, value: report('run 1') });
    w.emit({ type: 'token', id: id2, text: 'b', tokenId: 3, tokensPerSecond: 0 });
    w.emit({ type: 'result', id: id2, value: report('run 2') });
    await expect(p2).resolves.toEqual({ caption: 'run 2' });
    expect(seen1).toEqual(['a']);
    expect(seen2).toEqual(['b']);
    expect(frames2).toEqual([]);
    // Nothing pending: interrupt sends nothing.
    engine.interrupt();
    expect(w.posted).toHaveLength(3);
  });

  it('interrupt targets the latest pending request; dispose rejects what is pending and stops the worker', async () => {
    const w = new FakeWorker();
    const engine = new WorkerEngine(w);
    const p = engine.ask('m1', 'why?');
    const id = w.posted[0].id;
    engine.interrupt();
    expect(w.posted[1]).toEqual({ id: w.posted[1].id, type: 'interrupt', target: id });
    await engine.dispose();
    await expect(p).rejects.toMatchObject({ error: { code: 'runtime/interrupted' } });
    expect(w.terminated).toBe(true);
  });

  it('complete and scenes: posted with their own ids and forms, tokens and progress routed to them, interrupt stops them', async () => {
    const w = new FakeWorker();
    const engine = new WorkerEngine(w);
    const tokens: string[] = [];
    const p = engine.complete('Merge these.', { maxNewTokens: 4 }, { onToken: (t) => tokens.push(t) });
    expect(w.posted[0]).toEqual({ id: w.posted[0].id, type: 'complete', prompt: 'Merge these.', request: { maxNewTokens: 4 } });
    const id = w.posted[0].id;
    w.emit({ type: 'token', id, text: 'one', tokenId: 5, tokensPerSecond: 0 });
    engine.interrupt();
    expect(w.posted[1]).toMatchObject({ type: 'interrupt', target: id });
    w.emit({ type: 'error', id, error: { code: 'runtime/interrupted', message: 'The run was cancelled.', details: { stage: 'generate', partialCaption: 'one' } } });
    await expect(p).rejects.toMatchObject({ error: { code: 'runtime/interrupted', details: { stage: 'generate' } } });
    expect(tokens).toEqual(['one']);

    const fractions: number[] = [];
    const s = engine.scenes('m2', { threshold: 0.4 }, { onProgress: (ev) => fractions.push(ev.fraction) });
    const sid = w.posted[2].id;
    expect(w.posted[2]).toEqual({ id: sid, type: 'scenes', mediaId: 'm2', options: { threshold: 0.4 } });
    w.emit({ type: 'progress', id, stage: 'decode', fraction: 0.9 }); // a late event of the settled request
    w.emit({ type: 'progress', id: sid, stage: 'decode', fraction: 0.5 });
    w.emit({ type: 'result', id: sid, value: { segments: [{ start: 0, end: 3 }] } as never });
    await expect(s).resolves.toEqual({ segments: [{ start: 0, end: 3 }] });
    expect(fractions).toEqual([0.5]);
  });

  it('completionTokens asks the worker to count a merge prompt and resolves with its number', async () => {
    const w = new FakeWorker();
    const engine = new WorkerEngine(w);
    const count = engine.completionTokens('Merge these.', { maxNewTokens: 4 });
    expect(w.posted[0]).toMatchObject({ type: 'tokens', prompt: 'Merge these.', request: { maxNewTokens: 4 } });
    w.emit({ type: 'result', id: w.posted[0].id, value: 17 });
    await expect(count).resolves.toBe(17);
  });
});
