/** Live caption metrics (PIPELINE §7) over the core's pure metric functions. */
import { repetitionRate, unnaturalPatterns, wordCount, type PatternFlag } from '../../core/metrics';

export interface CaptionStats {
  words: number;
  repetition: number;
  recurring: { phrase: string; count: number }[];
  flags: PatternFlag[];
}

export function captionStats(text: string): CaptionStats {
  const rep = repetitionRate(text);
  return {
    words: wordCount(text),
    repetition: rep.rate,
    recurring: rep.recurring.slice(0, 5).map((r) => ({ phrase: r.phrase, count: r.count })),
    flags: unnaturalPatterns(text),
  };
}

export const FLAG_LABEL: Record<PatternFlag['kind'], string> = {
  header: 'section header',
  'odd-characters': 'odd characters',
  'replacement-character': 'broken character',
};

/** "3 section headers, 1 odd characters" (grouped, in order of first appearance). */
export function summarizeFlags(flags: PatternFlag[]): string {
  if (flags.length === 0) return 'none';
  const counts = new Map<string, number>();
  for (const f of flags) counts.set(FLAG_LABEL[f.kind], (counts.get(FLAG_LABEL[f.kind]) ?? 0) + 1);
  return [...counts].map(([k, n]) => `${n} × ${k}`).join(', ');
}
