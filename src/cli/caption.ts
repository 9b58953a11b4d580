/**
 * `npm run caption -- <video> [options]`: the same core as the browser, on
 * onnxruntime-node and Debian's ffmpeg. Streams the caption (progress on stderr), or
 * prints one JSON report with --json.
 *
 * Exit codes: 0 done, 1 internal error, 2 usage, 3 bad input (media/*), 4 bad model
 * bundle (bundle/*), 130 interrupted (Ctrl-C; the partial caption is printed).
 */
import { resolve } from 'node:path';
import { loadBundle } from '../core/bundle';
import { FsBundleSource } from '../core/bundle/fs-source';
import { captionMedia, disposeModel, loadModel } from '../core/caption';
import { toCaptionError, type CaptionError } from '../core/errors';
import { openNodeMedia } from '../core/media/node';
import { defaultOptions } from '../core/options';
import type { Stage } from '../core/report';
import { parseArgs, USAGE, UsageError } from './args';
import { ortNode } from './ort-node';

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

async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs(argv);
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
  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort());

  try {
    const bundle = await loadBundle(new FsBundleSource(resolve(args.bundle)));
    // One caption per process: a warm-up run would only add its own time.
    const model = await loadModel(ortNode(), bundle, { prefer: 'auto', platform: 'node', capabilities: { webgpu: null }, warmUp: false }, status);
    const media = await openNodeMedia(resolve(args.file));
    try {
      const options = { ...defaultOptions(bundle.manifest), ...args.overrides };
      if (!args.json && bundle.manifest.randomWeights) {
        process.stderr.write(`note: "${bundle.manifest.name}" has random weights: its caption is meaningless text.\n`);
      }
      let started = false;
      const { report, interrupted } = await captionMedia(
        model,
        media,
        options,
        {
          onProgress: status,
          onToken: (delta) => {
            if (args.json) return;
            if (!started && interactive) process.stderr.write('\r\x1b[K');
            started = true;
            process.stdout.write(delta);
          },
        },
        abort.signal,
      );
      if (args.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
      else process.stdout.write('\n');
      if (report.audio.note) process.stderr.write(`note: ${report.audio.note}\n`);
      return interrupted ? EXIT.interrupted : EXIT.ok;
    } finally {
      media.close();
      await disposeModel(model);
    }
  } catch (e) {
    const err = toCaptionError(e);
    if (interactive) process.stderr.write('\r\x1b[K');
    if (args.json) process.stdout.write(JSON.stringify({ error: { code: err.code, message: err.message } }) + '\n');
    process.stderr.write(`error [${err.code}]: ${err.message}\n`);
    return exitCodeFor(err);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(EXIT.internal);
  },
);
