import { describe, expect, it } from 'vitest';
import { topTwo } from './decoder';
import { argmax } from './sampling';

describe('topTwo (the greedy pick and its margin in one pass)', () => {
  // [logits, argmax as torch.argmax (first on ties), top-1 − top-2]
  const table: [number[], number, number][] = [
    [[0.5, 2, -1, 1.5], 1, 0.5],
    [[3, 1, 3, 2], 0, 0], // a tie: the first index, margin 0
    [[-2, -7, -3], 0, 1],
    [[1, NaN, 4, NaN, 2], 2, 2], // NaN never wins
    [[-Infinity, 5, -Infinity], 1, Infinity],
    [[7], 0, Infinity],
    [[1, 2, 3, 4, 5, 6], 5, 1], // rising: each value replaces the best
  ];
  it.each(table)('%j → index %i, margin %f', (row, best, margin) => {
    const logits = Float32Array.from(row);
    expect(topTwo(logits)).toEqual({ best, margin });
    expect(argmax(logits)).toBe(best);
  });

  it('has no index when no value is finite or larger than −∞', () => {
    expect(topTwo(Float32Array.from([-Infinity, NaN])).best).toBe(-1);
    expect(() => argmax(Float32Array.from([-Infinity, NaN]))).toThrow(RangeError);
  });
});
