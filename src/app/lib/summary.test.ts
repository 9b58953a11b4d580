import { describe, expect, it } from 'vitest';
import { sampleManifest } from '../../core/bundle/fake-bundle';
import { defaultOptions } from '../../core/options';
import { buildOptions, DEFAULT_SETTINGS, summarizeOptions } from './settings';

const defaults = defaultOptions(sampleManifest());

describe('history row summary', () => {
  it('summarizeOptions tells runs of one file apart', () => {
    const o = buildOptions({ ...DEFAULT_SETTINGS, prompt: 'Describe the scene and the sounds in detail, please, now.' }, defaults);
    expect(summarizeOptions(o)).toBe('audio + visual · 1 fps, ≤ 30 frames · spread · greedy · 512 tokens · “Describe the scene and the sounds in det…”');
    expect(summarizeOptions({ ...o, modality: 'a', decoding: { kind: 'sample', temperature: 0.7, topP: 0.9, seed: 3 } })).toBe(
      'audio only · sampling T 0.7, top-p 0.9, seed 3 · 512 tokens · “Describe the scene and the sounds in det…”',
    );
  });

});
