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
import { clipsOf, toSrt, toWebVtt, type Cue } from '../core/timed/track';
import { longCaption, type ClipCaption } from '../core/timed/long-caption';
import { engineLongCaptionModel, LONG_CLIP_SECONDS, LONG_STRIDE_SECONDS } from '../core/timed/long-engine';
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

/** Ctrl-C: stops the request in progress and the loop of a multi-step run (between its requests). */
const cancel = new AbortController();

function isInterrupt(e: unknown): boolean {
  return (e instanceof DOMException && e.name === 'AbortError') || toCaptionError(e).code === 'runtime/interrupted';
}

function interruptStage(e: unknown, fallback: string): string {
  return e instanceof DOMException ? fallback : String(toCaptionError(e).details.stage ?? fallback);
}

/** --track: one local caption per segment (fixed, or cut at scene changes), streamed as cues; JSON report, .vtt / .srt files. */
async function captionTrack(engine: NodeEngine, mediaId: string, args: CliArgs, status: (stage: Stage, fraction: number) => void): Promise<number> {
  const duration = engine.session(mediaId).media.info.duration;
  const reports: CaptionReport[] = [];
  const scenes = args.track === 'scenes' ? await engine.scenes(mediaId, {}, { onProgress: status }) : null;
  if (scenes) process.stderr.write(`${process.stderr.isTTY ? '\r\x1b[K' : ''}${scenes.cuts.length} scene cuts, ${scenes.segments.length} segments\n`);
  const track = new CaptionTrack(async (range, prompt) => {
    const r = await engine.caption(mediaId, { ...args.overrides, prompt: args.overrides.prompt ?? prompt, range }, { onProgress: status });
    reports.push(r);
    return r.caption;
  });
  const request = scenes ? { seconds: 10, scenes } : { seconds: args.track as number };
  const segmentation = scenes ? { scenes: { options: scenes.options, cuts: scenes.cuts, segments: scenes.segments } } : { seconds: args.track };
  const done: Cue[] = [];
  const print = (extra: object) => args.json && process.stdout.write(JSON.stringify({ track: { ...segmentation, cues: done, ...extra }, segments: reports }, null, 2) + '\n');
  try {
    await track.run(duration, request, (cue) => {
      done.push(cue);
      if (!args.json) process.stdout.write(`[${cue.start.toFixed(1)}–${cue.end.toFixed(1)} s] ${cue.text}\n`);
    }, cancel.signal);
  } catch (e) {
    if (!isInterrupt(e)) throw e;
    print({ interrupted: interruptStage(e, 'segment') }); // the cues done so far are kept
    process.stderr.write(`interrupted after ${done.length} cues\n`);
    return EXIT.interrupted;
  }
  if (args.vtt) writeFileSync(args.vtt, toWebVtt(done));
  if (args.srt) writeFileSync(args.srt, toSrt(done));
  print({});
  return EXIT.ok;
}

/**
 * --long: clip captions in order (each with the previous one as context), then the merge
 * (long-caption.ts). Progress per clip and merge on stderr; Ctrl-C leaves the clips done so
 * far in the JSON report.
 */
async function captionLong(engine: NodeEngine, mediaId: string, args: CliArgs, status: (stage: Stage, fraction: number) => void): Promise<number> {
  const info = engine.session(mediaId).media.info;
  const clipSeconds = args.clip ?? LONG_CLIP_SECONDS;
  const strideSeconds = args.stride ?? LONG_STRIDE_SECONDS;
  const clips = clipsOf(info.duration, clipSeconds, strideSeconds);
  const model = engineLongCaptionModel(engine, mediaId, { manifest: engine.loaded!.manifest, countTokens: (t) => engine.completionTokens(t, args.overrides), request: args.overrides, events: { onProgress: status } });
  const line = (text: string) => process.stderr.write(`${process.stderr.isTTY ? '\r\x1b[K' : ''}${text}\n`);
  const done: ClipCaption[] = [];
  const merges: { level: number; start: number; end: number; promptTokens: number; caption: string }[] = [];
  const setup = { targetWords: args.long!, clipSeconds, strideSeconds, contextTokens: model.contextTokens };
  const print = (long: object) => args.json && process.stdout.write(JSON.stringify({ long: { ...setup, ...long }, segments: model.clipReports }, null, 2) + '\n');
  try {
    const r = await longCaption(clips, model, {
      targetWords: args.long!,
      signal: cancel.signal,
      onClip: (i, n, caption) => {
        done.push({ ...clips[i], caption });
        line(`clip ${i + 1}/${n} (${clips[i].start}–${clips[i].end} s) done`);
        if (!args.json) process.stdout.write(`[${clips[i].start.toFixed(1)}–${clips[i].end.toFixed(1)} s] ${caption}\n`);
      },
      onMerge: (level, i, n, m) => {
        merges.push({ level, start: m.start, end: m.end, promptTokens: model.mergeReports[model.mergeReports.length - 1].promptTokenIds.length, caption: m.caption });
        line(`merge level ${level + 1}: ${i + 1}/${n} (${m.start}–${m.end} s) done`);
      },
    });
    print({ caption: r.caption, words: r.words, lengthScore: r.lengthScore, repetitionRate: r.repetitionRate, mergeLevels: r.mergeLevels, clips: r.clips, merges });
    if (!args.json) process.stdout.write(`\n${r.caption}\n`);
    line(`${r.words} words (target ${args.long}): length score ${r.lengthScore.toFixed(1)}, repetition rate ${(r.repetitionRate * 100).toFixed(1)} %, merge levels [${r.mergeLevels.join(', ')}]`);
    return EXIT.ok;
  } catch (e) {
    if (!isInterrupt(e)) throw e;
    print({ interrupted: interruptStage(e, done.length < clips.length ? 'clip' : 'merge'), clips: done, merges });
    line(`interrupted after ${done.length} of ${clips.length} clips`);
    return EXIT.interrupted;
  }
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
  process.once('SIGINT', () => {
    cancel.abort();
    engine.interrupt();
  });

  let started = false;
  const onToken = (delta: string) => {
    if (args.json) return;
    if (!started && interactive) process.stderr.write('\r\x1b[K');
    started = true;
    process.stdout.write(delta);
  };
  try {
    const location = args.preset ? hubLocation(args.pins, args.hubEndpoint) : args.bundle;
    const info = await engine.load(location, { lowMemory: args.lowMemory }, { onProgress: (p) => status(p.stage, p.fraction) });
    if (!args.json && info.variant) process.stderr.write(`note: variant ${info.variant.reason}\n`);
    if (!args.json && info.memory.lowMemory) process.stderr.write(`note: low-memory mode: ${info.memory.reason}\n`);
    const { mediaId } = await engine.open(args.file);
    if (!args.json && info.randomWeights) process.stderr.write(`note: "${info.name}" has random weights: its caption is meaningless text.\n`);
    if (args.track !== null) return await captionTrack(engine, mediaId, args, status);
    if (args.long !== null) return await captionLong(engine, mediaId, args, status);
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
    if (err.code === 'runtime/interrupted' || isInterrupt(e)) {
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
