/**
 * Follow-up questions (issue 14): the time to the first token of a question asked on the
 * caption's kept KV cache, against the first caption's time to first token on the same
 * video, in one run (Node, onnxruntime-node, the tiny bundle by default or `--bundle DIR`).
 * The first caption pays for decoding, the encoders and the whole prefill; a follow-up
 * prefills only its own turn. Reported as a ratio (goal ≤ 0.10).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeEngineOver } from '../src/cli/engine';
import { MemoryMediaSource } from '../src/core/media/memory-source';
import { now } from '../src/core/runtime/ort';
import { goldenMedia, type Golden } from '../src/core/testing/golden';

const arg = (flag: string, fallback: string) => {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const bundle = arg('--bundle', 'public/bundles/tiny');
const golden = JSON.parse(readFileSync(join('public/bundles/tiny', 'golden.json'), 'utf8')) as Golden;
const c = golden.cases.find((x) => x.name === 'synthetic_31s')!;

async function main(): Promise<void> {
  const engine = nodeEngineOver();
  await engine.load(bundle);
  const rows: { what: string; ttftMs: number; prefill: number; reused: number }[] = [];
  for (let rep = 0; rep < 3; rep++) {
    const { mediaId } = await engine.open(new MemoryMediaSource(goldenMedia(c, 16000)));
    let t0 = now();
    let first = 0;
    const report = await engine.caption(mediaId, { maxNewTokens: 16 }, { onToken: () => (first ||= now()) });
    rows.push({ what: 'first caption', ttftMs: first - t0, prefill: report.promptTokens, reused: 0 });
    t0 = now();
    first = 0;
    const turn = await engine.ask(mediaId, 'What can be heard, and when?', { maxNewTokens: 16 }, { onToken: () => (first ||= now()) });
    rows.push({ what: 'follow-up', ttftMs: first - t0, prefill: turn.prefillTokens, reused: turn.reusedTokens });
    await engine.close(mediaId);
  }
  await engine.dispose();
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const cap = median(rows.filter((r) => r.what === 'first caption').map((r) => r.ttftMs));
  const ask = median(rows.filter((r) => r.what === 'follow-up').map((r) => r.ttftMs));
  console.table(rows.map((r) => ({ ...r, ttftMs: Number(r.ttftMs.toFixed(1)) })));
  console.log(`follow-up time to first token / first caption's: ${(ask / cap).toFixed(3)} (median of 3; goal ≤ 0.10) on ${bundle}`);
}

void main();
