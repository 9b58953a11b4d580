/** Parity with the PyTorch reference of the tiny bundle: interleave layouts and prompt ids. */

import { describe, expect, it } from 'vitest';
import { loadGolden, readTiny } from '../features/golden.testutil.ts';
import { planInterleave, summarizeLayout, type Layout } from './interleave.ts';
import { buildPromptIds, loadTokenizer, promptLength } from './prompt.ts';

/** Audio rows after each frame and those attached to no frame, as golden.json lists them. */
function audioIndices(layout: Layout): { perFrame: number[][]; trailing: number[] } {
  const perFrame: number[][] = [];
  const trailing: number[] = [];
  for (const s of layout.segments) {
    if (s.kind === 'visual') perFrame.push([]);
    else if (s.kind === 'audio') {
      const rows = Array.from({ length: s.count }, (_, i) => s.start + i);
      (s.trailing || perFrame.length === 0 ? trailing : perFrame[perFrame.length - 1]).push(...rows);
    }
  }
  return { perFrame, trailing };
}

describe('golden parity: model', () => {
  const { golden, manifest } = loadGolden();
  const json = (p: string) => JSON.parse(readTiny(p).toString('utf8')) as object;
  const tokenizer = loadTokenizer(json('tokenizer.json'), json('tokenizer_config.json'));
  const ids = buildPromptIds(tokenizer, manifest.prompt, golden.prompt.question);

  it('prompt ids: before / after the AV block', () => {
    expect(golden.prompt.question).toBe(manifest.prompt.defaultPrompt);
    expect(ids.before).toEqual(golden.prompt.beforeIds);
    expect(ids.after).toEqual(golden.prompt.afterIds);
    expect(ids.before.slice(0, golden.prompt.systemIds.length)).toEqual(golden.prompt.systemIds);
  });

  const runs = golden.cases.flatMap((c) => c.runs.map((r) => [`${c.name} ${r.modality} ${r.interleave}`, c, r] as const));
  it.each(runs)('%s: layout, audio indices, input ids', (_, c, run) => {
    const layout = planInterleave({
      mode: run.interleave === 'any' ? manifest.interleave.default : run.interleave,
      use: { video: run.modality !== 'audio', audio: run.modality !== 'video' },
      frameTimes: run.modality === 'audio' ? [] : c.timestamps,
      tokensPerFrame: manifest.vision.tokensPerFrame,
      audioTokens: run.modality === 'video' ? 0 : c.inputs.windows * manifest.audio.tokensPerWindow,
      duration: c.duration,
      audio: manifest.audio,
    });
    const summary = summarizeLayout(layout);
    expect(summary.frames).toEqual(run.layout);
    expect(summary.trailingAudio).toBe(run.trailingAudio);
    const { perFrame, trailing } = audioIndices(layout);
    expect(perFrame).toEqual(run.audioIndices);
    expect(trailing).toEqual(run.trailingAudioIndices);
    expect(layout.length).toBe(run.avTokens);
    expect(ids.before.length).toBe(run.avBlockStart);
    expect(promptLength(ids, layout.length)).toBe(run.promptLength);
    expect([...ids.before, ...Array<number>(layout.length).fill(-1), ...ids.after]).toEqual(run.inputIds);
  });
});
