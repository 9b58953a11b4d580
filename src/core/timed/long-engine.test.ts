/**
 * Long captions through the Engine on the tiny bundle and a real mp4 (ffmpeg): clips are
 * local captions with the clip prompt (the previous caption carried over), merges are
 * text-only turns, and a small merge context splits the merge hierarchically. The weights
 * are random, so the text is soup: what is tested is the structure — ranges, prompts,
 * which captions each merge was given.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeEngine } from '../../cli/engine';
import type { CaptionRequest } from '../options';
import { wordCount } from '../metrics/text';
import { clipPrompt, longCaption, mergePrompt, type ClipCaption } from './long-caption';
import { engineLongCaptionModel, mergeContextTokens } from './long-engine';
import { clipsOf } from './track';

const TINY = 'public/bundles/tiny';
const VIDEO = 'e2e/fixtures/out/h264_aac.mp4'; // 12 s
const request: CaptionRequest = { decoding: { kind: 'greedy' }, maxNewTokens: 6 };
const TARGET = 100;

describe('long captions through the engine', () => {
  const engine = nodeEngine({ warmUp: false });
  let mediaId = '';
  beforeAll(async () => {
    await engine.load(TINY);
    mediaId = (await engine.open(VIDEO)).mediaId;
  });
  afterAll(() => engine.dispose());

  it('clips in order with the previous caption as context, one merge in the bundle\'s context; then pairs only for a small context', async () => {
    const manifest = engine.loaded!.manifest;
    const countTokens = (t: string) => engine.completionTokens(t, request);
    const clips = clipsOf(12, 4, 2);
    expect(clips).toEqual([{ start: 0, end: 4 }, { start: 2, end: 6 }, { start: 4, end: 8 }, { start: 6, end: 10 }, { start: 8, end: 12 }]);

    const big = engineLongCaptionModel(engine, mediaId, { manifest, countTokens, request });
    expect(big.contextTokens).toBe(32768 - 6); // llm.maxPositions − maxNewTokens
    expect(mergeContextTokens(manifest)).toBe(32768 - 1024); // the bundle's generation.maxNewTokens
    const r1 = await longCaption(clips, big, { targetWords: TARGET });
    expect(big.clipReports.map((r) => r.range)).toEqual(clips);
    expect(big.clipReports.map((r) => r.options.prompt)).toEqual(r1.clips.map((_, i) => clipPrompt(i ? r1.clips[i - 1].caption : null)));
    // Frames of each clip inside its range (the paper rule: 4 frames over 4 s).
    for (const [i, r] of big.clipReports.entries()) for (const f of r.frames) expect(f.timestamp >= clips[i].start && f.timestamp < clips[i].end).toBe(true);
    expect(r1.mergeLevels).toEqual([1]);
    expect(big.mergeReports.map((m) => m.prompt)).toEqual([mergePrompt(r1.clips, TARGET)]);
    expect(r1.caption).toBe(big.mergeReports[0].answer);
    expect(r1.words).toBe(wordCount(r1.caption));

    // A context where every two consecutive captions fit and no three do.
    const count = (parts: ClipCaption[]) => countTokens(mergePrompt(parts, TARGET));
    const pairs = [0, 1, 2, 3].map((i) => count(r1.clips.slice(i, i + 2)));
    const triples = [0, 1, 2].map((i) => count(r1.clips.slice(i, i + 3)));
    expect(Math.max(...pairs)).toBeLessThan(Math.min(...triples));
    const small = engineLongCaptionModel(engine, mediaId, { manifest, countTokens, request, contextTokens: Math.max(...pairs) });
    const r2 = await longCaption(clips, small, { targetWords: TARGET });
    expect(r2.clips).toEqual(r1.clips); // greedy: the same clip captions
    // By hand: five captions in pairs → three merges, of 0–6 s, 4–10 s and 8–12 s.
    expect(r2.mergeLevels[0]).toBe(3);
    const level1 = small.mergeReports.slice(0, 3);
    expect(level1.map((m) => m.prompt)).toEqual([mergePrompt(r1.clips.slice(0, 2), TARGET), mergePrompt(r1.clips.slice(2, 4), TARGET), mergePrompt(r1.clips.slice(4), TARGET)]);
    // The next level merges the level-1 summaries with their spans; the last level is one merge.
    expect(small.mergeReports[3].prompt).toContain(`[0:00–0:06] ${level1[0].answer}`);
    expect(r2.mergeLevels[r2.mergeLevels.length - 1]).toBe(1);
    expect(small.mergeReports).toHaveLength(r2.mergeLevels.reduce((a, b) => a + b, 0));
    for (const m of small.mergeReports) expect(m.promptTokenIds.length).toBeLessThanOrEqual(small.contextTokens);
    expect(r2.caption).toBe(small.mergeReports[small.mergeReports.length - 1].answer);
  });
});
