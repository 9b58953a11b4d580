/**
 * Word-level diff of two captions for the compare view: the longest common subsequence
 * of whitespace-separated words (punctuation stays attached to its word).
 */

export type DiffOp = 'same' | 'removed' | 'added';

export interface DiffPart {
  op: DiffOp;
  /** Words of this run joined by single spaces. */
  text: string;
  words: number;
}

const tokens = (text: string) => text.split(/\s+/).filter((w) => w.length > 0);

/** LCS table: lcs[i][j] = LCS length of a[i…] and b[j…], flattened (n+1)×(m+1). */
function lcsTable(a: string[], b: string[]): Uint32Array {
  const n = a.length;
  const m = b.length;
  const t = new Uint32Array((n + 1) * (m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      t[i * (m + 1) + j] = a[i] === b[j] ? t[(i + 1) * (m + 1) + j + 1] + 1 : Math.max(t[(i + 1) * (m + 1) + j], t[i * (m + 1) + j + 1]);
    }
  }
  return t;
}

/** Diff from `before` to `after`: runs of same / removed (only in before) / added words. */
export function diffWords(before: string, after: string): DiffPart[] {
  const a = tokens(before);
  const b = tokens(after);
  const m = b.length;
  const t = lcsTable(a, b);
  const parts: DiffPart[] = [];
  const push = (op: DiffOp, word: string) => {
    const last = parts[parts.length - 1];
    if (last?.op === op) {
      last.text += ` ${word}`;
      last.words++;
    } else parts.push({ op, text: word, words: 1 });
  };
  let i = 0;
  let j = 0;
  while (i < a.length && j < m) {
    if (a[i] === b[j]) {
      push('same', a[i++]);
      j++;
    } else if (t[(i + 1) * (m + 1) + j] >= t[i * (m + 1) + j + 1]) push('removed', a[i++]);
    else push('added', b[j++]);
  }
  while (i < a.length) push('removed', a[i++]);
  while (j < m) push('added', b[j++]);
  return parts;
}

/** Share of words common to both captions: 2·LCS / (|a| + |b|) (1 for two empty texts). */
export function wordSimilarity(before: string, after: string): number {
  const a = tokens(before);
  const b = tokens(after);
  if (a.length + b.length === 0) return 1;
  return (2 * lcsTable(a, b)[0]) / (a.length + b.length);
}
