/**
 * The video-SALMONN 2 family (our exported bundles): SigLIP tower + projector + pool +
 * newline (`vision_encoder`), Whisper encoder (`audio_encoder`), window-level Q-Former
 * with the segment position embedding (`audio_aligner`), Qwen2 (`embed_tokens`,
 * `decoder_model_merged`).
 *
 *   frames  → pixel_values → vision_encoder → [F, tokensPerFrame, H]          (PIPELINE §1–2)
 *   audio   → 30 s windows → log-mel → audio_encoder → audio_aligner → [A, H]  (§3)
 *   interleave (§4) → spliced between the prompt's token embeddings (§5)
 */
import type { BundleManifest } from '../bundle/manifest';
import { logMel, makeLogMelExtractor } from '../features/logmel';
import { framesToTensor } from '../features/pixels';
import { Decoder, maxRowsPerRun, yieldToEventLoop } from '../model/decoder';
import { afterEachFrame, planInterleave, placeText } from '../model/interleave';
import { applyPromptVariant, buildPromptIds, renderTextPrompt, type PromptIds } from '../model/prompt';
import type { ResolvedOptions } from '../options';
import { timeTokenRows } from '../model/time-tokens';
import { checkAborted } from '../errors';
import { disposeAll, floatTensor, readFloat32 } from '../runtime/ort';
import { expandPort } from '../runtime/sessions';
import type { PreparedFrame } from '../features/pixels';
import type { EncodedAudio, LoadedModel, ModelFamily, ProgressFn } from './types';

const ROLES = {
  vision: 'vision_encoder',
  audio: 'audio_encoder',
  aligner: 'audio_aligner',
  embed: 'embed_tokens',
  decoder: 'decoder_model_merged',
} as const;

/** Runs one single-input, single-output graph and returns its output as float32. */
async function runOne(model: LoadedModel, role: string, data: Float32Array, dims: number[]): Promise<Float32Array> {
  const entry = model.manifest.graphs[role];
  const [input] = Object.values(entry.inputs);
  const [output] = Object.values(entry.outputs);
  const res = await model.sessions[role].run({ [input]: floatTensor(model.ort, data, dims) });
  const out = await readFloat32(res[output]);
  const copy = out.slice();
  disposeAll(Object.values(res));
  return copy;
}

/** The decoder of a loaded model (graphs and ports from the manifest). */
export function decoderOf(model: LoadedModel, embedRole: string = ROLES.embed, decoderRole: string = ROLES.decoder): Decoder {
  const m = model.manifest;
  return new Decoder(
    model.ort,
    {
      embed: { session: model.sessions[embedRole], entry: m.graphs[embedRole] },
      decoder: { session: model.sessions[decoderRole], entry: m.graphs[decoderRole] },
    },
    m.llm,
    maxRowsPerRun(model.backends[decoderRole], m.graphs[decoderRole]),
  );
}

/** Runs the decoder once on one token (its first run compiles kernels): the warm-up of every family's LLM. */
export async function warmUpDecoder(model: LoadedModel, embedRole?: string, decoderRole?: string): Promise<void> {
  const decoder = decoderOf(model, embedRole, decoderRole);
  try {
    await decoder.generate(await decoder.embed([0]), { maxNewTokens: 1, stopTokenIds: [], pickToken: () => 0, prefillChunk: 1 });
  } finally {
    decoder.dispose();
  }
}

/**
 * Frames → [F · tokensPerFrame, H] in batches of 4, one vision run per batch, with an
 * interrupt check and progress between runs. `encode` turns one batch's normalised pixels
 * into its feature rows.
 */
export async function encodeFramesInBatches(
  model: LoadedModel,
  frames: readonly PreparedFrame[],
  encode: (pixels: Float32Array, count: number) => Promise<Float32Array>,
  progress: ProgressFn,
  signal?: AbortSignal,
): Promise<Float32Array> {
  const { vision, llm } = model.manifest;
  const per = vision.tokensPerFrame * llm.hidden;
  const out = new Float32Array(frames.length * per);
  const batch = 4;
  for (let at = 0; at < frames.length; at += batch) {
    await yieldToEventLoop(); // lets an interrupt message in between model runs (decoder.ts)
    checkAborted(signal, 'vision');
    const chunk = frames.slice(at, at + batch);
    out.set(await encode(framesToTensor(chunk.map((f) => f.pixels), vision), chunk.length), at * per);
    progress('vision', Math.min(1, (at + chunk.length) / frames.length));
  }
  return out;
}

export const salmonnFamily: ModelFamily = {
  id: 'video-salmonn-2',
  label: 'video-SALMONN 2',
  graphs: [
    { role: ROLES.vision, inputs: ['pixel_values'], outputs: ['image_features'] },
    { role: ROLES.audio, inputs: ['input_features'], outputs: ['last_hidden_state'] },
    { role: ROLES.aligner, inputs: ['encoder_hidden_states'], outputs: ['audio_features'] },
    { role: ROLES.embed, inputs: ['input_ids'], outputs: ['inputs_embeds'] },
    {
      role: ROLES.decoder,
      inputs: ['inputs_embeds', 'attention_mask', 'position_ids', 'past_key', 'past_value'],
      optionalInputs: ['position_ids'],
      outputs: ['logits', 'present_key', 'present_value'],
    },
  ],

  gpuOutputs(role: string, m: BundleManifest): string[] {
    if (role !== ROLES.decoder) return [];
    const { outputs } = m.graphs[role];
    return [...expandPort(outputs.present_key, m.llm.layers), ...expandPort(outputs.present_value, m.llm.layers)];
  },

  async warmUp(model) {
    const m = model.manifest;
    const S = m.vision.imageSize;
    const { numMels, melFrames, encoderFrames, encoderHidden } = m.audio;
    await runOne(model, ROLES.vision, new Float32Array(3 * S * S), [1, 3, S, S]);
    await runOne(model, ROLES.audio, new Float32Array(numMels * melFrames), [1, numMels, melFrames]);
    await runOne(model, ROLES.aligner, new Float32Array(encoderFrames * encoderHidden), [1, encoderFrames, encoderHidden]);
    await warmUpDecoder(model);
  },

  encodeFrames(model, frames, progress, signal) {
    const s = model.manifest.vision.imageSize;
    return encodeFramesInBatches(model, frames, (pixels, n) => runOne(model, ROLES.vision, pixels, [n, 3, s, s]), progress, signal);
  },

  async encodeAudio(model, media, plan, channel, progress, signal): Promise<EncodedAudio> {
    const { audio } = model.manifest;
    const extractor = makeLogMelExtractor(audio);
    const W = plan.windows.length;
    const per = audio.encoderFrames * audio.encoderHidden;
    const states = new Float32Array(W * per);
    for await (const window of media.audioWindows(plan, { channel })) {
      await yieldToEventLoop();
      checkAborted(signal, 'audio');
      const mel = logMel(extractor, window.samples);
      states.set(await runOne(model, ROLES.audio, mel, [1, audio.numMels, audio.melFrames]), window.index * per);
      progress('audio', (window.index + 1) / (W + 1), `window ${window.index + 1} of ${W}`);
    }
    await yieldToEventLoop();
    checkAborted(signal, 'audio');
    const features = await runOne(model, ROLES.aligner, states, [W, audio.encoderFrames, audio.encoderHidden]);
    progress('audio', 1);
    return { features, tokens: features.length / model.manifest.llm.hidden, text: [] };
  },

  layout(model, { use, frameTimes, audio, duration, options }) {
    const m = model.manifest;
    const layout = planInterleave({
      mode: options.interleave,
      use,
      frameTimes: use.video ? frameTimes : [],
      tokensPerFrame: m.vision.tokensPerFrame,
      audioTokens: audio?.tokens ?? 0,
      duration,
      audio: m.audio,
    });
    // Visual-only input: the checkpoint's time tokens after every frame (PIPELINE §1, model/time-tokens.ts).
    const timed = options.timeTokens && use.video && !use.audio && frameTimes.length ? afterEachFrame(layout, timeTokenRows(model.tokenizer, duration, frameTimes.length).rows, 'time') : layout;
    const text = options.textPieces.map((p) => ({ time: p.time, role: p.role ?? 'note', ids: model.tokenizer.encode(p.text, { add_special_tokens: false }).ids }));
    return text.length ? placeText(timed, use.video ? frameTimes : [], text, m.audio.windowSeconds / m.audio.tokensPerWindow) : timed;
  },

  promptIds(model, question, options) {
    // The released inference drops every <|im_end|> of the prompt (the pad-token quirk, PIPELINE §5).
    return withVariant(model, buildPromptIds(model.tokenizer, model.manifest.prompt, question), options);
  },

  textPromptIds(model, prompt, options) {
    // The same template and prompt variant as a caption's prompt, with nothing between the user's "\n" and text.
    const { chatTemplate, systemPrompt } = model.manifest.prompt;
    const ids = model.tokenizer.encode(renderTextPrompt(chatTemplate, systemPrompt, prompt), { add_special_tokens: false }).ids;
    return withVariant(model, { before: ids, after: [] }, options).before;
  },
};

/** The prompt variant's dropped ids (the manifest's list, else the official pad rule). */
function withVariant(model: LoadedModel, ids: PromptIds, options: ResolvedOptions): PromptIds {
  const drop = model.manifest.prompt.variants?.[options.promptVariant]?.dropTokenIds;
  if (!drop) return applyPromptVariant(ids, options.promptVariant, model.manifest.generation.stopTokenIds[0]);
  const keep = (id: number) => !drop.includes(id);
  return { before: ids.before.filter(keep), after: ids.after.filter(keep) };
}
