/**
 * Orchestration share (issue 16): one caption run of the app's own `CaptionSession` (Node:
 * onnxruntime-node, media through ffmpeg), each stage's wall time (the report's timings)
 * split into time inside ONNX `session.run`, time waiting for media decoding (the frame and
 * audio-window iterators) and the rest — our code between them (pixel preparation, log-mel,
 * tensor building, sampling, detokenizing, yields): the wall time during which neither an
 * ORT run nor a media read was in flight. The frames are decoded while the vision encoder
 * runs on the first ones (session.ts), so those two stages are one row. Median of
 * `--repeats` runs (default 3).
 *
 *   npx tsx bench/orchestration.ts [--bundle DIR] [--video FILE] [--tokens N] [--repeats N]
 *
 * Writes .test-output/bench-orchestration.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { nodeEngineOver } from '../src/cli/engine';
import { openNodeMedia } from '../src/core/media/node';
import type { MediaSource } from '../src/core/media/types';
import type { Stage } from '../src/core/report';
import { now, type Session } from '../src/core/runtime/ort';

const arg = (flag: string, fallback: string) => {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const bundle = arg('--bundle', 'public/bundles/tiny');
const video = arg('--video', 'e2e/fixtures/out/long40.mp4');
const tokens = Number(arg('--tokens', '64'));
const repeats = Number(arg('--repeats', '3'));

const STAGES = ['decode', 'vision', 'audio', 'prefill', 'generate'] as const;
/** The report's stages, and the prompt's text embeddings between them (embed_tokens before the first token). */
type Timed = (typeof STAGES)[number] | 'between';

/** Milliseconds inside ORT runs and inside media iterators, per stage. */
class Tracer {
  ort: Record<Timed, number> = { decode: 0, vision: 0, audio: 0, prefill: 0, generate: 0, between: 0 };
  media: Record<Timed, number> = { decode: 0, vision: 0, audio: 0, prefill: 0, generate: 0, between: 0 };
  /** [start, end] of every ORT run and media read, per stage. */
  spans: Record<Timed, [number, number][]> = { decode: [], vision: [], audio: [], prefill: [], generate: [], between: [] };
  /** The LLM's runs count as prefill until the first token, then as generate. */
  generating = false;

  reset(): void {
    for (const k of [...STAGES, 'between'] as const) {
      this.ort[k] = this.media[k] = 0;
      this.spans[k] = [];
    }
    this.generating = false;
  }

  /** Milliseconds covered by at least one span of these stages (overlapping runs and reads count once). */
  busy(...stages: Timed[]): number {
    const spans = stages.flatMap((k) => this.spans[k]).sort((a, b) => a[0] - b[0]);
    let total = 0;
    let end = -Infinity;
    for (const [s, e] of spans) {
      if (e > end) total += e - Math.max(s, end);
      end = Math.max(end, e);
    }
    return total;
  }

  /** Times every run of a session, attributed to the stage its graph belongs to. */
  wrapSession(role: string, session: Session): void {
    const run = session.run.bind(session) as (...a: unknown[]) => Promise<unknown>;
    const stage = (): Timed => (role === 'vision_encoder' ? 'vision' : role.startsWith('audio') ? 'audio' : this.generating ? 'generate' : role === 'embed_tokens' ? 'between' : 'prefill');
    (session as { run: unknown }).run = async (...a: unknown[]) => {
      const t = now();
      const k = stage();
      try {
        return await run(...a);
      } finally {
        this.ort[k] += now() - t;
        this.spans[k].push([t, now()]);
      }
    };
  }

  /** Times each `next()` of the source's frame and audio iterators. */
  wrapMedia(source: MediaSource): MediaSource {
    const timed = <T>(gen: AsyncGenerator<T>, stage: Timed): AsyncGenerator<T> => {
      const next = gen.next.bind(gen);
      gen.next = async (...a: [] | [unknown]) => {
        const t = now();
        try {
          return await next(...a);
        } finally {
          this.media[stage] += now() - t;
          this.spans[stage].push([t, now()]);
        }
      };
      return gen;
    };
    return {
      info: source.info,
      frames: (plan) => timed(source.frames(plan), 'decode'),
      audioWindows: (plan, options) => timed(source.audioWindows(plan, options), 'audio'),
      close: () => source.close(),
    };
  }
}

interface Row {
  stage: string;
  wall: number;
  ort: number;
  media: number;
  rest: number;
}

async function main(): Promise<void> {
  const tracer = new Tracer();
  const engine = nodeEngineOver({ warmUp: true });
  await engine.load(bundle);
  const model = engine.loaded!;
  for (const [role, session] of Object.entries(model.sessions)) tracer.wrapSession(role, session);
  const runs: Row[][] = [];
  for (let r = 0; r < repeats; r++) {
    tracer.reset();
    const { mediaId } = await engine.open(tracer.wrapMedia(await openNodeMedia(resolve(video))));
    const t0 = now();
    const report = await engine.caption(mediaId, { maxNewTokens: tokens }, { onToken: () => (tracer.generating = true) });
    const total = now() - t0;
    await engine.close(mediaId);
    const timings = report.timings as Partial<Record<Stage, number>>;
    const row = (stage: string, keys: (typeof STAGES)[number][]): Row => {
      const wall = keys.reduce((n, k) => n + (timings[k] ?? 0), 0);
      const sum = (of: Record<Timed, number>) => keys.reduce((n, k) => n + of[k], 0);
      return { stage, wall, ort: sum(tracer.ort), media: sum(tracer.media), rest: wall - tracer.busy(...keys) };
    };
    const rows: Row[] = [row('frames + vision (overlapped)', ['decode', 'vision']), ...(['audio', 'prefill', 'generate'] as const).map((k) => row(k, [k]))];
    const staged = rows.reduce((n, x) => n + x.wall, 0);
    rows.push({ stage: 'between stages (layout, text embeddings, prompt)', wall: total - staged, ort: tracer.ort.between, media: 0, rest: total - staged - tracer.busy('between') });
    rows.push({ stage: 'whole run', wall: total, ort: rows.reduce((n, x) => n + x.ort, 0), media: rows.reduce((n, x) => n + x.media, 0), rest: rows.reduce((n, x) => n + x.rest, 0) });
    runs.push(rows);
    console.log(`run ${r + 1}: ${total.toFixed(0)} ms, ${report.generatedTokenIds.length} tokens, ${report.frames.length} frames, ${report.audio.windows} audio windows`);
  }
  await engine.dispose();
  // The run with the median total, as one consistent set of rows.
  const pick = [...runs].sort((a, b) => a[a.length - 1].wall - b[b.length - 1].wall)[Math.floor(runs.length / 2)];
  const pct = (x: number, of: number) => (of > 0 ? `${((100 * x) / of).toFixed(1)} %` : '—');
  const lines = [`| stage (${bundle.split('/').pop()}, ${video.split('/').pop()}, ${tokens} tokens) | wall ms | ORT run ms | media decoding ms | rest (ours) ms | rest share |`, '|---|---:|---:|---:|---:|---:|'];
  for (const x of pick) lines.push(`| ${x.stage} | ${x.wall.toFixed(1)} | ${x.ort.toFixed(1)} | ${x.media.toFixed(1)} | ${x.rest.toFixed(1)} | ${pct(x.rest, x.wall)} |`);
  console.log(`\n${lines.join('\n')}`);
  mkdirSync('.test-output', { recursive: true });
  writeFileSync(join('.test-output', 'bench-orchestration.json'), JSON.stringify({ bundle, video, tokens, runs }, null, 2));
  console.log('\nwrote .test-output/bench-orchestration.json');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
