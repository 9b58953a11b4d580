import { describe, expect, it } from 'vitest';
import { clipPrompt, lengthScore, longCaption, mergePrompt, type LongCaptionModel } from './long-caption';
import { clipsOf } from './track';

/** A fake model that records every prompt it is given and answers from a script. */
function fakeModel(contextTokens: number) {
  const calls: { kind: 'clip' | 'merge'; prompt: string; clip?: [number, number] }[] = [];
  let merges = 0;
  const model: LongCaptionModel = {
    async captionClip(clip, prompt) {
      calls.push({ kind: 'clip', prompt, clip: [clip.start, clip.end] });
      return `caption of ${clip.start}-${clip.end}`;
    },
    async complete(prompt) {
      calls.push({ kind: 'merge', prompt });
      merges++;
      return `merged ${merges}`;
    },
    countTokens: (text) => text.split(/\s+/).length, // one token per word, for the test
    contextTokens,
  };
  return { model, calls };
}

describe('long captions', () => {
  it('captions the clips in order, each with the previous caption as context, then merges once when it fits', async () => {
    const { model, calls } = fakeModel(10_000);
    const clips = clipsOf(23, 10, 5); // [0,10] [5,15] [10,20] [15,23]
    const r = await longCaption(clips, model, { targetWords: 300 });
    expect(calls.filter((c) => c.kind === 'clip').map((c) => c.clip)).toEqual([[0, 10], [5, 15], [10, 20], [15, 23]]);
    expect(calls[0].prompt).toBe(clipPrompt(null));
    expect(calls[1].prompt).toBe(clipPrompt('caption of 0-10'));
    expect(calls[3].prompt).toContain('caption of 10-20');
    expect(calls[3].prompt).not.toContain('caption of 0-10');
    const merges = calls.filter((c) => c.kind === 'merge');
    expect(merges).toHaveLength(1);
    expect(merges[0].prompt).toBe(mergePrompt(r.clips, 300));
    expect(merges[0].prompt).toContain('[0:00–0:10] caption of 0-10\n[0:05–0:15] caption of 5-15');
    expect(merges[0].prompt).toContain('about 300 words');
    expect(r.mergeLevels).toEqual([1]);
    expect(r.caption).toBe('merged 1');
  });

  it('merges hierarchically when the merge prompt would exceed the context', async () => {
    // The merge prompt's header is 31 words and each timestamped clip line 4 ("[0:00–0:10]
    // caption of 0-10"): two lines take 31 + 8 = 39 ≤ 40 tokens, three take 43 > 40.
    const { model, calls } = fakeModel(40);
    expect(mergePrompt([], 100).trim().split(/\s+/).length).toBe(31);
    const clips = clipsOf(25, 10, 5); // 4 clips
    const r = await longCaption(clips, model, { targetWords: 100 });
    const merges = calls.filter((c) => c.kind === 'merge').map((c) => c.prompt);
    // Level 1: {0-10, 5-15} and {10-20, 15-25}; level 2: the two group summaries, with their spans.
    expect(r.mergeLevels).toEqual([2, 1]);
    expect(merges[0]).toContain('caption of 0-10');
    expect(merges[0]).toContain('caption of 5-15');
    expect(merges[0]).not.toContain('caption of 10-20');
    expect(merges[1]).toContain('caption of 15-25');
    expect(merges[2]).toContain('[0:00–0:15] merged 1\n[0:10–0:25] merged 2');
    expect(r.caption).toBe('merged 3');
  });

  it('stops with a clear error when not even two captions fit together', async () => {
    const { model } = fakeModel(30);
    await expect(longCaption(clipsOf(20, 10, 5), model, { targetWords: 100 })).rejects.toThrow(/do not fit the merge context/);
  });

  it('scores the length as LongWriter does', () => {
    expect(lengthScore(1000, 1000)).toBe(100);
    expect(lengthScore(2000, 1000)).toBeCloseTo(100 * (1 - 1 / 3), 10); // l′/l − 1 = 1 → 1 − 1/3
    expect(lengthScore(4000, 1000)).toBe(0); // 1 − 3/3
    expect(lengthScore(500, 1000)).toBe(50); // l/l′ − 1 = 1 → 1 − 1/2
    expect(lengthScore(300, 1000)).toBe(0); // 1 − (10/3 − 1)/2 < 0
  });
});
