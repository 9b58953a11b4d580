import { describe, expect, it } from 'vitest';
import type { TimeRange } from '../../core/timed/track';
import { TRACK_PROMPT } from '../../core/timed/track-run';
import { TrackStore } from './tracks';

/** A captioner that records its calls and answers "caption of a–b". */
function fakeCaptioner(fail?: (r: TimeRange) => Error | null) {
  const calls: { range: TimeRange; prompt: string; settings: Record<string, unknown> }[] = [];
  const captioner = async (range: TimeRange, prompt: string, settings: Record<string, unknown>) => {
    calls.push({ range, prompt, settings });
    const e = fail?.(range);
    if (e) throw e;
    return `  caption of ${range.start}–${range.end}\n`;
  };
  return { calls, captioner };
}

const request = { seconds: 5, settings: { request: { modality: 'av', maxNewTokens: 4 }, model: 'tiny' } };

describe('caption tracks in the app state', () => {
  it('captions the segments in order, announcing segment i of n and streaming the cues', async () => {
    const store = new TrackStore();
    const media = {};
    const { calls, captioner } = fakeCaptioner();
    const segments: [number, number, TimeRange][] = [];
    const streamed: number[] = [];
    const out = await store.run(media, 12, request, captioner, { onSegment: (i, n, r) => segments.push([i, n, r]), onCues: (c) => streamed.push(c.length) });
    expect(out.error).toBeNull();
    expect(out.total).toBe(3);
    expect(out.reused).toBe(0);
    expect(out.cues).toEqual([
      { start: 0, end: 5, text: 'caption of 0–5' },
      { start: 5, end: 10, text: 'caption of 5–10' },
      { start: 10, end: 12, text: 'caption of 10–12' },
    ]);
    expect(segments).toEqual([
      [0, 3, { start: 0, end: 5 }],
      [1, 3, { start: 5, end: 10 }],
      [2, 3, { start: 10, end: 12 }],
    ]);
    expect(streamed).toEqual([1, 2, 3]);
    expect(calls.map((c) => c.prompt)).toEqual([TRACK_PROMPT, TRACK_PROMPT, TRACK_PROMPT]);
    expect(calls[0].settings).toEqual(request.settings);
  });

  it('the same media and settings reuse every cue; other settings or another file recompute', async () => {
    const store = new TrackStore();
    const media = {};
    const first = fakeCaptioner();
    const a = await store.run(media, 12, request, first.captioner);
    expect(store.trackOf(media)).toBe(store.trackOf(media));
    const again = fakeCaptioner();
    const b = await store.run(media, 12, request, again.captioner);
    expect(again.calls).toHaveLength(0);
    expect(b).toEqual({ ...a, reused: 3 });

    const other = fakeCaptioner();
    await store.run(media, 12, { ...request, settings: { ...request.settings, model: 'another' } }, other.captioner);
    expect(other.calls).toHaveLength(3);
    const otherFile = fakeCaptioner();
    await store.run({}, 12, request, otherFile.captioner);
    expect(otherFile.calls).toHaveLength(3);
    // 4 s segments share no segment with the 5 s ones: all new.
    const short = fakeCaptioner();
    const c = await store.run(media, 12, { ...request, seconds: 4 }, short.captioner);
    expect(short.calls.map((x) => x.range)).toEqual([
      { start: 0, end: 4 },
      { start: 4, end: 8 },
      { start: 8, end: 12 },
    ]);
    expect(c.reused).toBe(0);
  });

  it('Cancel keeps the cues done so far; the next run takes them from the cache and does the rest', async () => {
    const store = new TrackStore();
    const media = {};
    const abort = new AbortController();
    const first = fakeCaptioner();
    const out = await store.run(media, 12, request, first.captioner, { onCues: (c) => (c.length === 1 ? abort.abort() : undefined) }, abort.signal);
    expect((out.error as DOMException).name).toBe('AbortError');
    expect(out.cues).toEqual([{ start: 0, end: 5, text: 'caption of 0–5' }]);
    expect(first.calls).toHaveLength(1);
    const rest = fakeCaptioner();
    const done = await store.run(media, 12, request, rest.captioner);
    expect(rest.calls.map((x) => x.range.start)).toEqual([5, 10]);
    expect(done.reused).toBe(1);
    expect(done.cues).toHaveLength(3);
  });

  it('a failing segment ends the run with its error and the cues before it; it is not cached', async () => {
    const store = new TrackStore();
    const media = {};
    const boom = new Error('the decoder failed');
    const failing = fakeCaptioner((r) => (r.start === 5 ? boom : null));
    const out = await store.run(media, 12, request, failing.captioner);
    expect(out.error).toBe(boom);
    expect(out.cues.map((c) => c.start)).toEqual([0]);
    expect(out.reused).toBe(0);
    const retry = fakeCaptioner();
    const ok = await store.run(media, 12, request, retry.captioner);
    expect(retry.calls.map((x) => x.range.start)).toEqual([5, 10]);
    expect(ok.error).toBeNull();
    expect(ok.reused).toBe(1);
  });
});

describe('caption tracks at scene changes in the app state', () => {
  const scenes = { segments: [{ start: 0, end: 3 }, { start: 3, end: 7 }, { start: 7, end: 13 }], options: { fps: 2, threshold: 0.3, minSeconds: 2, maxSeconds: 30 } };

  it('captions the scene segments (not fixed ones), announcing them; its cues are cached apart from a fixed track', async () => {
    const store = new TrackStore();
    const media = {};
    const { calls, captioner } = fakeCaptioner();
    const announced: [number, number, TimeRange][] = [];
    const out = await store.run(media, 13, { ...request, scenes }, captioner, { onSegment: (i, n, r) => announced.push([i, n, r]) });
    expect(out).toMatchObject({ total: 3, reused: 0, error: null });
    expect(out.cues.map((c) => [c.start, c.end])).toEqual([[0, 3], [3, 7], [7, 13]]);
    expect(announced).toEqual([
      [0, 3, { start: 0, end: 3 }],
      [1, 3, { start: 3, end: 7 }],
      [2, 3, { start: 7, end: 13 }],
    ]);
    // Again with the scenes: all from the cache; fixed 5 s segments: all recomputed.
    expect((await store.run(media, 13, { ...request, scenes }, captioner)).reused).toBe(3);
    expect(calls).toHaveLength(3);
    const fixed = await store.run(media, 13, request, captioner);
    expect(fixed.reused).toBe(0);
    expect(calls.slice(3).map((c) => [c.range.start, c.range.end])).toEqual([[0, 5], [5, 10], [10, 13]]);
  });
});
