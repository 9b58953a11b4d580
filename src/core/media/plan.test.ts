import { describe, expect, it } from 'vitest';
import { CaptionError } from '../errors';
import {
  cfrTimeline,
  frameCountFor,
  linspaceFloor,
  planAudio,
  planFrames,
  resolveSampling,
  SAMPLING_PRESETS,
  DEFAULT_SAMPLING_PRESET,
  timelineFromTimestamps,
} from './plan';
import { pythonRound as roundHalfEven } from '../pyround';

const SAMPLING = { fps: 1, maxFrames: 30, minFrames: 2 };
const AUDIO = { sampleRate: 16000, windowSeconds: 30 };

/**
 * [duration s, fps, N, indices]: N = frames starting before the end = ceil(T·fps); the
 * indices were produced by the checkpoint's own code run verbatim under numpy 2.4
 * (av_dataset.py: range(0, N, round(fps/φ)), then np.linspace(0, N−1, m, dtype=int) when
 * more than m, then our ≥ 2 rule np.linspace(0, N−1, 2, dtype=int)) — not by plan.ts.
 */
const CKPT_TABLE: [number, number, number, number[]][] = [
  [0.4, 25, 10, [0, 9]],
  [0.4, 29.97, 12, [0, 11]],
  [0.4, 30, 12, [0, 11]],
  [0.4, 60, 24, [0, 23]],
  [1, 25, 25, [0, 24]],
  [1, 29.97, 30, [0, 29]],
  [1, 30, 30, [0, 29]],
  [1, 60, 60, [0, 59]],
  [12, 25, 300, [0, 25, 50, 75, 100, 125, 150, 175, 200, 225, 250, 275]],
  [12, 29.97, 360, [0, 30, 60, 90, 120, 150, 180, 210, 240, 270, 300, 330]],
  [12, 30, 360, [0, 30, 60, 90, 120, 150, 180, 210, 240, 270, 300, 330]],
  [12, 60, 720, [0, 60, 120, 180, 240, 300, 360, 420, 480, 540, 600, 660]],
  [30, 25, 750, [0, 25, 50, 75, 100, 125, 150, 175, 200, 225, 250, 275, 300, 325, 350, 375, 400, 425, 450, 475, 500, 525, 550, 575, 600, 625, 650, 675, 700, 725]],
  [30, 29.97, 900, [0, 30, 60, 90, 120, 150, 180, 210, 240, 270, 300, 330, 360, 390, 420, 450, 480, 510, 540, 570, 600, 630, 660, 690, 720, 750, 780, 810, 840, 870]],
  [30, 30, 900, [0, 30, 60, 90, 120, 150, 180, 210, 240, 270, 300, 330, 360, 390, 420, 450, 480, 510, 540, 570, 600, 630, 660, 690, 720, 750, 780, 810, 840, 870]],
  [30, 60, 1800, [0, 60, 120, 180, 240, 300, 360, 420, 480, 540, 600, 660, 720, 780, 840, 900, 960, 1020, 1080, 1140, 1200, 1260, 1320, 1380, 1440, 1500, 1560, 1620, 1680, 1740]],
  [30.5, 25, 763, [0, 26, 52, 78, 105, 131, 157, 183, 210, 236, 262, 289, 315, 341, 367, 394, 420, 446, 472, 499, 525, 551, 578, 604, 630, 656, 683, 709, 735, 762]],
  [30.5, 29.97, 915, [0, 31, 63, 94, 126, 157, 189, 220, 252, 283, 315, 346, 378, 409, 441, 472, 504, 535, 567, 598, 630, 661, 693, 724, 756, 787, 819, 850, 882, 914]],
  [30.5, 30, 915, [0, 31, 63, 94, 126, 157, 189, 220, 252, 283, 315, 346, 378, 409, 441, 472, 504, 535, 567, 598, 630, 661, 693, 724, 756, 787, 819, 850, 882, 914]],
  [30.5, 60, 1830, [0, 63, 126, 189, 252, 315, 378, 441, 504, 567, 630, 693, 756, 819, 882, 946, 1009, 1072, 1135, 1198, 1261, 1324, 1387, 1450, 1513, 1576, 1639, 1702, 1765, 1829]],
  [31, 25, 775, [0, 26, 53, 80, 106, 133, 160, 186, 213, 240, 266, 293, 320, 346, 373, 400, 427, 453, 480, 507, 533, 560, 587, 613, 640, 667, 693, 720, 747, 774]],
  [31, 29.97, 930, [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448, 480, 512, 544, 576, 608, 640, 672, 704, 736, 768, 800, 832, 864, 896, 929]],
  [31, 30, 930, [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448, 480, 512, 544, 576, 608, 640, 672, 704, 736, 768, 800, 832, 864, 896, 929]],
  [31, 60, 1860, [0, 64, 128, 192, 256, 320, 384, 448, 512, 576, 641, 705, 769, 833, 897, 961, 1025, 1089, 1153, 1217, 1282, 1346, 1410, 1474, 1538, 1602, 1666, 1730, 1794, 1859]],
  [59.9, 25, 1498, [0, 51, 103, 154, 206, 258, 309, 361, 412, 464, 516, 567, 619, 671, 722, 774, 825, 877, 929, 980, 1032, 1084, 1135, 1187, 1238, 1290, 1342, 1393, 1445, 1497]],
  [59.9, 29.97, 1796, [0, 61, 123, 185, 247, 309, 371, 433, 495, 557, 618, 680, 742, 804, 866, 928, 990, 1052, 1114, 1176, 1237, 1299, 1361, 1423, 1485, 1547, 1609, 1671, 1733, 1795]],
  [59.9, 30, 1797, [0, 61, 123, 185, 247, 309, 371, 433, 495, 557, 619, 681, 743, 805, 867, 928, 990, 1052, 1114, 1176, 1238, 1300, 1362, 1424, 1486, 1548, 1610, 1672, 1734, 1796]],
  [59.9, 60, 3594, [0, 123, 247, 371, 495, 619, 743, 867, 991, 1115, 1238, 1362, 1486, 1610, 1734, 1858, 1982, 2106, 2230, 2354, 2477, 2601, 2725, 2849, 2973, 3097, 3221, 3345, 3469, 3593]],
  [600, 25, 15000, [0, 517, 1034, 1551, 2068, 2586, 3103, 3620, 4137, 4654, 5172, 5689, 6206, 6723, 7240, 7758, 8275, 8792, 9309, 9826, 10344, 10861, 11378, 11895, 12412, 12930, 13447, 13964, 14481, 14999]],
  [600, 29.97, 17982, [0, 620, 1240, 1860, 2480, 3100, 3720, 4340, 4960, 5580, 6200, 6820, 7440, 8060, 8680, 9300, 9920, 10540, 11160, 11780, 12400, 13020, 13640, 14260, 14880, 15500, 16120, 16740, 17360, 17981]],
  [600, 30, 18000, [0, 620, 1241, 1861, 2482, 3103, 3723, 4344, 4965, 5585, 6206, 6827, 7447, 8068, 8689, 9309, 9930, 10551, 11171, 11792, 12413, 13033, 13654, 14275, 14895, 15516, 16137, 16757, 17378, 17999]],
  [600, 60, 36000, [0, 1241, 2482, 3724, 4965, 6206, 7448, 8689, 9930, 11172, 12413, 13654, 14896, 16137, 17378, 18620, 19861, 21102, 22344, 23585, 24826, 26068, 27309, 28550, 29792, 31033, 32274, 33516, 34757, 35999]],
  [7200, 25, 180000, [0, 6206, 12413, 18620, 24827, 31034, 37241, 43448, 49654, 55861, 62068, 68275, 74482, 80689, 86896, 93102, 99309, 105516, 111723, 117930, 124137, 130344, 136550, 142757, 148964, 155171, 161378, 167585, 173792, 179999]],
  [7200, 29.97, 215784, [0, 7440, 14881, 22322, 29763, 37203, 44644, 52085, 59526, 66967, 74407, 81848, 89289, 96730, 104171, 111611, 119052, 126493, 133934, 141375, 148815, 156256, 163697, 171138, 178579, 186019, 193460, 200901, 208342, 215783]],
  [7200, 30, 216000, [0, 7448, 14896, 22344, 29792, 37241, 44689, 52137, 59585, 67034, 74482, 81930, 89378, 96827, 104275, 111723, 119171, 126620, 134068, 141516, 148964, 156413, 163861, 171309, 178757, 186206, 193654, 201102, 208550, 215999]],
  [7200, 60, 432000, [0, 14896, 29793, 44689, 59586, 74482, 89379, 104275, 119172, 134068, 148965, 163861, 178758, 193654, 208551, 223447, 238344, 253240, 268137, 283033, 297930, 312826, 327723, 342619, 357516, 372412, 387309, 402205, 417102, 431999]],
];

describe('planFrames (checkpoint rule)', () => {
  it.each(CKPT_TABLE)('%s s at %s fps → N=%s', (T, fps, n, expected) => {
    expect(frameCountFor(T, fps)).toBe(n);
    const plan = planFrames(cfrTimeline(T, fps), SAMPLING);
    expect(plan.frameCount).toBe(n);
    expect(plan.indices).toEqual(expected);
    expect(plan.timestamps).toHaveLength(expected.length);
    expected.forEach((idx, i) => expect(plan.timestamps[i]).toBeCloseTo(idx / fps, 9));
    expect(plan.realTime).toBeCloseTo(n / fps, 9);
  });

  it('written out by hand: 12 s at 30 fps → one frame per second', () => {
    const plan = planFrames(cfrTimeline(12, 30), SAMPLING);
    expect(plan.step).toBe(30);
    expect(plan.indices).toEqual([0, 30, 60, 90, 120, 150, 180, 210, 240, 270, 300, 330]);
    expect(plan.timestamps).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });

  it('written out by hand: 31 s at 25 fps → 32 candidates > 30 → linspace(0, 774, 30)', () => {
    // step 774/29 = 26.689…: floor(k · 26.689…)
    const plan = planFrames(cfrTimeline(31, 25), SAMPLING);
    expect(plan.frameCount).toBe(775);
    expect(plan.indices.slice(0, 5)).toEqual([0, 26, 53, 80, 106]);
    expect(plan.indices[29]).toBe(774);
    expect(plan.timestamps[1]).toBeCloseTo(26 / 25, 12);
  });

  it('2 h at 29.97 fps keeps m = 30 frames spanning the whole file', () => {
    const plan = planFrames(cfrTimeline(7200, 29.97), SAMPLING);
    expect(plan.frameCount).toBe(215784);
    expect(plan.indices).toHaveLength(30);
    expect(plan.indices[0]).toBe(0);
    expect(plan.indices[29]).toBe(215783);
    expect(plan.timestamps[29]).toBeCloseTo(215783 / 29.97, 6);
  });

  it('a 1-frame clip repeats its frame; a 0.4 s clip takes the first and last frames', () => {
    expect(planFrames(cfrTimeline(0.03, 30), SAMPLING).indices).toEqual([0, 0]);
    expect(planFrames({ frameCount: 1, avgFps: 30, firstTimestamp: 0.007 }, SAMPLING).timestamps).toEqual([0.007, 0.007]);
    const p = planFrames(cfrTimeline(0.4, 30), SAMPLING);
    expect(p.indices).toEqual([0, 11]);
    expect(p.timestamps[1]).toBeCloseTo(11 / 30, 12);
  });

  it('respects φ and m from the settings', () => {
    // φ = 2 at 30 fps: step 15; 12 s → 24 frames (< 30)
    const p2 = planFrames(cfrTimeline(12, 30), { ...SAMPLING, fps: 2 });
    expect(p2.step).toBe(15);
    expect(p2.indices).toEqual([0, 15, 30, 45, 60, 75, 90, 105, 120, 135, 150, 165, 180, 195, 210, 225, 240, 255, 270, 285, 300, 315, 330, 345]);
    // m = 4: linspace(0, 359, 4) = 0, 119.67, 239.33, 359
    expect(planFrames(cfrTimeline(12, 30), { ...SAMPLING, maxFrames: 4 }).indices).toEqual([0, 119, 239, 359]);
    // φ above the source rate: step max(round(30/60), 1) = max(0, 1) = 1 → every frame of a 0.1 s clip
    expect(planFrames(cfrTimeline(0.1, 30), { ...SAMPLING, fps: 60 }).indices).toEqual([0, 1, 2]);
  });

  it('rounds fps/φ like Python (half to even)', () => {
    expect(roundHalfEven(2.5)).toBe(2);
    expect(roundHalfEven(3.5)).toBe(4);
    expect(roundHalfEven(29.97)).toBe(30);
    // 12.5 fps source at φ = 1: Python round(12.5) = 12 → indices 0, 12, 24, …
    expect(planFrames(cfrTimeline(4, 12.5), SAMPLING).indices).toEqual([0, 12, 24, 36, 48]);
  });

  it('offsets CFR timestamps by the first frame time (WebM at 0.007 s)', () => {
    const p = planFrames(cfrTimeline(3, 25, 0.007), SAMPLING);
    expect(p.indices).toEqual([0, 25, 50]);
    expect(p.timestamps[0]).toBeCloseTo(0.007, 12);
    expect(p.timestamps[2]).toBeCloseTo(2.007, 12);
  });
});

describe('planFrames with a VFR timestamp list', () => {
  // 30 fps for 4 s (120 frames at k/30), then 10 fps (60 frames at 4.0, 4.1, … 9.9);
  // last frame lasts 0.1 s → span 10 s → avg fps 18 → step 18.
  const ts = [
    ...Array.from({ length: 120 }, (_, k) => k / 30),
    ...Array.from({ length: 60 }, (_, k) => 4 + k / 10),
  ];
  it('uses the real timestamps of the chosen frames', () => {
    const tl = timelineFromTimestamps([...ts].reverse(), 0.1);
    expect(tl.frameCount).toBe(180);
    expect(tl.avgFps).toBeCloseTo(18, 12);
    const p = planFrames(tl, SAMPLING);
    expect(p.step).toBe(18);
    expect(p.indices).toEqual([0, 18, 36, 54, 72, 90, 108, 126, 144, 162]);
    const expected = [0, 0.6, 1.2, 1.8, 2.4, 3.0, 3.6, 4.6, 6.4, 8.2];
    p.timestamps.forEach((t, i) => expect(t).toBeCloseTo(expected[i], 9));
  });
  it('defaults the last frame duration to the median interval', () => {
    const tl = timelineFromTimestamps(ts);
    // median of 119 × 1/30 and 60 × 0.1 is 1/30: span = 9.9 + 1/30
    expect(tl.avgFps).toBeCloseTo(180 / (9.9 + 1 / 30), 9);
  });
  it('caps a long VFR list at m frames', () => {
    const long = Array.from({ length: 3000 }, (_, k) => k * 0.04 + (k % 2) * 0.01);
    const p = planFrames(timelineFromTimestamps(long, 0.04), SAMPLING);
    expect(p.indices).toHaveLength(30);
    expect(p.indices[29]).toBe(2999);
    expect(p.timestamps[29]).toBeCloseTo(2999 * 0.04 + 0.01, 9);
  });
});

describe('planFrames (paper rule)', () => {
  it('⌊T·φ⌋ frames up to m, spread uniformly', () => {
    const p = planFrames(cfrTimeline(12, 30), { ...SAMPLING, rule: 'paper' });
    expect(p.step).toBeNull();
    // linspace(0, 359, 12): step 32.636…
    expect(p.indices).toEqual([0, 32, 65, 97, 130, 163, 195, 228, 261, 293, 326, 359]);
    expect(planFrames(cfrTimeline(600, 30), { ...SAMPLING, rule: 'paper' }).indices).toHaveLength(30);
    expect(planFrames(cfrTimeline(0.4, 30), { ...SAMPLING, rule: 'paper' }).indices).toEqual([0, 11]);
  });
});

describe('planFrames errors', () => {
  it('rejects empty timelines with a CaptionError', () => {
    expect(() => planFrames({ frameCount: 0, avgFps: 30, firstTimestamp: 0 }, SAMPLING)).toThrow(CaptionError);
    expect(() => frameCountFor(0, 30)).toThrow(/no frames/);
    expect(() => timelineFromTimestamps([])).toThrow(CaptionError);
  });
});

describe('linspaceFloor (numpy semantics)', () => {
  it('matches numpy for hand-checked cases', () => {
    expect(linspaceFloor(0, 9, 2)).toEqual([0, 9]);
    expect(linspaceFloor(0, 0, 2)).toEqual([0, 0]);
    expect(linspaceFloor(0, 10, 5)).toEqual([0, 2, 5, 7, 10]);
    expect(linspaceFloor(0, 5, 1)).toEqual([0]);
  });
});

describe('planAudio', () => {
  const W = 480000;
  const cases: [string, number, number | null, number, number[]][] = [
    // [label, source seconds, video real time, total samples, window lengths]
    ['0.4 s clip: pad to 1 s, then cut to the video (checkpoint order)', 0.4, 0.4, 6400, [6400]],
    ['audio-only 0.4 s: padded to 1 s', 0.4, null, 16000, [16000]],
    ['1 s', 1, 1, 16000, [16000]],
    ['12 s', 12, 12, 192000, [192000]],
    ['30 s: exactly one window', 30, 30, 480000, [W]],
    ['30.5 s', 30.5, 30.5, 488000, [W, 8000]],
    ['31 s', 31, 31, 496000, [W, 16000]],
    ['59.9 s', 59.9, 59.9, 958400, [W, 478400]],
    ['10 min', 600, 600, 9600000, Array(20).fill(W)],
    ['audio longer than the video is truncated', 12.05, 12, 192000, [192000]],
    ['audio shorter than the video is not padded to it', 10, 12, 160000, [160000]],
  ];
  it.each(cases)('%s', (_label, src, video, total, lengths) => {
    const plan = planAudio({ audioDuration: src, videoRealTime: video }, AUDIO);
    expect(plan.totalSamples).toBe(total);
    expect(plan.windowSamples).toBe(W);
    expect(plan.windows.map((w) => w.length)).toEqual(lengths);
    expect(plan.windows.length).toBe(Math.ceil(total / W));
    plan.windows.forEach((w, i) => {
      expect(w.index).toBe(i);
      expect(w.start).toBe(i * W);
      expect(w.startTime).toBe(i * 30);
    });
  });
  it('2 h: 240 windows of 30 s', () => {
    const plan = planAudio({ audioSamples: 7200 * 16000, videoRealTime: 7200 }, AUDIO);
    expect(plan.windows).toHaveLength(240);
    expect(plan.windows[239]).toEqual({ index: 239, start: 239 * W, length: W, startTime: 7170, endTime: 7200 });
  });
  it('2 h and a half second: 7200.5 s → 115208000 samples, 241 windows, the last 8000', () => {
    const plan = planAudio({ audioDuration: 7201, videoRealTime: 7200.5 }, AUDIO);
    expect(plan.totalSamples).toBe(115208000);
    expect(plan.windows).toHaveLength(241);
    expect(plan.windows[240].length).toBe(8000);
  });
  it('uses the bundle numbers (8 kHz, 10 s windows)', () => {
    const plan = planAudio({ audioDuration: 25, videoRealTime: null }, { sampleRate: 8000, windowSeconds: 10 });
    expect(plan.windows.map((w) => w.length)).toEqual([80000, 80000, 40000]);
  });
  it('throws media/no-audio-track without a length', () => {
    expect(() => planAudio({}, AUDIO)).toThrow(expect.objectContaining({ code: 'media/no-audio-track' }));
  });
});

describe('sampling presets (PIPELINE §1)', () => {
  it('paper: ≤ 30 frames at 1/s (the default); checkpoint: max_time 110 s → m = round(110·1) = 110', () => {
    expect(DEFAULT_SAMPLING_PRESET).toBe('paper');
    expect(resolveSampling('paper')).toEqual({ preset: 'paper', fps: 1, maxFrames: 30, maxTime: 30 });
    expect(resolveSampling('checkpoint')).toEqual({ preset: 'checkpoint', fps: 1, maxFrames: 110, maxTime: 110 });
    expect(SAMPLING_PRESETS.checkpoint.maxFrames).toBe(110);
    expect(Object.isFrozen(SAMPLING_PRESETS.paper)).toBe(true);
  });

  it('φ and the cap stay editable', () => {
    // checkpoint at φ = 2: m = round(110·2) = 220, max_time stays 110 s
    expect(resolveSampling('checkpoint', { fps: 2 })).toEqual({ preset: 'checkpoint', fps: 2, maxFrames: 220, maxTime: 110 });
    // checkpoint at φ = 0.5: m = round(55) = 55
    expect(resolveSampling('checkpoint', { fps: 0.5 }).maxFrames).toBe(55);
    // checkpoint at φ = 0.25: m = round(27.5) = 28 (half to even: 27.5 → 28)
    expect(resolveSampling('checkpoint', { fps: 0.25 }).maxFrames).toBe(28);
    // paper keeps m = 30; at φ = 2 that is 15 s of audio-only input
    expect(resolveSampling('paper', { fps: 2 })).toEqual({ preset: 'paper', fps: 2, maxFrames: 30, maxTime: 15 });
    // an edited cap wins: max_time = m / φ = 64 / 1
    expect(resolveSampling('checkpoint', { maxFrames: 64 })).toEqual({ preset: 'checkpoint', fps: 1, maxFrames: 64, maxTime: 64 });
    expect(() => resolveSampling('checkpoint', { maxFrames: 2.5 })).toThrow(RangeError);
    expect(() => resolveSampling('bogus' as 'paper')).toThrow(/unknown sampling preset/);
  });

  const at = (p: 'paper' | 'checkpoint', T: number, fps: number) => {
    const s = resolveSampling(p);
    return planFrames(cfrTimeline(T, fps), { fps: s.fps, maxFrames: s.maxFrames, minFrames: 2 }).indices;
  };

  it('4.5 s at 10 fps (N = 45, r = 10): 5 candidates ≤ 30 ≤ 110 → 0, 10, 20, 30, 40 under both', () => {
    expect(at('paper', 4.5, 10)).toEqual([0, 10, 20, 30, 40]);
    expect(at('checkpoint', 4.5, 10)).toEqual([0, 10, 20, 30, 40]);
  });

  it('31 s at 25 fps (N = 775, r = 25): 31 candidates; paper caps to linspace(0, 774, 30), checkpoint keeps all 31', () => {
    // paper: 774/29 = 26 + 20/29 → floor(26k + 20k/29): k=1 → 26, k=2 → 52+1 = 53, k=3 → 78+2 = 80, k=29 → 774
    const p = at('paper', 31, 25);
    expect(p).toHaveLength(30);
    expect([p[0], p[1], p[2], p[3], p[29]]).toEqual([0, 26, 53, 80, 774]);
    // checkpoint: range(0, 775, 25) = 0, 25, …, 750 (31 ≤ 110)
    expect(at('checkpoint', 31, 25)).toEqual(Array.from({ length: 31 }, (_, k) => 25 * k));
  });

  it('120 s at 30 fps (N = 3600, r = 30): 120 candidates, over both caps', () => {
    // paper: linspace(0, 3599, 30); 3599/29 = 124 + 3/29 → 124k + floor(3k/29):
    //   +0 for k ≤ 9 (3k ≤ 27), +1 for 10 ≤ k ≤ 19 (30 ≤ 3k ≤ 57), +2 for 20 ≤ k ≤ 28, k = 29 → 3599
    const paper = Array.from({ length: 30 }, (_, k) => (k === 29 ? 3599 : 124 * k + (k <= 9 ? 0 : k <= 19 ? 1 : 2)));
    expect(at('paper', 120, 30)).toEqual(paper);
    // checkpoint: linspace(0, 3599, 110); 3599/109 = 33 + 2/109 → 33k + floor(2k/109):
    //   +0 for k ≤ 54 (2k ≤ 108), +1 for 55 ≤ k ≤ 108, k = 109 → 3599
    const ckpt = Array.from({ length: 110 }, (_, k) => (k === 109 ? 3599 : 33 * k + (k <= 54 ? 0 : 1)));
    expect(at('checkpoint', 120, 30)).toEqual(ckpt);
  });

  it('600 s at 25 fps (N = 15000, r = 25): 600 candidates', () => {
    // paper: 14999/29 = 517 + 6/29 → 517k + floor(6k/29): 0, 517, 1034, 1551, 2068, 2585+1 = 2586, …, 14999
    const p = at('paper', 600, 25);
    expect(p.slice(0, 6)).toEqual([0, 517, 1034, 1551, 2068, 2586]);
    expect(p[29]).toBe(14999);
    // checkpoint: 14999/109 = 137 + 66/109 → 137k + floor(66k/109):
    //   k=1: 137+0, k=2: 274+1 = 275, k=3: 411+1 = 412, k=108: 14796+65 = 14861, k=109: 14999
    const c = at('checkpoint', 600, 25);
    expect(c).toHaveLength(110);
    expect([c[1], c[2], c[3], c[108], c[109]]).toEqual([137, 275, 412, 14861, 14999]);
  });
});

describe('planAudio: audio-only input cut to max_time (av_dataset.py:150-157)', () => {
  const W = 480000;
  // [source s, preset, total samples, window lengths]: pad to ≥ 1 s, then min(·, 16000·max_time)
  const cases: [number, 'paper' | 'checkpoint', number, number[]][] = [
    [0.4, 'paper', 16000, [16000]], // padded to 1 s
    [12, 'paper', 192000, [192000]],
    [12, 'checkpoint', 192000, [192000]],
    [45, 'paper', 480000, [W]], // 16000·30
    [45, 'checkpoint', 720000, [W, 240000]], // 16000·45 < 16000·110
    [90, 'checkpoint', 1440000, [W, W, W]],
    [110, 'checkpoint', 1760000, [W, W, W, 320000]], // 16000·110
    [200, 'paper', 480000, [W]],
    [200, 'checkpoint', 1760000, [W, W, W, 320000]], // 4 windows → 240 audio tokens
  ];
  it.each(cases)('%s s, %s preset → %s samples', (src, preset, total, lengths) => {
    const plan = planAudio({ audioDuration: src, videoRealTime: null, maxTime: resolveSampling(preset).maxTime }, AUDIO);
    expect(plan.totalSamples).toBe(total);
    expect(plan.windows.map((w) => w.length)).toEqual(lengths);
  });
  it('a video bounds the audio by its real time, not by max_time', () => {
    expect(planAudio({ audioDuration: 200, videoRealTime: 200, maxTime: 30 }, AUDIO).totalSamples).toBe(3200000);
  });
  it('without max_time audio-only input is not cut (the old behaviour)', () => {
    expect(planAudio({ audioDuration: 200, videoRealTime: null }, AUDIO).totalSamples).toBe(3200000);
  });
});
