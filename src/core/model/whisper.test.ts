import { describe, expect, it } from 'vitest';
import { applyWhisperRules, segmentsFromIds, type WhisperTokens } from './whisper';

// A 20-token vocabulary: 0–9 text, 10 eos, 11 <|notimestamps|>, 12… timestamps (0.02 s apart).
const T: WhisperTokens = { prompt: [], eos: 10, noTimestamps: 11, timestampBegin: 12, timeStep: 0.02, maxInitialTimestampIndex: 3, suppress: [7], beginSuppress: [0, 10], maxNewTokens: 10 };
const flat = (v = 0) => new Float32Array(20).fill(v);
const allowed = (l: Float32Array) => [...l].flatMap((v, i) => (v === -Infinity ? [] : [i]));

describe('applyWhisperRules (transformers WhisperTimeStampLogitsProcessor)', () => {
  it('starts with a timestamp no later than max_initial_timestamp_index, never <|notimestamps|> or suppressed ids', () => {
    expect(allowed(applyWhisperRules(flat(), [], T))).toEqual([12, 13, 14, 15]);
  });

  it('after a timestamp that opens a segment, only text (or eos) may follow… and pairs close it', () => {
    // generated [ts, text]: the closing timestamp or more text, never an earlier timestamp than the last one
    const l = applyWhisperRules(flat(), [14, 3], T);
    expect(allowed(l).filter((i) => i >= 12)[0]).toBe(15); // timestamps never decrease: > 14 after text
    // generated [ts, text, ts]: the last was a timestamp after text → no text now (timestamp ≥ it, or eos)
    expect(allowed(applyWhisperRules(flat(), [14, 3, 16], T)).every((i) => i >= 10)).toBe(true);
    // generated [ts, text, ts, ts]: two timestamps in a row → text must follow
    expect(allowed(applyWhisperRules(flat(), [14, 3, 16, 16], T)).every((i) => i < 12)).toBe(true);
  });

  it('forces a timestamp when their summed probability beats the best text token', () => {
    const l = flat(-5);
    l[3] = 0; // best text token
    for (let i = 12; i < 20; i++) l[i] = -1; // 8 × e^-1 > e^0
    expect(allowed(applyWhisperRules(l, [14, 3], T)).every((i) => i >= 12)).toBe(true);
  });

  it('suppresses the begin tokens only at the first step, suppress_tokens always', () => {
    const l = applyWhisperRules(flat(), [14], T);
    expect(l[0]).not.toBe(-Infinity);
    expect(l[7]).toBe(-Infinity);
  });
});

describe('segmentsFromIds', () => {
  it('reads <|a|> text <|b|><|b|> text <|c|> as two timed segments and stops at eos', () => {
    const ids = [12, 1, 2, 62, 62, 3, 112, 10, 4];
    expect(segmentsFromIds(ids, T, 30)).toEqual([
      { start: 0, end: 1, ids: [1, 2] },
      { start: 1, end: 2, ids: [3] },
    ]);
  });

  it('closes an unterminated segment at the end of the window', () => {
    const s = segmentsFromIds([22, 5, 6], T, 30);
    expect(s).toHaveLength(1);
    expect(s[0].start).toBeCloseTo(0.2, 10);
    expect(s[0]).toMatchObject({ end: 30, ids: [5, 6] });
  });
});
