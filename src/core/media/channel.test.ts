import { describe, expect, it } from 'vitest';
import { ffmpegChannelArgs, selectChannel, selectChannelInterleaved } from './channel';

describe('audio channel choice (PIPELINE §3; av_dataset.py:144-145 takes audio[:, 0])', () => {
  // Stereo, hand-made: L = [0.5, -0.25, 1], R = [0.25, 0.75, -1]
  const L = Float32Array.from([0.5, -0.25, 1]);
  const R = Float32Array.from([0.25, 0.75, -1]);

  it('channel 0 (the default) is the left channel, unchanged', () => {
    expect([...selectChannel([L, R])]).toEqual([0.5, -0.25, 1]);
    expect([...selectChannel([L, R], 0)]).toEqual([0.5, -0.25, 1]);
    expect(selectChannel([L, R])).not.toBe(L); // a copy
  });

  it('mix is (L + R) / 2 for stereo: [0.375, 0.25, 0]', () => {
    expect([...selectChannel([L, R], 'mix')]).toEqual([0.375, 0.25, 0]);
  });

  it('mono is the same either way', () => {
    expect([...selectChannel([L], 0)]).toEqual([...L]);
    expect([...selectChannel([L], 'mix')]).toEqual([...L]);
  });

  it('interleaved L R L R …', () => {
    const inter = Float32Array.from([0.5, 0.25, -0.25, 0.75, 1, -1]);
    expect([...selectChannelInterleaved(inter, 2)]).toEqual([0.5, -0.25, 1]);
    expect([...selectChannelInterleaved(inter, 2, 'mix')]).toEqual([0.375, 0.25, 0]);
    expect(() => selectChannelInterleaved(inter, 4)).toThrow(RangeError);
  });

  it('rejects no channels and unknown choices', () => {
    expect(() => selectChannel([])).toThrow(RangeError);
    expect(() => selectChannel([L], 1 as 0)).toThrow(/unknown audio channel/);
  });

  it('ffmpeg arguments: pan to channel 0, or the normalised downmix', () => {
    expect(ffmpegChannelArgs()).toEqual(['-af', 'pan=mono|c0=c0']);
    expect(ffmpegChannelArgs('mix')).toEqual(['-ac', '1', '-rematrix_maxval', '1.0']);
  });
});
