/**
 * `npm run caption -- <video> [options]`: the same core as the browser, on
 * onnxruntime-node and Debian's ffmpeg. Streams the caption (progress on stderr), or
 * prints one JSON report with --json.
 *
 * Exit codes: 0 done, 1 internal error, 2 usage, 3 bad input (media/*), 4 bad model
 * bundle (bundle/*), 130 interrupted (Ctrl-C; the partial caption is printed).
 */
import { toCaptionError, type CaptionError } from '../core/errors';
import type { CaptionReport, Stage, TurnReport } from '../core/report';
import { parseArgs, USAGE, UsageError } from './args';
import { hubLocation, nodeEngine, type NodeEngine } from './engine';
import { writeFileSync } from 'node:fs';
import { CaptionTrack } from '../core/timed/track-run';
import { toSrt, toWebVtt, type Cue } from '../core/timed/track';
import type { CliArgs } from './args';

export const EXIT = { ok: 0, internal: 1, usage: 2, badInput: 3, badBundle: 4, interrupted: 130 } as const;

export function exitCodeFor(err: CaptionError): number {
  if (err.code.startsWith('media/')) return EXIT.badInput;
  if (err.code.startsWith('bundle/')) return EXIT.badBundle;
  if (err.code === 'runtime/interrupted') return EXIT.interrupted;
  return EXIT.internal;
}

const STAGE_NAMES: Record<Stage, string> = {
  bundle: 'loading model files',
  session: 'creating sessions',
  decode: 'decoding frames',
  features: 'computing features',
  vision: 'encoding frames',
  audio: 'encoding audio',
  prefill: 'reading the prompt',
  generate: 'generating',
};

/** --track: one local caption per segment, streamed as cues; JSON report, .vtt / .srt files. */
async function captionTrack(engine: NodeEngine, mediaId: string, args: CliArgs, status: (stage: Stage, fraction: number) => void): Promise<number> {
  const duration = engine.session(mediaId).media.info.duration;
  const reports: CaptionReport[] = [];
  const track = new CaptionTrack(async (range, prompt) => {
    const r = await engine.caption(mediaId, { ...args.overrides, prompt: args.overrides.prompt ?? prompt, range }, { onProgress: status });
    reports.push(r);
    return r.caption;
  });
  const cues: Cue[] = await track.run(duration, { seconds: args.track! }, (cue) => {
    if (!args.json) process.stdout.write(`[${cue.start.toFixed(1)}–${cue.end.toFixed(1)} s] ${cue.text}\n`);
  });
  if (args.vtt) writeFileSync(args.vtt, toWebVtt(cues));
  if (args.srt) writeFileSync(args.srt, toSrt(cues));
  if (args.json) process.stdout.write(JSON.stringify({ track: { seconds: args.track, cues }, segments: reports }, null, 2) + '\n');
  return EXIT.ok;
}

async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs(argv, process.env);
  } catch (e) {
    if (e instanceof UsageError) {
      if (e.message) process.stderr.write(`error: ${e.message}\n\n`);
      process.stderr.write(USAGE + '\n');
      return e.message ? EXIT.usage : EXIT.ok;
    }
    throw e;
  }
  const interactive = !args.json && process.stderr.isTTY;
  const status = (stage: Stage, fraction: number) => {
    if (interactive && stage !== 'generate') process.stderr.write(`\r\x1b[K${STAGE_NAMES[stage]} ${Math.round(fraction * 100)}%`);
  };
  const engine = nodeEngine({ warmUp: false });
  process.once('SIGINT', () => engine.interrupt());

  let started = false;
  const onToken = (delta: string) => {
    if (args.json) return;
    if (!started && interactive) process.stderr.write('\r\x1b[K');
    started = true;
    process.stdout.write(delta);
  };
  try {
    const location = args.preset ? hubLocation(args.pins, args.hubEndpoint) : args.bundle;
    const info = await engine.load(location, {}, { onProgress: (p) => status(p.stage, p.fraction) });
    if (!args.json && info.variant) process.stderr.write(`note: variant ${info.variant.reason}\n`);
    const { mediaId } = await engine.open(args.file);
    if (!args.json && info.randomWeights) process.stderr.write(`note: "${info.name}" has random weights: its caption is meaningless text.\n`);
    if (args.track !== null) return await captionTrack(engine, mediaId, args, status);
    const report = await engine.caption(mediaId, args.overrides, { onProgress: status, onToken });
    if (!args.json) process.stdout.write('\n');
    const turns: TurnReport[] = [];
    for (const question of args.ask) {
      if (!args.json) process.stdout.write(`\n> ${question}\n`);
      turns.push(await engine.ask(mediaId, question, args.overrides, { onToken }));
      if (!args.json) process.stdout.write('\n');
    }
    if (args.json) process.stdout.write(JSON.stringify(args.ask.length ? { ...report, turns } : report, null, 2) + '\n');
    if (report.audio.note) process.stderr.write(`note: ${report.audio.note}\n`);
    return EXIT.ok;
  } catch (e) {
    const err = toCaptionError(e);
    if (interactive) process.stderr.write('\r\x1b[K');
    if (err.code === 'runtime/interrupted') {
      const partial = err.details.report as CaptionReport | undefined;
      if (args.json) process.stdout.write(JSON.stringify(partial ?? { error: { code: err.code, message: err.message } }, null, 2) + '\n');
      else process.stdout.write('\n');
      process.stderr.write(`interrupted (${String(err.details.stage ?? 'run')})\n`);
      return EXIT.interrupted;
    }
    if (args.json) process.stdout.write(JSON.stringify({ error: { code: err.code, message: err.message } }) + '\n');
    process.stderr.write(`error [${err.code}]: ${err.message}\n`);
    return exitCodeFor(err);
  } finally {
    await engine.dispose();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(EXIT.internal);
  },
);
