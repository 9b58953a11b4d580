import { describe, expect, it } from 'vitest';
import type { CaptionOptions } from '../../core/options';
import { summarizeOptions } from './settings';

// Only the fields the summary reads (the rest of CaptionOptions does not matter here).
const o = {
  modality: 'av',
  interleave: 'spread',
  fps: 1,
  maxFrames: 30,
  maxNewTokens: 512,
  prompt: 'Describe the scene and the sounds in detail, please, now.',
  decoding: { kind: 'greedy' },
} as CaptionOptions;

describe('history row summary', () => {
  it('summarizeOptions tells runs of one file apart', () => {
    expect(summarizeOptions(o)).toBe('audio + visual · 1 fps, ≤ 30 frames · spread · greedy · 512 tokens · “Describe the scene and the sounds in det…”');
    expect(summarizeOptions({ ...o, modality: 'a', decoding: { kind: 'sample', temperature: 0.7, topP: 0.9, seed: 3 } })).toBe(
      'audio only · sampling T 0.7, top-p 0.9, seed 3 · 512 tokens · “Describe the scene and the sounds in det…”',
    );
    expect(summarizeOptions({ ...o, modality: 'v', prompt: 'Short.' })).toBe('visual only · 1 fps, ≤ 30 frames · greedy · 512 tokens · “Short.”');
  });
});
