import { describe, expect, it } from 'vitest';
import { defaultOptions } from '../../core/options';
import { sampleManifest } from '../../core/bundle/fake-bundle.testutil';
import { parseCues } from '../../core/timed/track';
import { exportFileName, kindSummary, toExport, toMarkdown, toText, toTrackFile } from './export';
import { parseClock } from './format';
import { dragRange, keyRange, moveEdge, windowsOf } from './range';
import { migrateRecord, RECORD_VERSION, type RunRecord, type TurnRecord } from './run-record';

const options = defaultOptions(sampleManifest());

/** A record as version 1 of the app wrote it: no version, kind, range, track or turns. */
function v1(over: Record<string, unknown> = {}) {
  return {
    id: 'old-1',
    createdAt: Date.UTC(2026, 0, 2),
    status: 'done' as const,
    caption: 'An old caption.',
    options,
    model: { name: 'tiny', randomWeights: true, source: '/bundles/tiny/', backends: {}, adapter: null },
    video: { name: 'clip.mp4', bytes: 10, type: 'video/mp4', duration: 12 },
    thumbnails: [],
    report: null,
    error: null,
    tokensPerSecond: 1,
    wallMs: 10,
    ...over,
  };
}

const turn: TurnRecord = { question: 'What is heard?', answer: 'A beep.', prefillTokens: 9, reusedTokens: 120, stopReason: 'max-new-tokens', tokensPerSecond: 3, status: 'done', createdAt: 5 };

describe('history records: migration', () => {
  it('a version-1 record loads as a global caption with no track and no turns, nothing dropped', () => {
    const old = v1();
    const r = migrateRecord(old as never);
    expect(r).toEqual({ ...old, version: RECORD_VERSION, kind: 'global', range: null, track: null, turns: [] });
  });

  it('a version-1 local caption gets its kind and range from its options (or report)', () => {
    expect(migrateRecord(v1({ options: { ...options, range: { start: 2, end: 4 } } }) as never)).toMatchObject({ kind: 'local', range: { start: 2, end: 4 } });
    expect(migrateRecord(v1({ report: { range: { start: 1, end: 3 } } }) as never)).toMatchObject({ kind: 'local', range: { start: 1, end: 3 } });
  });

  it('a current record is returned as is', () => {
    const r = migrateRecord(v1() as never);
    expect(migrateRecord(r)).toBe(r);
  });
});

const track = (over: Partial<RunRecord> = {}): RunRecord => ({
  ...migrateRecord(v1() as never),
  kind: 'track',
  caption: 'Birds.\nA car.',
  track: {
    seconds: 5,
    segmentation: 'fixed',
    prompt: 'Describe it.',
    segments: 3,
    reused: 0,
    cues: [
      { start: 0, end: 5, text: 'Birds.' },
      { start: 5, end: 10, text: 'A car.' },
    ],
  },
  ...over,
});

describe('exports of multi-step runs', () => {
  it('a track exports its cues as WebVTT and SubRip that parse back', () => {
    const r = track();
    expect(toTrackFile(r, 'vtt')).toBe('WEBVTT\n\n1\n00:00:00.000 --> 00:00:05.000\nBirds.\n\n2\n00:00:05.000 --> 00:00:10.000\nA car.\n');
    expect(parseCues(toTrackFile(r, 'srt'))).toEqual(r.track!.cues);
    expect(exportFileName(r, 'vtt')).toBe('clip-old-1.vtt');
  });

  it('text, Markdown and JSON carry the kind, range, cues and turns', () => {
    const r = track({ status: 'cancelled', turns: [turn] });
    expect(toText(r)).toBe('[cancelled (partial)]\n\n[caption track: 2 of 3 segments of 5 s]\n\n[0:00.0–0:05.0] Birds.\n[0:05.0–0:10.0] A car.\n\nQ1: What is heard?\n\nA1: A beep.\n');
    const md = toMarkdown(r);
    expect(md).toContain('# Caption track of clip.mp4');
    expect(md).toContain('2 of 3 segments of 5 s; prompt: “Describe it.”');
    expect(md).toContain('- **0:05.0–0:10.0** A car.');
    expect(md).toContain('## Conversation\n\n**Q1:** What is heard?\n\n**A1:** A beep.');
    const local = { ...migrateRecord(v1() as never), kind: 'local' as const, range: { start: 3, end: 7 } };
    expect(toText(local)).toBe('[local caption of 0:03.0–0:07.0]\n\nAn old caption.\n');
    expect(toMarkdown(local)).toContain('Time range: **0:03.0–0:07.0**');
    const data = toExport(r);
    expect(data).toMatchObject({ kind: 'track', range: null, track: r.track, turns: [turn] });
    expect(kindSummary(r)).toBe('caption track (2 of 3 segments, 5 s each)');
    expect(kindSummary(local)).toBe('local caption 0:03.0–0:07.0');
    expect(kindSummary(migrateRecord(v1() as never))).toBe('caption');
  });
});

describe('the timeline range', () => {
  it('keys move the focused edge (1 s, Shift 0.1 s, Page 10 s, Home/End, [ ] at the playhead), clamped', () => {
    const cases: [string, boolean, 'start' | 'end', { start: number; end: number } | null, { start: number; end: number }][] = [
      ['ArrowRight', false, 'start', null, { start: 1, end: 12 }],
      ['ArrowLeft', false, 'end', null, { start: 0, end: 11 }],
      ['ArrowUp', true, 'start', { start: 3, end: 7 }, { start: 3.1, end: 7 }],
      ['ArrowDown', false, 'start', { start: 0, end: 7 }, { start: 0, end: 7 }],
      ['PageUp', false, 'start', { start: 3, end: 7 }, { start: 6.9, end: 7 }],
      ['PageDown', false, 'end', { start: 3, end: 7 }, { start: 3, end: 3.1 }],
      ['Home', false, 'end', { start: 3, end: 7 }, { start: 3, end: 3.1 }],
      ['End', false, 'end', { start: 3, end: 7 }, { start: 3, end: 12 }],
      ['[', false, 'end', { start: 3, end: 7 }, { start: 5.4, end: 7 }],
      [']', false, 'start', { start: 3, end: 7 }, { start: 3, end: 5.4 }],
    ];
    for (const [key, shift, edge, from, to] of cases) expect(keyRange(from, edge, key, shift, 12, 5.42), `${key} ${edge}`).toEqual(to);
    expect(keyRange(null, 'start', 'a', false, 12, 0)).toBeNull();
  });

  it('a drag selects [min, max] on the 0.1 s grid; a tiny one is no range', () => {
    expect(dragRange(7.26, 3.04, 12)).toEqual({ start: 3, end: 7.3 });
    expect(dragRange(-1, 20, 12)).toEqual({ start: 0, end: 12 });
    expect(dragRange(4.01, 4.03, 12)).toBeNull();
    expect(moveEdge({ start: 3, end: 7 }, 'start', 9, 12)).toEqual({ start: 6.9, end: 7 });
  });

  it('audio windows are planned from the range start (30 s windows)', () => {
    expect(windowsOf({ start: 3, end: 7 }, 12, 30)).toEqual([{ start: 3, end: 7 }]);
    expect(windowsOf({ start: 10, end: 75 }, 100, 30)).toEqual([
      { start: 10, end: 40 },
      { start: 40, end: 70 },
      { start: 70, end: 75 },
    ]);
    expect(windowsOf(null, 40, 30)).toEqual([
      { start: 0, end: 30 },
      { start: 30, end: 40 },
    ]);
  });

  it('typed times: seconds, m:ss, h:mm:ss, decimals; anything else is refused', () => {
    const ok: [string, number][] = [['75', 75], ['7.5', 7.5], ['1:15', 75], ['0:07.5', 7.5], [' 1:01:15 ', 3675]];
    for (const [t, v] of ok) expect(parseClock(t), t).toBe(v);
    for (const t of ['', 'abc', '1:75', '-3', '1::2', '1:2:3:4', '5s']) expect(parseClock(t), t).toBeNull();
  });
});

describe('exports of scene tracks and long captions', () => {
  const scenes = track({
    track: { seconds: 10, segmentation: 'scenes', cuts: [3, 7, 9.5, 10.5], prompt: 'Describe it.', segments: 4, reused: 0, cues: [{ start: 0, end: 3, text: 'Red.' }, { start: 3, end: 7, text: 'Bars.' }] },
  });
  const long: RunRecord = {
    ...migrateRecord(v1() as never),
    kind: 'long',
    caption: 'A red screen, then moving bars.',
    long: {
      targetWords: 40,
      clipSeconds: 10,
      strideSeconds: 5,
      total: 2,
      clips: [
        { start: 0, end: 10, caption: 'Red, then bars.' },
        { start: 5, end: 13, caption: 'Bars,\nthen blue.' },
      ],
      mergeLevels: [1],
      words: 6,
      lengthScore: 0,
      repetitionRate: 0,
    },
  };

  it('a scene track says "scene segments", not a segment length', () => {
    expect(kindSummary(scenes)).toBe('caption track (2 of 4 scene segments)');
    expect(toText(scenes)).toBe('[caption track: 2 of 4 scene segments]\n\n[0:00.0–0:03.0] Red.\n[0:03.0–0:07.0] Bars.\n');
    expect(toMarkdown(scenes)).toContain('2 of 4 scene segments; prompt: “Describe it.”');
    expect(toExport(scenes).track).toMatchObject({ segmentation: 'scenes', cuts: [3, 7, 9.5, 10.5] });
  });

  it('a long caption exports the merged caption and its clip captions; the JSON has its set-up and scores', () => {
    expect(kindSummary(long)).toBe('long caption (2 of 2 clips, 40 words target)');
    expect(toText(long)).toBe('[long caption: about 40 words from 2 of 2 clips of 10 s every 5 s]\n\nA red screen, then moving bars.\n\nClip captions:\n[0:00.0–0:10.0] Red, then bars.\n[0:05.0–0:13.0] Bars, then blue.\n');
    const md = toMarkdown(long);
    expect(md).toContain('# Long caption of clip.mp4');
    expect(md).toContain('about 40 words from 2 of 2 clips of 10 s every 5 s');
    expect(md).toContain('## Clip captions\n\n- **0:00.0–0:10.0** Red, then bars.\n- **0:05.0–0:13.0** Bars, then blue.');
    expect(toExport(long)).toMatchObject({ kind: 'long', caption: 'A red screen, then moving bars.', long: long.long });
    // A record written before long captions exports long: null.
    expect(toExport(migrateRecord(v1() as never)).long).toBeNull();
  });
});
