import { describe, expect, it } from 'vitest';
import {
  audioOnlyLayout, audioSourceRows, materializeLayout, nearestSourceIndex, planInterleave, pythonRound,
  placeText, spreadLayout, summarizeLayout, timestampLayout, visualOnlyLayout, type InterleaveInput, type Layout,
} from './interleave.ts';
import { hasTorch, runPython } from '../features/pyref.testutil.ts';

const AUDIO = { windowSeconds: 30, tokensPerWindow: 60, encoderFrames: 1500 };
const TPF = 182;
const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);

/** Audio rows after each frame, in order, plus the trailing rows. */
function perFrameAudio(layout: Layout): { frames: number[][]; trailing: number[] } {
  const frames: number[][] = [];
  const trailing: number[] = [];
  for (const s of layout.segments) {
    if (s.kind === 'visual') frames.push([]);
    else if (s.kind === 'audio') (s.trailing ? trailing : frames[frames.length - 1]).push(...range(s.count, s.start));
  }
  return { frames, trailing };
}

const input = (over: Partial<InterleaveInput>): InterleaveInput => ({
  mode: 'timestamp', use: { video: true, audio: true }, frameTimes: [], tokensPerFrame: TPF,
  audioTokens: 60, duration: 0, audio: AUDIO, ...over,
});

describe('helpers', () => {
  it('pythonRound rounds halves to even', () => {
    expect([0.5, 1.5, 2.5, 22.5, -0.5, 2.4, 2.6, 7].map(pythonRound)).toEqual([0, 2, 2, 22, -0, 2, 3, 7]);
  });

  it('nearestSourceIndex is floor(dst·in/out) for easy ratios', () => {
    expect(range(6).map((d) => nearestSourceIndex(d, 4, 6))).toEqual([0, 0, 1, 2, 2, 3]);
    expect(range(4).map((d) => nearestSourceIndex(d, 2, 4))).toEqual([0, 0, 1, 1]);
  });

  // (26, 44), (24, 74), (14, 46): float32 scale gives floor − 1 at an exact multiple, as torch does.
  it.skipIf(!hasTorch)('nearestSourceIndex equals torch F.interpolate(nearest) index for many sizes', () => {
    const pairs = [[60, 62], [20, 22], [180, 210], [122, 150], [59, 60], [1, 2], [1, 3], [7, 30], [121, 150], [600, 630], [1000, 1020], [26, 44], [24, 74], [14, 46]];
    const script = `
import sys, numpy as np, torch, torch.nn.functional as F
out = []
for i, o in ${JSON.stringify(pairs)}:
    x = torch.arange(i, dtype=torch.float32)[None, None]
    out += F.interpolate(x, size=o, mode='nearest')[0, 0].tolist()
np.array(out, dtype=np.float64).tofile(sys.argv[1] + '/out.bin')
`;
    const ref = [...runPython(script)];
    const ours = pairs.flatMap(([i, o]) => range(o).map((d) => nearestSourceIndex(d, i, o)));
    expect(ours).toEqual(ref);
  });
});

describe('timestamp mode', () => {
  it('T = 12 s, frames at 0…11 s, 60 tokens: frame i gets 2i, 2i+1; 24…59 dropped', () => {
    const layout = timestampLayout(range(12), TPF, 60, 12, 0.5);
    const { frames, trailing } = perFrameAudio(layout);
    expect(frames).toEqual(range(12).map((i) => [2 * i, 2 * i + 1]));
    expect(trailing).toEqual([]);
    expect(layout.droppedAudio).toBe(36);
    expect(layout.length).toBe(12 * TPF + 24);
  });

  it('T = 61 s, 30 frames spread over the clip: each frame gets its own span, tail dropped', () => {
    const times = range(30).map((i) => (i * 60) / 29); // linspace(0, 60, 30)
    const layout = timestampLayout(times, TPF, 180, 61, 0.5);
    const { frames } = perFrameAudio(layout);
    expect(frames.flat()).toEqual(range(122)); // tokens start < 61 s: 0…121
    expect(layout.droppedAudio).toBe(58);
    // Frame 1 is at 2.0690 s: tokens 0 (0 s) … 4 (2.0 s) belong to frame 0.
    expect(frames[0]).toEqual([0, 1, 2, 3, 4]);
    expect(frames[1]).toEqual([5, 6, 7, 8]); // 2.5 … 4.0 s (< 4.138 s)
    expect(frames[29]).toEqual([120, 121]); // 60.0, 60.5 s
  });

  it('T = 0.4 s, two copies of frame 0: the one token goes after the last frame at 0 s', () => {
    const layout = timestampLayout([0, 0], TPF, 60, 0.4, 0.5);
    expect(perFrameAudio(layout).frames).toEqual([[], [0]]);
    expect(layout.droppedAudio).toBe(59);
  });

  it('tokens before the first frame go after frame 1; an exact boundary belongs to the later frame', () => {
    const layout = timestampLayout([1, 2], TPF, 60, 3, 0.5);
    expect(perFrameAudio(layout).frames).toEqual([[0, 1, 2, 3], [4, 5]]);
    // Timestamps like k/3 s that are not exact binary fractions still split at the boundary.
    const thirds = timestampLayout([0, 1 / 3 + 1 / 6, 1], TPF, 60, 1.5, 0.5);
    expect(perFrameAudio(thirds).frames).toEqual([[0], [1], [2]]);
  });
});

describe('spread mode (checkpoint)', () => {
  it('T = 12 s, 12 frames, 60 tokens: 5 tokens per frame, in order, nothing left', () => {
    const layout = spreadLayout(12, TPF, 60, 12, 50);
    const { frames, trailing } = perFrameAudio(layout);
    expect(frames).toEqual(range(12).map((i) => range(5, 5 * i)));
    expect(trailing).toEqual([]);
    expect(layout.repeatedAudio).toBe(0);
  });

  it('T = 61 s, 30 frames, 180 tokens: 6 per frame (time-aligned only at multiples of 30 s)', () => {
    const layout = spreadLayout(30, TPF, 180, 61, 50);
    const { frames } = perFrameAudio(layout);
    expect(frames.every((f, i) => f.join() === range(6, 6 * i).join())).toBe(true);
  });

  it('stretches 60 tokens over 7 frames to 63 by nearest neighbour: src = floor(d·60/63)', () => {
    const layout = spreadLayout(7, TPF, 60, 20, 50);
    const { frames, trailing } = perFrameAudio(layout);
    expect(frames.flat()).toEqual(range(63).map((d) => Math.floor((d * 60) / 63)));
    expect(frames.map((f) => f.length)).toEqual(Array(7).fill(9));
    expect(trailing).toEqual([]);
    expect(layout.repeatedAudio).toBe(3);
    expect(layout.length).toBe(7 * TPF + 63);
  });

  it('T = 0.4 s: only round(0.4·50) = 20 tokens are spread, the other 40 trail the last frame', () => {
    const layout = spreadLayout(2, TPF, 60, 0.4, 50);
    const { frames, trailing } = perFrameAudio(layout);
    expect(frames).toEqual([range(10), range(10, 10)]);
    expect(trailing).toEqual(range(40, 20));
    const summary = summarizeLayout(layout);
    expect(summary.frames).toEqual([{ frame: 0, visualTokens: TPF, audioTokens: 10 }, { frame: 1, visualTokens: TPF, audioTokens: 10 }]);
    expect(summary.trailingAudio).toBe(40);
  });

  it('T = 0.45 s: round(22.5) = 22 (Python rounds half to even); 3 frames → stretched to 24', () => {
    const layout = spreadLayout(3, TPF, 60, 0.45, 50);
    const { frames, trailing } = perFrameAudio(layout);
    expect(frames.flat()).toEqual(range(24).map((d) => Math.floor((d * 22) / 24)));
    expect(trailing).toEqual(range(38, 22));
  });
});

describe('modalities and planInterleave', () => {
  it('frames only / audio only', () => {
    expect(visualOnlyLayout(3, 4).segments).toEqual([
      { kind: 'visual', frame: 0, start: 0, count: 4 },
      { kind: 'visual', frame: 1, start: 4, count: 4 },
      { kind: 'visual', frame: 2, start: 8, count: 4 },
    ]);
    expect(audioOnlyLayout(120).segments).toEqual([{ kind: 'audio', start: 0, count: 120, trailing: true }]);
    expect(summarizeLayout(audioOnlyLayout(120))).toEqual({ frames: [], trailingAudio: 120, length: 120, droppedAudio: 0, repeatedAudio: 0 });
  });

  it('dispatches on modality, then mode, taking w and frames/s from the audio config', () => {
    const frameTimes = range(12);
    expect(planInterleave(input({ use: { video: true, audio: false }, frameTimes })).length).toBe(12 * TPF);
    expect(planInterleave(input({ use: { video: false, audio: true }, frameTimes: [] })).length).toBe(60);
    expect(planInterleave(input({ frameTimes, audioTokens: 0 })).length).toBe(12 * TPF);
    const ts = planInterleave(input({ frameTimes, duration: 12 }));
    expect(ts).toEqual(timestampLayout(frameTimes, TPF, 60, 12, 0.5));
    const sp = planInterleave(input({ mode: 'spread', frameTimes, duration: 12 }));
    expect(sp).toEqual(spreadLayout(12, TPF, 60, 12, 50));
    // Paper variant: w = 0.2 s (150 tokens per window).
    const paper = planInterleave(input({ frameTimes: [0, 1], duration: 2, audioTokens: 150, audio: { ...AUDIO, tokensPerWindow: 150 } }));
    expect(perFrameAudio(paper).frames.map((f) => f.length)).toEqual([5, 5]);
  });
});

describe('materializeLayout', () => {
  it('copies visual and audio rows in layout order', () => {
    const H = 2;
    const tpf = 2;
    // visual [F=2, 2, H]: frame f token t = [100f + 10t, 100f + 10t + 1]
    const visual = Float32Array.from([0, 1, 10, 11, 100, 101, 110, 111]);
    // audio [A=5, H]: token j = [−j, −j − 0.5]
    const audio = Float32Array.from(range(5).flatMap((j) => [-j, -j - 0.5]));
    const layout = spreadLayout(2, tpf, 5, 0.06, 50); // round(3) = 3 → stretched to 4: [0,0,1,2], then 3,4 trail
    expect(audioSourceRows(layout)).toEqual([-1, -1, 0, 0, -1, -1, 1, 2, 3, 4]);
    const out = materializeLayout(layout, visual, audio, H);
    expect([...out]).toEqual([
      0, 1, 10, 11, -0, -0.5, -0, -0.5,
      100, 101, 110, 111, -1, -1.5, -2, -2.5, -3, -3.5, -4, -4.5,
    ]);
    expect(() => materializeLayout(layout, visual, null, H)).toThrow(/audio/);
  });
});

describe('summarizeLayout keeps text placed before the first frame', () => {
  it('a note at 0.2 s before frames at 1 s and 2 s, a transcript after frame 1; audio-only text', () => {
    // Frames at t = 1 s and 2 s; a piece at 0.2 s is shown before any frame, one at 1.5 s after frame 0.
    const layout = placeText(visualOnlyLayout(2, 4), [1, 2], [
      { time: 0.2, ids: [7, 8, 9], role: 'note' },
      { time: 1.5, ids: [5, 6], role: 'transcript' },
    ], 0.04);
    expect(layout.segments.map((s) => [s.kind, s.count])).toEqual([['text', 3], ['visual', 4], ['text', 2], ['visual', 4]]);
    expect(summarizeLayout(layout)).toEqual({
      frames: [{ frame: 0, visualTokens: 4, audioTokens: 0, textTokens: { transcript: 2 } }, { frame: 1, visualTokens: 4, audioTokens: 0 }],
      trailingAudio: 0, leadingText: { note: 3 }, length: 13, droppedAudio: 0, repeatedAudio: 0,
    });
    const audio = placeText(audioOnlyLayout(10), [], [{ time: 0.2, ids: [1, 2], role: 'note' }], 0.04);
    expect(summarizeLayout(audio)).toEqual({ frames: [], trailingAudio: 10, leadingText: { note: 2 }, length: 12, droppedAudio: 0, repeatedAudio: 0 });
  });
});
