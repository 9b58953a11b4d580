import { describe, expect, it } from 'vitest';
import { diffWords, wordSimilarity } from './diff.ts';
import { loopRate, phrases, repetitionRate, RUN_ON_WORD_CHARS, unnaturalPatterns, wordCount, wordSpans } from './text.ts';

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

describe('word counts of run-ons and scripts without spaces', () => {
  it('a 10 000-character run-on counts as one word per 6 characters, not as 1', () => {
    const runOn = 'cessuxename'.repeat(909) + 'c'; // 10 000 letters, no space
    expect(wordCount(`Start ${runOn} end`)).toBe(2 + Math.ceil(10_000 / RUN_ON_WORD_CHARS));
    // Long real words stay one word.
    expect(wordCount('internationalization electroencephalography')).toBe(2);
  });

  it('Han and kana characters count one word each; offsets point into the text', () => {
    expect(wordCount('一个男人在走路')).toBe(7);
    expect(wordCount('A man 走路.')).toBe(4);
    const text = 'Hi, 走 there';
    expect(wordSpans(text).map((w) => [w.text, text.slice(w.index, w.index + w.text.length)])).toEqual([
      ['Hi', 'Hi'], ['走', '走'], ['there', 'there'],
    ]);
  });
});

describe('loopRate', () => {
  it('"$uel $uel …" ×90: the phrase rate sees one phrase (0 %), the loop rate sees 100 % and it is flagged', () => {
    const text = Array.from({ length: 90 }, () => '$uel').join(' ');
    expect(repetitionRate(text).rate).toBe(0);
    const r = loopRate(text);
    expect(r.totalWords).toBe(90);
    expect(r.loopWords).toBe(90);
    expect(r.rate).toBe(1);
    expect(r.loops).toEqual([{ unit: 'uel', count: 90, words: 90, index: 1, kind: 'words' }]);
    expect(unnaturalPatterns(text)).toEqual([{ kind: 'loop', text: '“uel” ×90', index: 1 }]);
  });

  it('hand-worked: a 3-word unit ×4 inside ordinary text, without punctuation', () => {
    // 2 + 12 + 3 = 17 words; the loop is the 12 in the middle.
    const r = loopRate('First words a man walks a man walks A man walks a man walks then it ends');
    expect(r.totalWords).toBe(17);
    expect(r.loops).toEqual([{ unit: 'a man walks', count: 4, words: 12, index: 12, kind: 'words' }]);
    expect(r.rate).toBeCloseTo(12 / 17, 12);
  });

  it('ordinary repetition is not a loop: "very very very", a phrase twice, a refrain with other words between', () => {
    expect(loopRate('It was very very very cold.').loops).toEqual([]);
    expect(loopRate('The dog barks the dog barks at night.').loops).toEqual([]);
    expect(loopRate('He sings la la, then talks, then sings la la again.').rate).toBe(0);
    expect(loopRate('').rate).toBe(0);
  });

  it('sub-word loops inside a run-on', () => {
    const text = `Look ${'cessux'.repeat(10)} end`; // 60 letters → 10 six-letter pieces
    const r = loopRate(text);
    expect(r.totalWords).toBe(12);
    // The pieces line up with the period here, so the word pass finds it first.
    expect(r.loops).toEqual([{ unit: 'cessux', count: 10, words: 10, index: 5, kind: 'words' }]);
    const odd = `Look ${'abcde'.repeat(12)} end`; // period 5 ≠ piece length 6
    const o = loopRate(odd);
    expect(o.loops).toEqual([{ unit: 'abcde', count: 12, words: 10, index: 5, kind: 'characters' }]);
    expect(o.rate).toBeCloseTo(10 / 12, 12);
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
