import { describe, expect, it } from 'vitest';
import { diffWords, wordSimilarity } from './diff.ts';
import { phrases, repetitionRate, unnaturalPatterns, wordCount } from './text.ts';

describe('wordCount / phrases', () => {
  it('counts letter/digit runs; apostrophes and decimals stay inside, hyphens split', () => {
    // The | dog's | well | kept | coat | 3.5 | m | long | 1,000
    expect(wordCount("The dog's well-kept coat, 3.5 m long! 1,000")).toBe(9);
    expect(wordCount('  ')).toBe(0);
  });

  it('splits phrases at punctuation but not inside numbers', () => {
    expect(phrases('A man walks. He smiles, then waves! Costs 3.5 dollars; 1,000 people')).toEqual([
      'a man walks', 'he smiles', 'then waves', 'costs 3.5 dollars', '1,000 people',
    ]);
    expect(phrases('...  ,,')).toEqual([]);
  });
});

describe('repetitionRate', () => {
  it('hand-worked: one phrase recurring three times', () => {
    // Phrases: "the cat sits" ×3 (3 words each), "a dog barks" ×1, "birds sing" ×1. Total 3·3 + 3 + 2 = 14 words.
    const r = repetitionRate('The cat sits. A dog barks. The cat sits, birds sing. the cat  sits.');
    expect(r.totalWords).toBe(14);
    expect(r.repeatedWords).toBe(9);
    expect(r.rate).toBeCloseTo(9 / 14, 12);
    expect(r.excessRate).toBeCloseTo(6 / 14, 12);
    expect(r.recurring).toEqual([{ phrase: 'the cat sits', count: 3, words: 3 }]);
  });

  it('is 0 without repeats and for empty text', () => {
    expect(repetitionRate('One phrase here. Another one there.').rate).toBe(0);
    expect(repetitionRate('').rate).toBe(0);
  });

  it('two recurring phrases', () => {
    // "music plays" ×2 (4 words), "he nods" ×2 (4 words), "the end" ×1 (2) → 8 / 10.
    const r = repetitionRate('Music plays; he nods. Music plays. He nods! The end.');
    expect(r.rate).toBeCloseTo(0.8, 12);
    expect(r.recurring.map((p) => p.phrase)).toEqual(['he nods', 'music plays']);
  });
});

describe('unnaturalPatterns', () => {
  it('flags section headers but not ordinary sentences with a colon', () => {
    const text = 'Video Description: a man walks.\n**Audio:** birds.\n## Summary\nThe man says: hello.\n1. Visual Elements: trees';
    const headers = unnaturalPatterns(text).filter((f) => f.kind === 'header');
    expect(headers.map((f) => f.text)).toEqual(['Video Description:', '**Audio:**', '## Summary', '1. Visual Elements:']);
    expect(headers[0].index).toBe(0);
    expect(text.slice(headers[1].index, headers[1].index + 10)).toBe('**Audio:**');
  });

  it('flags runs of odd characters and broken characters', () => {
    const flags = unnaturalPatterns('Fine text. Then @#$%^ noise and ______ and soooooo and a \uFFFD.');
    expect(flags.map((f) => [f.kind, f.text])).toEqual([
      ['odd-characters', '@#$%^'],
      ['odd-characters', '______'],
      ['odd-characters', 'oooooo'], // "soooooo": one character six times
      ['replacement-character', '\uFFFD'],
    ]);
    expect(unnaturalPatterns('A calm, normal caption — with a dash (and brackets).')).toEqual([]);
  });
});

describe('diffWords', () => {
  it('hand-worked LCS diff', () => {
    expect(diffWords('the cat sat on the mat', 'the black cat sat on a mat')).toEqual([
      { op: 'same', text: 'the', words: 1 },
      { op: 'added', text: 'black', words: 1 },
      { op: 'same', text: 'cat sat on', words: 3 },
      { op: 'removed', text: 'the', words: 1 },
      { op: 'added', text: 'a', words: 1 },
      { op: 'same', text: 'mat', words: 1 },
    ]);
  });

  it('reconstructs both texts and handles empty sides', () => {
    const a = 'A dog runs across the field, barking loudly.';
    const b = 'A small dog walks across the field quietly.';
    const parts = diffWords(a, b);
    const side = (keep: 'removed' | 'added') => parts.filter((p) => p.op === 'same' || p.op === keep).map((p) => p.text).join(' ');
    expect(side('removed')).toBe(a);
    expect(side('added')).toBe(b);
    expect(diffWords('', 'x y')).toEqual([{ op: 'added', text: 'x y', words: 2 }]);
    expect(diffWords('x', '')).toEqual([{ op: 'removed', text: 'x', words: 1 }]);
  });

  it('similarity is 2·LCS/(|a|+|b|)', () => {
    expect(wordSimilarity('the cat sat on the mat', 'the black cat sat on a mat')).toBeCloseTo((2 * 5) / 13, 12);
    expect(wordSimilarity('', '')).toBe(1);
  });
});
