/**
 * The run set-up building blocks (time tokens, prompt variants, audio-only cut, presets)
 * against the PyTorch reference's setup runs of the tiny bundle (golden.json setupRuns).
 * The hand-worked tables are in time-tokens.test.ts, prompt.test.ts, plan.test.ts and
 * sampling.test.ts; this only checks that both sides read the rules the same way.
 */
import { describe, expect, it } from 'vitest';
import { loadGolden, readTiny } from '../features/golden.testutil.ts';
import { planAudio, planFrames, cfrTimeline, resolveSampling } from '../media/plan.ts';
import { goldenSetupFrames } from '../testing/golden.ts';
import { applyPromptVariant, buildPromptIds, loadTokenizer, promptTokenIdsReport } from './prompt.ts';
import { timeTokenRows } from './time-tokens.ts';

describe('golden setup runs: run set-up parity', () => {
  const { golden, manifest } = loadGolden();
  const json = (p: string) => JSON.parse(readTiny(p).toString('utf8')) as object;
  const tokenizer = loadTokenizer(json('tokenizer.json'), json('tokenizer_config.json'));
  const ids = buildPromptIds(tokenizer, manifest.prompt, golden.prompt.question);
  const runs = golden.cases.flatMap((c) => (c.setupRuns ?? []).map((r) => [`${c.name} ${r.modality} ${r.interleave} ${r.setup.sampling} p=${r.setup.repetitionPenalty}`, c, r] as const));

  it('has setup runs with the stated defaults', () => {
    expect(runs.length).toBeGreaterThanOrEqual(golden.cases.length * 4 + 2);
    expect(golden.defaults).toMatchObject({ sampling: 'paper', promptVariant: 'official', channel: 0 });
    expect(runs.some(([, , r]) => r.setup.repetitionPenalty !== 1)).toBe(true);
    expect(runs.some(([, , r]) => r.setup.sampling === 'checkpoint')).toBe(true);
  });

  it('prompt variants: ours = golden.prompt.variants', () => {
    for (const v of ['official', 'training'] as const) {
      const ours = applyPromptVariant(ids, v);
      expect({ beforeIds: ours.before, afterIds: ours.after }).toEqual(golden.prompt.variants![v]);
    }
  });

  it.each(runs)('%s', (_, c, run) => {
    const variant = applyPromptVariant(ids, run.setup.promptVariant);
    expect(promptTokenIdsReport(variant)).toEqual(run.promptTokenIds);
    for (const v of ['official', 'training'] as const) {
      const p = applyPromptVariant(ids, v);
      expect(run.inputIdsByVariant[v]).toEqual([...p.before, ...Array<number>(run.avTokens).fill(-1), ...p.after]);
    }
    const s = resolveSampling(run.setup.sampling, { fps: run.setup.fps });
    expect([s.maxFrames, s.maxTime]).toEqual([run.setup.maxFrames, run.setup.maxTime]);
    const { frameIndices } = goldenSetupFrames(c, run);
    if (c.source.kind === 'formula') {
      const plan = planFrames(cfrTimeline(c.source.numFrames / c.source.fps, c.source.fps), { fps: s.fps, maxFrames: s.maxFrames, minFrames: manifest.sampling.minFrames });
      if (run.modality !== 'audio') expect(plan.indices).toEqual(frameIndices);
    }
    if (run.setup.timeTokens) {
      const rows = timeTokenRows(tokenizer, c.duration, frameIndices.length);
      expect(rows.width).toBe(run.timeTokenWidth);
      expect(rows.rows).toEqual(run.layout.map((l) => l.timeTokens));
      expect(run.avTokens).toBe(frameIndices.length * (manifest.vision.tokensPerFrame + rows.width));
    } else {
      expect(run.layout.every((l) => l.timeTokens === undefined)).toBe(true);
    }
    if (run.audioInput) {
      const samples = c.source.kind === 'formula' ? c.source.audioSamples! : c.source.decodedAudio!.numSamples;
      const plan = planAudio({ audioSamples: samples, videoRealTime: null, maxTime: run.setup.maxTime }, manifest.audio);
      expect(plan.totalSamples).toBe(run.audioInput.preparedAudioSamples);
      expect(plan.windows.length).toBe(run.audioInput.windows);
      expect(run.avTokens).toBe(plan.windows.length * manifest.audio.tokensPerWindow);
    }
  });
});
