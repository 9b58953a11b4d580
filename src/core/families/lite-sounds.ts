/**
 * The lite family's optional sound tagger (models/README.md, "The sound tagger"): an Audio
 * Spectrogram Transformer fine-tuned on AudioSet. Each audio window is cut into tagger windows
 * of `sounds.windowSeconds` (10 s: the AudioSet clip length the model was trained on); each
 * becomes the Kaldi fbank input [1, maxFrames, numMels]; sigmoid(logits) (multi-label) above
 * the threshold, best first, at most topK, become one text piece
 * "[{start}–{end} s] Sounds: {label}, {label}" placed in time order like the transcript.
 */
import { CaptionError } from '../errors';
import { astInputValues, makeFbankExtractor, type FbankExtractor } from '../features/fbank';
import type { TextPiece } from '../model/interleave';
import { disposeAll, floatTensor, readFloat32, type Session } from '../runtime/ort';
import type { LiteManifest, LiteSoundsConfig } from './lite-config';
import type { LoadedModel, SoundWindow } from './types';

export const SOUND_TAGGER = 'sound_tagger';

export function hasSoundTagger(model: LoadedModel): boolean {
  return model.manifest.graphs[SOUND_TAGGER] !== undefined;
}

function soundsOf(model: LoadedModel): LiteSoundsConfig {
  return (model.manifest as LiteManifest).lite.sounds!;
}

/** Labels with sigmoid(logit) ≥ threshold, best first (ties: lower index first), at most topK. */
export function topTags(logits: ArrayLike<number>, labels: readonly string[], threshold: number, topK: number): { label: string; score: number }[] {
  const out: { label: string; score: number; i: number }[] = [];
  for (let i = 0; i < logits.length; i++) {
    const score = 1 / (1 + Math.exp(-logits[i]));
    if (score >= threshold) out.push({ label: labels[i], score, i });
  }
  out.sort((a, b) => b.score - a.score || a.i - b.i);
  return out.slice(0, topK).map(({ label, score }) => ({ label, score }));
}

export function formatSounds(format: string, start: number, end: number, labels: readonly string[]): string {
  return format.replaceAll('{start}', start.toFixed(1)).replaceAll('{end}', end.toFixed(1)).replaceAll('{labels}', labels.join(', '));
}

function contractError(what: string, details: Record<string, unknown>): CaptionError {
  return new CaptionError(
    'bundle/graph-contract',
    `The graph "${SOUND_TAGGER}" ${what} The bundle's graphs and manifest do not belong together (or the public export changed): check the pinned revision in bundle.json.`,
    { graph: SOUND_TAGGER, ...details },
  );
}

/** Runs the tagger on one input [maxFrames, numMels]; checks logits are [1, labels]. */
async function runTagger(model: LoadedModel, input: Float32Array): Promise<Float32Array> {
  const s = soundsOf(model);
  const entry = model.manifest.graphs[SOUND_TAGGER];
  const session = model.sessions[SOUND_TAGGER];
  const name = entry.inputs.input_values;
  const meta = (session as Partial<Session>).inputMetadata?.find((x) => x.name === name);
  const type = meta && 'type' in meta && meta.type === 'float16' ? 'float16' : 'float32';
  const res = await session.run({ [name]: floatTensor(model.ort, input, [1, s.maxFrames, s.numMels], type) });
  const t = res[entry.outputs.logits];
  const want = [1, s.labels.length];
  if (t.dims.length !== 2 || t.dims[0] !== 1 || t.dims[1] !== s.labels.length) {
    disposeAll(Object.values(res));
    throw contractError(
      `returned "${entry.outputs.logits}" of shape [${t.dims.join(', ')}] for input [1, ${s.maxFrames}, ${s.numMels}]; the lite family expects [${want.join(', ')}] (one logit per label of lite.sounds.labels).`,
      { output: entry.outputs.logits, actual: [...t.dims], expected: want },
    );
  }
  const out = (await readFloat32(t)).slice();
  disposeAll(Object.values(res));
  return out;
}

const extractors = new WeakMap<LoadedModel, FbankExtractor>();

function extractor(model: LoadedModel): FbankExtractor {
  let ex = extractors.get(model);
  if (!ex) {
    ex = makeFbankExtractor(soundsOf(model));
    extractors.set(model, ex);
  }
  return ex;
}

/** Load-time check: one run on silence, shapes as the contract says. */
export async function warmUpSoundTagger(model: LoadedModel): Promise<void> {
  const s = soundsOf(model);
  await runTagger(model, astInputValues(extractor(model), new Float32Array(s.frameLength)));
}

/**
 * Tags one audio window (samples from `startTime` seconds): tagger windows of windowSeconds,
 * the last one shorter (skipped under minSeconds). Returns the windows with tags and their pieces.
 */
export async function tagAudioWindow(model: LoadedModel, samples: Float32Array, startTime: number): Promise<{ windows: SoundWindow[]; pieces: TextPiece[] }> {
  const s = soundsOf(model);
  const step = Math.round(s.windowSeconds * s.sampleRate);
  const windows: SoundWindow[] = [];
  const pieces: TextPiece[] = [];
  for (let at = 0; at < samples.length; at += step) {
    const chunk = samples.subarray(at, Math.min(samples.length, at + step));
    if (chunk.length < Math.max(s.frameLength, s.minSeconds * s.sampleRate)) continue;
    const logits = await runTagger(model, astInputValues(extractor(model), chunk));
    const labels = topTags(logits, s.labels, s.threshold, s.topK);
    if (!labels.length) continue;
    const start = startTime + at / s.sampleRate;
    const end = start + chunk.length / s.sampleRate;
    windows.push({ start, end, labels });
    const line = formatSounds(s.format, start, end, labels.map((l) => l.label));
    pieces.push({ time: start, role: 'sounds', ids: model.tokenizer.encode(line, { add_special_tokens: false }).ids });
  }
  return { windows, pieces };
}
