/**
 * `npm run caption -- <file> [--bundle DIR] [--mode av|v|a] [--interleave spread|timestamp]
 * [--fps N] [--max-frames N] [--max-new-tokens N] [--prompt TEXT] [--json]`
 */
import type { InterleaveMode } from '../core/bundle/manifest';
import type { CaptionOptions, Decoding, Modality } from '../core/options';

export interface CliArgs {
  file: string;
  bundle: string;
  json: boolean;
  /** Only the options given on the command line; the rest come from the bundle. */
  overrides: Partial<CaptionOptions>;
}

export const DEFAULT_BUNDLE = 'public/bundles/tiny';

export class UsageError extends Error {}

export const USAGE = `usage: npm run caption -- <video> [options]
  --bundle DIR            model bundle folder (default ${DEFAULT_BUNDLE})
  --mode av|v|a           audio+visual, visual only, audio only (default av)
  --interleave spread|timestamp
                          checkpoint "spread" or paper "timestamp" interleaving
  --fps N                 frames per second to sample (default from the bundle, 1)
  --max-frames N          frame cap (default from the bundle, 30)
  --max-new-tokens N      generation limit
  --prompt TEXT           the question (default: the bundle's captioning prompt)
  --temperature T --top-p P --seed S
                          sample instead of greedy decoding
  --json                  print one JSON report instead of streaming text`;

function positiveNumber(flag: string, v: string, integer: boolean): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new UsageError(`${flag} needs a positive ${integer ? 'integer' : 'number'}, got "${v}"`);
  }
  return n;
}

function oneOf<T extends string>(flag: string, v: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(v)) throw new UsageError(`${flag} must be one of ${allowed.join(', ')}, got "${v}"`);
  return v as T;
}

export function parseArgs(argv: readonly string[]): CliArgs {
  const rest = [...argv];
  const out: CliArgs = { file: '', bundle: DEFAULT_BUNDLE, json: false, overrides: {} };
  const sampling: { temperature?: number; topP?: number; seed?: number } = {};
  const value = (flag: string) => {
    const v = rest.shift();
    if (v === undefined || v.startsWith('--')) throw new UsageError(`${flag} needs a value`);
    return v;
  };
  while (rest.length) {
    const a = rest.shift()!;
    switch (a) {
      case '--bundle': out.bundle = value(a); break;
      case '--json': out.json = true; break;
      case '--mode': out.overrides.modality = oneOf<Modality>(a, value(a), ['av', 'v', 'a']); break;
      case '--interleave': out.overrides.interleave = oneOf<InterleaveMode>(a, value(a), ['spread', 'timestamp']); break;
      case '--fps': out.overrides.fps = positiveNumber(a, value(a), false); break;
      case '--max-frames': out.overrides.maxFrames = positiveNumber(a, value(a), true); break;
      case '--max-new-tokens': out.overrides.maxNewTokens = positiveNumber(a, value(a), true); break;
      case '--prompt': out.overrides.prompt = value(a); break;
      case '--temperature': sampling.temperature = positiveNumber(a, value(a), false); break;
      case '--top-p': sampling.topP = positiveNumber(a, value(a), false); break;
      case '--seed': sampling.seed = Number(value(a)); break;
      case '-h':
      case '--help': throw new UsageError('');
      default:
        if (a.startsWith('-')) throw new UsageError(`unknown option ${a}`);
        if (out.file) throw new UsageError(`only one video at a time (got "${out.file}" and "${a}")`);
        out.file = a;
    }
  }
  if (!out.file) throw new UsageError('no video file given');
  if (sampling.temperature !== undefined || sampling.topP !== undefined || sampling.seed !== undefined) {
    const decoding: Decoding = { kind: 'sample', temperature: sampling.temperature ?? 1, topP: sampling.topP ?? 1, seed: sampling.seed ?? 0 };
    if (decoding.topP > 1) throw new UsageError('--top-p must be at most 1');
    out.overrides.decoding = decoding;
  }
  return out;
}
