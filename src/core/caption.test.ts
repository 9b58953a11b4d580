import * as ortNode from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { loadBundle } from './bundle/load';
import { FsBundleSource } from './bundle/fs-source';
import { salmonnFamily } from './families/salmonn';
import { disposeModel, loadModel } from './families/load';
import type { Ort, Session } from './runtime/ort';
import { resolveModality } from './session';

/** onnxruntime-node whose sessions count their runs, in creation order. */
export function countingOrt(counts: number[]): Ort {
  const create = (async (...args: Parameters<Ort['InferenceSession']['create']>) => {
    const session = (await (ortNode.InferenceSession.create as (...a: unknown[]) => Promise<Session>)(...args)) as Session;
    const index = counts.push(0) - 1;
    const run = session.run.bind(session);
    (session as { run: Session['run'] }).run = ((...a: Parameters<Session['run']>) => {
      counts[index]++;
      return run(...a);
    }) as Session['run'];
    return session;
  }) as Ort['InferenceSession']['create'];
  return { ...(ortNode as unknown as Ort), InferenceSession: { create } as unknown as Ort['InferenceSession'] };
}

describe('loadModel', () => {
  it('creates the family\'s graphs in order and warms every one up once (the decoder for one token), or not at all when asked', async () => {
    const bundle = await loadBundle(new FsBundleSource('public/bundles/tiny'));
    const runtime = { prefer: 'auto' as const, platform: 'node' as const, adapter: null };
    const warmed: number[] = [];
    const model = await loadModel(countingOrt(warmed), bundle, runtime);
    expect(Object.keys(model.sessions)).toEqual(['vision_encoder', 'audio_encoder', 'audio_aligner', 'embed_tokens', 'decoder_model_merged']);
    expect(salmonnFamily.graphs.map((g) => g.role)).toEqual(Object.keys(model.sessions));
    await disposeModel(model);
    expect(warmed).toEqual([1, 1, 1, 1, 1]);
    const cold: number[] = [];
    await disposeModel(await loadModel(countingOrt(cold), bundle, { ...runtime, warmUp: false }));
    expect(cold).toEqual([0, 0, 0, 0, 0]);
  });
});

describe('resolveModality (PIPELINE §4: missing tracks)', () => {
  it('uses what is asked for when the file has it', () => {
    expect(resolveModality('av', true, true, 'f')).toEqual({ video: true, audio: true });
    expect(resolveModality('v', true, true, 'f')).toEqual({ video: true, audio: false });
    expect(resolveModality('a', true, true, 'f')).toEqual({ video: false, audio: true });
  });

  it('falls back to the track there is, and says so', () => {
    expect(resolveModality('av', true, false, 'f')).toMatchObject({ video: true, audio: false, note: expect.stringMatching(/no audio track/) });
    expect(resolveModality('av', false, true, 'f')).toMatchObject({ video: false, audio: true, note: expect.stringMatching(/no video track/) });
  });

  it('refuses a modality the file cannot give', () => {
    expect(() => resolveModality('v', false, true, 'song.m4a')).toThrow(/“song.m4a” has no video track/);
    expect(() => resolveModality('a', true, false, 'silent.mp4')).toThrow(/no audio track/);
  });
});
