/** Live caption metrics (PIPELINE §7) over the core's pure metric functions. */
import { loopRate, repetitionRate, unnaturalPatterns, wordCount, type PatternFlag } from '../../core/metrics';

export interface CaptionStats {
  words: number;
  /** The paper's phrase-based repetition rate (PIPELINE §7). */
  repetition: number;
  /** Words inside immediate repeats, whatever the punctuation (catches "$uel $uel …"). */
  loops: number;
  /** The longest loops, for a tooltip. */
  loopUnits: { unit: string; count: number }[];
  recurring: { phrase: string; count: number }[];
  flags: PatternFlag[];
}

export function captionStats(text: string): CaptionStats {
  const rep = repetitionRate(text);
  const loops = loopRate(text);
  return {
    words: wordCount(text),
    repetition: rep.rate,
    loops: loops.rate,
    loopUnits: [...loops.loops].sort((a, b) => b.words - a.words).slice(0, 5).map((l) => ({ unit: l.unit, count: l.count })),
    recurring: rep.recurring.slice(0, 5).map((r) => ({ phrase: r.phrase, count: r.count })),
    flags: unnaturalPatterns(text),
  };
}

export const FLAG_LABEL: Record<PatternFlag['kind'], string> = {
  header: 'section header',
  'odd-characters': 'odd characters',
  'replacement-character': 'broken character',
  loop: 'repetition loop',
};

/** "3 section headers, 1 odd characters" (grouped, in order of first appearance). */
export function summarizeFlags(flags: PatternFlag[]): string {
  if (flags.length === 0) return 'none';
  const counts = new Map<string, number>();
  for (const f of flags) counts.set(FLAG_LABEL[f.kind], (counts.get(FLAG_LABEL[f.kind]) ?? 0) + 1);
  return [...counts].map(([k, n]) => `${n} × ${k}`).join(', ');
}
