/**
 * `npm run caption -- <file> [--bundle DIR | --preset lite [--hub-endpoint URL] [--pins FILE]] [--mode av|v|a] [--interleave spread|timestamp]
 * [--sampling paper|checkpoint] [--fps N] [--max-frames N] [--channel 0|mix]
 * [--prompt-variant official|training] [--repetition-penalty X] [--max-new-tokens N]
 * [--prompt TEXT] [--low-memory auto|on|off] [--json]`
 */
import type { InterleaveMode } from '../core/bundle/manifest';
import { LOW_MEMORY_SETTINGS, type LowMemorySetting } from '../core/bundle/memory';
import type { SamplingPresetName } from '../core/media/plan';
import type { PromptVariant } from '../core/model/prompt';
import type { AudioChannel, CaptionOptions, Decoding, Modality } from '../core/options';
import { LONG_CLIP_SECONDS, LONG_STRIDE_SECONDS } from '../core/timed/long-engine';

export interface CliArgs {
  file: string;
  bundle: string;
  /** --preset lite: the public files at the pins of `pins`, from `hubEndpoint` (default $HF_ENDPOINT, else huggingface.co). */
  preset: 'lite' | null;
  hubEndpoint: string | null;
  pins: string;
  json: boolean;
  /** Low-memory mode (core/bundle/memory.ts): the encoders released before the LLM is loaded. */
  lowMemory: LowMemorySetting;
  /** Only the options given on the command line; the rest come from the bundle. */
  overrides: Partial<CaptionOptions>;
  /** Follow-up questions, asked in order after the caption (--ask, repeatable). */
  ask: string[];
  /** A caption track of segments this long (s), or cut at scene changes ('scenes'), instead of one caption (--track); written to --vtt / --srt. */
  track: number | 'scenes' | null;
  /** A long caption of about this many words (--long): clips of `clip` s every `stride` s, then merged. */
  long: number | null;
  clip: number | null;
  stride: number | null;
  vtt: string | null;
  srt: string | null;
}

/** Seconds ("75", "12.5") or m:ss[.s] ("1:15", "0:07.5"). */
export function parseTime(flag: string, v: string): number {
  const m = /^(?:(\d+):)?(\d+(?:\.\d+)?)$/.exec(v.trim());
  if (!m || (m[1] !== undefined && Number(m[2]) >= 60)) throw new UsageError(`${flag} needs seconds or m:ss, got "${v}"`);
  return Number(m[1] ?? 0) * 60 + Number(m[2]);
}

export const DEFAULT_BUNDLE = 'public/bundles/tiny';
export const DEFAULT_PINS = 'models/lite/pins.json';

export class UsageError extends Error {}

export const USAGE = `usage: npm run caption -- <video> [options]
  --bundle DIR            model bundle folder (default ${DEFAULT_BUNDLE})
  --preset lite           the lite preset straight from the pinned public Hub files
                          (LLaVA-OneVision 0.5B + Whisper transcript; not video-SALMONN 2)
  --hub-endpoint URL      with --preset: a server in the Hub's layout instead of
                          https://huggingface.co (default: $HF_ENDPOINT when set)
  --pins FILE             with --preset: the pinned record (default ${DEFAULT_PINS})
  --mode av|v|a           audio+visual, visual only, audio only (default av)
  --interleave spread|timestamp
                          checkpoint "spread" or paper "timestamp" interleaving
  --sampling paper|checkpoint
                          frame sampling preset: paper (≤ 30 frames, default) or
                          checkpoint (max_time 110 s at 1/s → ≤ 110 frames, as released)
  --fps N                 frames per second to sample (default from the preset, 1)
  --max-frames N          frame cap (default from the preset: 30 or 110)
  --channel 0|mix         audio channel 0 (as the checkpoint, default) or a downmix
  --prompt-variant official|training
                          official (both <|im_end|> dropped, as the released inference;
                          default) or training (kept)
  --repetition-penalty X  decoding penalty (default from the bundle's generation config)
  --max-new-tokens N      generation limit
  --prompt TEXT           the question (default: the bundle's captioning prompt)
  --temperature T --top-p P --seed S
                          sample instead of greedy decoding
  --range START-END       a local caption of this part (seconds or m:ss, e.g. 1:10-1:40)
  --track SECONDS|scenes  a caption track: one short local caption per segment of this
                          length, or per scene ("scenes": cuts where ffmpeg's scene score
                          of frames sampled at 2 fps exceeds 0.3; segments 2–30 s); the
                          cues go into the JSON report
  --long WORDS            a long caption of about WORDS words: clips captioned in order,
                          each with the previous clip's caption as context, then merged
                          by the LLM (hierarchically when the merge would not fit)
  --clip SECONDS, --stride SECONDS
                          with --long: clip length and stride (default 10 and 5, the
                          LongCaptioning setting)
  --vtt FILE, --srt FILE  with --track: also write the cues as WebVTT / SubRip
  --ask TEXT              a follow-up question after the caption (repeatable; only the
                          new turn is prefilled, the caption's KV cache is reused)
  --low-memory auto|on|off
                          run the encoders, release them, then load the LLM (on); auto
                          (default) does so when the graphs exceed the memory budget
                          together (on Node: never); the JSON report says which and why
  --json                  print one JSON report instead of streaming text`;

function checkLong(out: CliArgs): void {
  if (out.long === null) {
    if (out.clip !== null || out.stride !== null) throw new UsageError('--clip and --stride need --long WORDS');
    return;
  }
  if (out.track !== null) throw new UsageError('--long and --track are two different runs: choose one');
  if (out.overrides.range) throw new UsageError('--long covers the whole video: drop --range');
  if (out.ask.length) throw new UsageError('--ask follows a single caption: drop it with --long');
  if (out.overrides.prompt !== undefined) throw new UsageError('--long writes its own clip and merge prompts: drop --prompt');
  const clip = out.clip ?? LONG_CLIP_SECONDS;
  const stride = out.stride ?? LONG_STRIDE_SECONDS;
  if (stride > clip) throw new UsageError(`--stride must be at most the clip length (${clip} s), got ${stride}`);
}

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

export function parseArgs(argv: readonly string[], env: Record<string, string | undefined> = {}): CliArgs {
  const rest = [...argv];
  const out: CliArgs = { file: '', bundle: DEFAULT_BUNDLE, preset: null, hubEndpoint: null, pins: DEFAULT_PINS, json: false, lowMemory: 'auto', overrides: {}, ask: [], track: null, vtt: null, srt: null, long: null, clip: null, stride: null };
  const sampling: { temperature?: number; topP?: number; seed?: number } = {};
  let bundleGiven = false;
  const value = (flag: string) => {
    const v = rest.shift();
    if (v === undefined || v.startsWith('--')) throw new UsageError(`${flag} needs a value`);
    return v;
  };
  while (rest.length) {
    const a = rest.shift()!;
    switch (a) {
      case '--bundle': out.bundle = value(a); bundleGiven = true; break;
      case '--preset': out.preset = oneOf(a, value(a), ['lite'] as const); break;
      case '--hub-endpoint': out.hubEndpoint = value(a); break;
      case '--pins': out.pins = value(a); break;
      case '--json': out.json = true; break;
      case '--low-memory': out.lowMemory = oneOf(a, value(a), LOW_MEMORY_SETTINGS); break;
      case '--range': {
        const v = value(a);
        const [s, e, ...more] = v.split('-');
        if (e === undefined || more.length) throw new UsageError(`--range needs START-END, got "${v}"`);
        const start = parseTime(a, s);
        const end = parseTime(a, e);
        if (!(end > start)) throw new UsageError(`--range ends before it starts ("${v}")`);
        out.overrides.range = { start, end };
        break;
      }
      case '--track': {
        const v = value(a);
        out.track = v === 'scenes' ? 'scenes' : positiveNumber(a, v, false);
        break;
      }
      case '--long': out.long = positiveNumber(a, value(a), true); break;
      case '--clip': out.clip = positiveNumber(a, value(a), false); break;
      case '--stride': out.stride = positiveNumber(a, value(a), false); break;
      case '--vtt': out.vtt = value(a); break;
      case '--srt': out.srt = value(a); break;
      case '--ask': {
        const q = value(a);
        if (!q.trim()) throw new UsageError('--ask needs a question');
        out.ask.push(q);
        break;
      }
      case '--mode': out.overrides.modality = oneOf<Modality>(a, value(a), ['av', 'v', 'a']); break;
      case '--interleave': out.overrides.interleave = oneOf<InterleaveMode>(a, value(a), ['spread', 'timestamp']); break;
      case '--sampling': out.overrides.sampling = oneOf<SamplingPresetName>(a, value(a), ['paper', 'checkpoint']); break;
      case '--channel': {
        const c = oneOf(a, value(a), ['0', 'mix']);
        out.overrides.channel = (c === '0' ? 0 : 'mix') satisfies AudioChannel;
        break;
      }
      case '--prompt-variant': out.overrides.promptVariant = oneOf<PromptVariant>(a, value(a), ['official', 'training']); break;
      case '--repetition-penalty': out.overrides.repetitionPenalty = positiveNumber(a, value(a), false); break;
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
  if (out.preset && bundleGiven) throw new UsageError('--preset and --bundle both name the model: give one');
  if (!out.preset && (out.hubEndpoint !== null || out.pins !== DEFAULT_PINS)) throw new UsageError('--hub-endpoint and --pins need --preset lite');
  if (out.preset) out.hubEndpoint ??= env.HF_ENDPOINT || null;
  if ((out.vtt || out.srt) && out.track === null) throw new UsageError('--vtt and --srt need --track SECONDS');
  if (out.track !== null && out.overrides.range) throw new UsageError('--track covers the whole video: drop --range');
  checkLong(out);
  if (sampling.temperature !== undefined || sampling.topP !== undefined || sampling.seed !== undefined) {
    const decoding: Decoding = { kind: 'sample', temperature: sampling.temperature ?? 1, topP: sampling.topP ?? 1, seed: sampling.seed ?? 0 };
    if (decoding.topP > 1) throw new UsageError('--top-p must be at most 1');
    out.overrides.decoding = decoding;
  }
  return out;
}
