import { describe, expect, it } from 'vitest';
import { clipsOf, parseCues, segmentsOf, timecode, toSrt, toWebVtt, type Cue } from './track';

describe('caption-track segments', () => {
  it.each([
    // duration, length → segments (by hand: [0,10) [10,20) …, a tail under length/4 joins the previous one)
    [35, 10, [[0, 10], [10, 20], [20, 30], [30, 35]]],
    [31, 10, [[0, 10], [10, 20], [20, 31]]], // 1 s tail < 2.5 s → joined
    [10, 10, [[0, 10]]],
    [4.2, 10, [[0, 4.2]]],
    [22.5, 7.5, [[0, 7.5], [7.5, 15], [15, 22.5]]],
  ])('%d s in %d s pieces', (duration, length, expected) => {
    const segs = segmentsOf(duration, length);
    expect(segs.map((s) => [s.start, s.end])).toEqual(expected);
    // In order, no overlap, no gap, covering the video.
    expect(segs[0].start).toBe(0);
    expect(segs[segs.length - 1].end).toBe(duration);
    for (let i = 1; i < segs.length; i++) expect(segs[i].start).toBe(segs[i - 1].end);
  });

  it('LongCaptioning clips: 10 s windows every 5 s up to the end', () => {
    expect(clipsOf(23, 10, 5).map((c) => [c.start, c.end])).toEqual([[0, 10], [5, 15], [10, 20], [15, 23]]);
    expect(clipsOf(8, 10, 5).map((c) => [c.start, c.end])).toEqual([[0, 8]]);
  });
});

describe('WebVTT and SRT', () => {
  const cues: Cue[] = [
    { start: 0, end: 10, text: 'A man walks in.\n\nHe says hello.' },
    { start: 10, end: 20.5, text: 'A dog barks --> loudly' },
    { start: 3599.9996, end: 3725.25, text: 'Late cue' },
  ];

  it('formats timecodes to the millisecond', () => {
    expect(timecode(0, '.')).toBe('00:00:00.000');
    expect(timecode(20.5, ',')).toBe('00:00:20,500');
    expect(timecode(3599.9996, '.')).toBe('01:00:00.000'); // 3 599 999.6 ms rounds up
    expect(timecode(3725.25, ',')).toBe('01:02:05,250');
  });

  it('writes files a parser reads back: same times, cue text without blank lines or arrows', () => {
    const vtt = toWebVtt(cues);
    expect(vtt.startsWith('WEBVTT\n\n1\n00:00:00.000 --> 00:00:10.000\nA man walks in.\nHe says hello.\n')).toBe(true);
    for (const text of [vtt, toSrt(cues)]) {
      const back = parseCues(text);
      expect(back.map((c) => [c.start, c.end])).toEqual([[0, 10], [10, 20.5], [3600, 3725.25]]);
      expect(back.map((c) => c.text)).toEqual(['A man walks in.\nHe says hello.', 'A dog barks → loudly', 'Late cue']);
    }
    expect(toSrt(cues).split('\n').slice(0, 4)).toEqual(['1', '00:00:00,000 --> 00:00:10,000', 'A man walks in.', 'He says hello.']);
  });
});

describe('CaptionTrack', () => {
  it('captions the segments in order and recomputes nothing for the same settings', async () => {
    const { CaptionTrack } = await import('./track-run');
    const calls: string[] = [];
    const track = new CaptionTrack(async (r, prompt, settings) => {
      calls.push(`${r.start}-${r.end} ${String(settings.mode)}`);
      return ` ${prompt.slice(0, 8)} ${r.start} `;
    });
    const seen: number[] = [];
    const cues = await track.run(25, { seconds: 10, settings: { mode: 'av' } }, (_c, i) => seen.push(i));
    expect(cues.map((c) => [c.start, c.end])).toEqual([[0, 10], [10, 20], [20, 25]]); // the 5 s tail ≥ 10/4: a cue of its own
    expect(seen).toEqual([0, 1, 2]);
    expect(cues[0].text).toBe('Describe 0');
    await track.run(25, { seconds: 10, settings: { mode: 'av' } });
    expect(calls).toEqual(['0-10 av', '10-20 av', '20-25 av']);
    await track.run(25, { seconds: 10, settings: { mode: 'v' } });
    expect(calls).toHaveLength(6);
    expect(parseCues(toWebVtt(cues)).map((c) => c.text)).toEqual(['Describe 0', 'Describe 10', 'Describe 20']);
  });

  it('takes scene segments instead of fixed ones; the segmentation is part of the cache key', async () => {
    const { CaptionTrack } = await import('./track-run');
    const { DEFAULT_SCENE_OPTIONS } = await import('./scenes');
    const calls: string[] = [];
    const track = new CaptionTrack(async (r) => {
      calls.push(`${r.start}-${r.end}`);
      return `at ${r.start}`;
    });
    const scenes = { segments: [{ start: 0, end: 3 }, { start: 3, end: 10 }, { start: 10, end: 13 }], options: { ...DEFAULT_SCENE_OPTIONS } };
    const cues = await track.run(13, { seconds: 10, scenes });
    expect(cues).toEqual([{ start: 0, end: 3, text: 'at 0' }, { start: 3, end: 10, text: 'at 3' }, { start: 10, end: 13, text: 'at 10' }]);
    await track.run(13, { seconds: 10, scenes });
    expect(calls).toEqual(['0-3', '3-10', '10-13']);
    // Fixed 10 s segments: 0–10 and the 3 s tail (≥ 10/4); none is served from the scene cues.
    await track.run(13, { seconds: 10 });
    expect(calls).toEqual(['0-3', '3-10', '10-13', '0-10', '10-13']);
    // Another scene rule is another segmentation.
    await track.run(13, { seconds: 10, scenes: { ...scenes, options: { ...scenes.options, threshold: 0.5 } } });
    expect(calls).toHaveLength(8);
    await expect(track.run(13, { seconds: 10, scenes: { ...scenes, segments: [{ start: 0, end: 3 }, { start: 4, end: 13 }] } })).rejects.toThrow('without gaps: got 0–3, 4–13');
  });
});
