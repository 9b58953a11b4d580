/**
 * Caption text metrics for reports and the compare view (PIPELINE §7): word count,
 * the paper's repetition rate, a loop rate for repeats the phrase rule cannot see, and
 * flags for unnatural patterns.
 */

/** Han / kana characters count one word each (those scripts put no spaces between words). */
const CJK = String.raw`\p{Script=Han}|\p{Script=Hiragana}|\p{Script=Katakana}`;
const WORD = new RegExp(String.raw`${CJK}|(?:(?!${CJK})[\p{L}\p{N}])+(?:(?:['’]|(?<=\p{N})[.,](?=\p{N}))(?:(?!${CJK})[\p{L}\p{N}])+)*`, 'gu');

/** A letter run longer than this is a run-on (no real word is), not one word. */
export const RUN_ON_CHARS = 24;
/** A run-on counts as one word per this many characters (an average English word). */
export const RUN_ON_WORD_CHARS = 6;

export interface WordSpan {
  text: string;
  /** Offset in the text. */
  index: number;
}

/**
 * Words with their offsets: runs of letters/digits (apostrophes inside and 3.5 / 1,000
 * stay one word; hyphens separate), each Han/kana character, and run-ons longer than
 * RUN_ON_CHARS cut into RUN_ON_WORD_CHARS-character pieces so a 10 000-character run-on
 * weighs like the text it replaces, not like one word.
 */
export function wordSpans(text: string): WordSpan[] {
  const out: WordSpan[] = [];
  for (const m of text.matchAll(WORD)) {
    const w = m[0];
    if (w.length <= RUN_ON_CHARS) out.push({ text: w, index: m.index });
    else for (let i = 0; i < w.length; i += RUN_ON_WORD_CHARS) out.push({ text: w.slice(i, i + RUN_ON_WORD_CHARS), index: m.index + i });
  }
  return out;
}

export function words(text: string): string[] {
  return wordSpans(text).map((w) => w.text);
}

export function wordCount(text: string): number {
  return wordSpans(text).length;
}

/**
 * Phrase boundaries: sentence/clause punctuation and line breaks; "." and "," between
 * two digits (3.5, 1,000) do not split.
 */
const PHRASE_BREAK = /[.,](?!\d)|(?<!\d)[.,]|[;:!?…"“”()[\]\n。，；：！？、]/u;

/** Phrases as normalised word sequences (lower case, single spaces), empty ones dropped. */
export function phrases(text: string): string[] {
  return text
    .split(PHRASE_BREAK)
    .map((p) => words(p).join(' ').toLowerCase())
    .filter((p) => p.length > 0);
}

export interface RecurringPhrase {
  phrase: string;
  count: number;
  words: number;
}

export interface RepetitionReport {
  /** Words in recurring phrases (every occurrence) / total words: PIPELINE §7. */
  rate: number;
  /** Only the redundant occurrences (all but the first) / total words. */
  excessRate: number;
  repeatedWords: number;
  totalWords: number;
  /** Phrases seen more than once, most words first. */
  recurring: RecurringPhrase[];
}

/**
 * Repetition rate (paper Appendix B): split the text into phrases at punctuation, count
 * each phrase's occurrences; rate = words in recurring phrases / total words.
 */
export function repetitionRate(text: string): RepetitionReport {
  const counts = new Map<string, number>();
  for (const p of phrases(text)) counts.set(p, (counts.get(p) ?? 0) + 1);
  const recurring: RecurringPhrase[] = [];
  let repeatedWords = 0;
  let excessWords = 0;
  for (const [phrase, count] of counts) {
    if (count < 2) continue;
    const n = phrase.split(' ').length;
    recurring.push({ phrase, count, words: n });
    repeatedWords += n * count;
    excessWords += n * (count - 1);
  }
  recurring.sort((a, b) => b.words * b.count - a.words * a.count || a.phrase.localeCompare(b.phrase));
  const totalWords = wordCount(text);
  const ratio = (x: number) => (totalWords ? x / totalWords : 0);
  return { rate: ratio(repeatedWords), excessRate: ratio(excessWords), repeatedWords, totalWords, recurring };
}

export type PatternKind = 'header' | 'odd-characters' | 'replacement-character' | 'loop';

export interface PatternFlag {
  kind: PatternKind;
  /** The offending text. */
  text: string;
  /** Its offset in the caption. */
  index: number;
}

/**
 * Headers: a line that starts with a markdown heading, or with 1–4 capitalised words
 * and a colon ("Video Description:", "**Audio:**", "1. Visual Elements:").
 */
const HEADER = /^[ \t]*(?:#{1,6}[ \t]+[^\n]+|(?:[-*•]|\d+\.)?[ \t]*(?:\*\*|__)?\p{Lu}[\p{L}'’-]*(?:[ \t]+\p{Lu}[\p{L}'’-]*){0,3}[ \t]*(?:\*\*|__)?:(?:\*\*|__)?)/gmu;
/** Three or more symbols in a row, or one character repeated five or more times. */
const ODD_RUN = /[^\p{L}\p{N}\s.,;:!?'"’“”()\-–—]{3,}|([^\s])\1{4,}/gu;

/**
 * Unnatural patterns: the paper's section headers and runs of odd characters, plus
 * degenerate loops (loopRate) of at least LOOP_FLAG_WORDS words.
 */
export function unnaturalPatterns(text: string): PatternFlag[] {
  const flags: PatternFlag[] = [];
  for (const l of loopRate(text).loops) if (l.words >= LOOP_FLAG_WORDS) flags.push({ kind: 'loop', text: `“${l.unit}” ×${l.count}`, index: l.index });
  for (const m of text.matchAll(HEADER)) flags.push({ kind: 'header', text: m[0].trim(), index: m.index + m[0].length - m[0].trimStart().length });
  for (const m of text.matchAll(ODD_RUN)) flags.push({ kind: 'odd-characters', text: m[0], index: m.index });
  for (const m of text.matchAll(/\uFFFD+/g)) flags.push({ kind: 'replacement-character', text: m[0], index: m.index });
  return flags.sort((a, b) => a.index - b.index);
}

/** A repeat unit of at most this many words. */
const MAX_LOOP_UNIT_WORDS = 16;
/** Consecutive occurrences that make a loop ("very very" is English; ×3 of a phrase is not). */
const MIN_LOOP_REPEATS = 3;
/** A loop covers at least this many words (so "very very very" is not one). */
const MIN_LOOP_WORDS = 6;
/** Loops this long are flagged as an unnatural pattern. */
export const LOOP_FLAG_WORDS = 12;
/** Sub-word loops inside a run-on: a unit of 2–12 characters repeated 4+ times. */
const SUBWORD_LOOP = /([\p{L}\p{N}]{2,12}?)\1{3,}/gu;

export interface Loop {
  /** The repeated unit: words joined by spaces, or characters of a run-on. */
  unit: string;
  /** Consecutive occurrences. */
  count: number;
  /** Words the whole loop covers (every occurrence). */
  words: number;
  /** Offset of the loop in the text. */
  index: number;
  kind: 'words' | 'characters';
}

export interface LoopReport {
  /** Words inside loops / total words. Sees repeats with no punctuation between them. */
  rate: number;
  loopWords: number;
  totalWords: number;
  /** In text order. */
  loops: Loop[];
}

/**
 * Loop rate: the share of words inside immediate repeats ("$uel $uel $uel …", "a man
 * walks a man walks a man walks") of a 1–16-word unit, at least 3 times and 6 words in
 * a row, found on the normalised words whatever the punctuation. Run-ons are also searched
 * for sub-word loops ("cessuxcessuxcessux…"), which count in words as wordCount counts them.
 */
export function loopRate(text: string): LoopReport {
  const spans = wordSpans(text);
  const w = spans.map((s) => s.text.toLowerCase());
  const loops: Loop[] = [];
  const inLoop = new Uint8Array(w.length);
  for (let i = 0; i < w.length; ) {
    let best = { n: 0, k: 0 };
    for (let n = 1; n <= MAX_LOOP_UNIT_WORDS && i + n * MIN_LOOP_REPEATS <= w.length; n++) {
      let k = 1;
      while (i + (k + 1) * n <= w.length && sameRun(w, i, i + k * n, n)) k++;
      if (k >= MIN_LOOP_REPEATS && n * k >= MIN_LOOP_WORDS && n * k > best.n * best.k) best = { n, k };
    }
    if (best.k === 0) {
      i++;
      continue;
    }
    const covered = best.n * best.k;
    loops.push({ unit: spans.slice(i, i + best.n).map((s) => s.text).join(' '), count: best.k, words: covered, index: spans[i].index, kind: 'words' });
    inLoop.fill(1, i, i + covered);
    i += covered;
  }
  // Sub-word loops inside run-ons the word pass did not already cover.
  for (const m of text.matchAll(WORD)) {
    if (m[0].length <= RUN_ON_CHARS) continue;
    for (const r of m[0].matchAll(SUBWORD_LOOP)) {
      const start = m.index + r.index;
      const end = start + r[0].length;
      let covered = 0;
      let fresh = 0;
      spans.forEach((s, j) => {
        if (s.index >= start && s.index < end) {
          covered++;
          if (!inLoop[j]) fresh++;
          inLoop[j] = 1;
        }
      });
      if (fresh > 0 && covered >= 1) loops.push({ unit: r[1], count: r[0].length / r[1].length, words: covered, index: start, kind: 'characters' });
    }
  }
  loops.sort((a, b) => a.index - b.index);
  const loopWords = inLoop.reduce((a, b) => a + b, 0);
  return { rate: w.length ? loopWords / w.length : 0, loopWords, totalWords: w.length, loops };
}

function sameRun(w: string[], a: number, b: number, n: number): boolean {
  for (let j = 0; j < n; j++) if (w[a + j] !== w[b + j]) return false;
  return true;
}
