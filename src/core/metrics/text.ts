/**
 * Caption text metrics for reports and the compare view (PIPELINE §7): word count,
 * the paper's repetition rate, flags for unnatural patterns.
 */

const WORD = /[\p{L}\p{N}]+(?:(?:['’]|(?<=\p{N})[.,](?=\p{N}))[\p{L}\p{N}]+)*/gu;

/** Words: runs of letters/digits; apostrophes inside and 3.5 / 1,000 stay one word; hyphens separate. */
export function words(text: string): string[] {
  return text.match(WORD) ?? [];
}

export function wordCount(text: string): number {
  return words(text).length;
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

export type PatternKind = 'header' | 'odd-characters' | 'replacement-character';

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

/** Unnatural patterns the paper flags: section headers, runs of odd characters. */
export function unnaturalPatterns(text: string): PatternFlag[] {
  const flags: PatternFlag[] = [];
  for (const m of text.matchAll(HEADER)) flags.push({ kind: 'header', text: m[0].trim(), index: m.index + m[0].length - m[0].trimStart().length });
  for (const m of text.matchAll(ODD_RUN)) flags.push({ kind: 'odd-characters', text: m[0], index: m.index });
  for (const m of text.matchAll(/\uFFFD+/g)) flags.push({ kind: 'replacement-character', text: m[0], index: m.index });
  return flags.sort((a, b) => a.index - b.index);
}
