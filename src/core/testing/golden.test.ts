import { describe, expect, it } from 'vitest';
import { compareTokens, stats, statsMismatch } from './golden';

describe('golden comparison helpers', () => {
  const values = Float32Array.from({ length: 100 }, (_, i) => Math.sin(i));
  const ref = stats(values, [10, 10]);

  it('accepts the same tensor and rejects a changed value, sum or shape', () => {
    expect(statsMismatch(stats(values, [10, 10]), ref, 1e-4)).toBeNull();
    const moved = values.slice();
    moved[Math.floor(100 / 3)] += 1e-3; // a sampled position
    expect(statsMismatch(stats(moved, [10, 10]), ref, 1e-4)).toMatch(/^(sum|absSum|value 33)/);
    const unsampled = values.slice();
    unsampled[5 + 8] += 1e-2; // not sampled: only the sums see it
    expect(statsMismatch(stats(unsampled, [10, 10]), ref, 1e-4)).toMatch(/^sum/);
    expect(statsMismatch(stats(values, [100]), ref, 1e-4)).toMatch(/^shape/);
  });

  it('allows a different token only where the reference margin was within tolerance', () => {
    const ref = { ids: [1, 2, 3, 4], margins: [2, 0.0005, 1, 1], stopped: false };
    expect(compareTokens([1, 2, 3, 4], ref, 1e-3)).toEqual({ agreed: 4, divergedAt: null, referenceMargin: null, ok: true });
    expect(compareTokens([1, 9, 9, 9], ref, 1e-3)).toMatchObject({ divergedAt: 1, referenceMargin: 0.0005, ok: true });
    expect(compareTokens([1, 2, 9, 4], ref, 1e-3)).toMatchObject({ divergedAt: 2, referenceMargin: 1, ok: false });
    expect(compareTokens([1, 2, 3], ref, 1e-3)).toMatchObject({ divergedAt: 3, ok: false });
  });
});
