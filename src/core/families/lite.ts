/**
 * The lite family ("llava-onevision-whisper") over public ONNX exports in the
 * transformers.js layout (models/README.md, "The lite family"): LLaVA-OneVision-Qwen2-0.5B
 * for the frames and the LLM, Whisper for speech. This is NOT video-SALMONN 2: there are no
 * Q-Former audio tokens; the audio reaches the LLM only as a timestamped transcript.
 *
 *   frames → pixel_values → vision_encoder → [F, grid², H] → bilinear pool → [F, pooledGrid², H]
 *   audio  → 30 s windows → log-mel → speech_encoder → speech_decoder (greedy, timestamps)
 *          → transcript segments → text pieces at their times
 *   audio  → 10 s tagger windows → Kaldi fbank → sound_tagger (optional) → top labels → text pieces
 *   frames and text pieces interleaved in time order, spliced where the chat template puts <video>
 */
import type { BundleManifest } from '../bundle/manifest';
import { CaptionError, checkAborted } from '../errors';
import { logMel, makeLogMelExtractor } from '../features/logmel';
import { bilinearPoolGrid } from '../features/pool';
import { Template } from '@huggingface/jinja';
import { yieldToEventLoop } from '../model/decoder';
import { planInterleave, placeText, type TextPiece } from '../model/interleave';
import { loadTokenizer, type PromptIds, type TextTokenizer } from '../model/prompt';
import { segmentsFromIds, WhisperRecognizer } from '../model/whisper';
import { disposeAll, floatTensor, readFloat32, type Session } from '../runtime/ort';
import { expandPort } from '../runtime/sessions';
import { checkLiteManifest, type LiteManifest } from './lite-config';
import { hasSoundTagger, SOUND_TAGGER, tagAudioWindow, warmUpSoundTagger } from './lite-sounds';
import { encodeFramesInBatches, warmUpDecoder } from './salmonn';
import type { EncodedAudio, LoadedModel, ModelFamily, SoundWindow } from './types';

export const LITE_ROLES = {
  vision: 'vision_encoder',
  embed: 'embed_tokens',
  decoder: 'decoder_model_merged',
  speechEncoder: 'speech_encoder',
  speechDecoder: 'speech_decoder',
  sounds: SOUND_TAGGER,
} as const;

const liteOf = (m: BundleManifest): LiteManifest => checkLiteManifest(m);

function contractError(role: string, what: string, details: Record<string, unknown>): CaptionError {
  return new CaptionError(
    'bundle/graph-contract',
    `The graph "${role}" ${what} The bundle's graphs and manifest do not belong together (or the public export changed): check the pinned revision in bundle.json.`,
    { graph: role, ...details },
  );
}

/** Checks a declared element type of a session's port against the types the family accepts. */
function checkType(role: string, session: Session, side: 'input' | 'output', name: string, allowed: readonly string[]): void {
  const list = side === 'input' ? (session as Partial<Session>).inputMetadata : (session as Partial<Session>).outputMetadata;
  const meta = list?.find((m) => m.name === name);
  const type = meta && 'type' in meta ? String(meta.type) : undefined;
  if (type !== undefined && !allowed.includes(type)) {
    throw contractError(role, `declares ${side} "${name}" as ${type}; the lite family needs ${allowed.join(' or ')}.`, { side, name, actual: type, expected: [...allowed] });
  }
}

/** Runs the vision encoder on frames [n,3,S,S] and checks the shape: [n, grid², H]. */
async function runVision(model: LoadedModel, pixels: Float32Array, n: number): Promise<Float32Array> {
  const m = model.manifest;
  const entry = m.graphs[LITE_ROLES.vision];
  const session = model.sessions[LITE_ROLES.vision];
  const input = entry.inputs.pixel_values;
  const output = entry.outputs.image_features;
  const s = m.vision.imageSize;
  const meta = (session as Partial<Session>).inputMetadata?.find((x) => x.name === input);
  const type = meta && 'type' in meta && meta.type === 'float16' ? 'float16' : 'float32';
  const res = await session.run({ [input]: floatTensor(model.ort, pixels, [n, 3, s, s], type) });
  const t = res[output];
  const rows = m.vision.grid * m.vision.grid;
  const want = [n, rows, m.llm.hidden];
  if (t.dims.length !== 3 || t.dims.some((d, i) => d !== want[i])) {
    disposeAll(Object.values(res));
    throw contractError(
      LITE_ROLES.vision,
      `returned "${output}" of shape [${t.dims.join(', ')}] for ${n} frame(s); the lite family expects [${want.join(', ')}] (${m.vision.grid}×${m.vision.grid} patches per frame, projected to the LLM width ${m.llm.hidden}, before pooling).`,
      { output, actual: [...t.dims], expected: want },
    );
  }
  const out = (await readFloat32(t)).slice();
  disposeAll(Object.values(res));
  return out;
}

const whisperTokenizers = new WeakMap<LoadedModel, TextTokenizer>();

function parseJson(model: LoadedModel, path: string): object {
  const bytes = model.tokenizerFiles?.[path];
  if (!bytes) throw new CaptionError('runtime/internal', `The tokenizer file "${path}" was not loaded with the bundle.`, { file: path });
  return JSON.parse(new TextDecoder().decode(bytes)) as object;
}

/** Whisper's own tokenizer (transcript ids → text), built once per loaded model. */
function whisperTokenizer(model: LoadedModel): TextTokenizer {
  let t = whisperTokenizers.get(model);
  if (!t) {
    const { speech } = liteOf(model.manifest).lite;
    t = loadTokenizer(parseJson(model, speech.tokenizerJson), parseJson(model, speech.tokenizerConfig));
    whisperTokenizers.set(model, t);
  }
  return t;
}

function recognizer(model: LoadedModel, maxNewTokens?: number): WhisperRecognizer {
  const m = liteOf(model.manifest);
  const { speech } = m.lite;
  const enc = m.graphs[LITE_ROLES.speechEncoder];
  const dec = m.graphs[LITE_ROLES.speechDecoder];
  return new WhisperRecognizer(
    model.ort,
    {
      encoder: { session: model.sessions[LITE_ROLES.speechEncoder], inputs: enc.inputs, outputs: enc.outputs },
      decoder: { session: model.sessions[LITE_ROLES.speechDecoder], inputs: dec.inputs, outputs: dec.outputs },
    },
    { layers: speech.layers, heads: speech.heads, headDim: speech.headDim, hidden: m.audio.encoderHidden, encoderFrames: m.audio.encoderFrames },
    maxNewTokens ? { ...speech.tokens, maxNewTokens } : speech.tokens,
  );
}

/** "[{start}–{end} s] Speech: {text}" with times to 0.1 s. */
export function formatSegment(format: string, start: number, end: number, text: string): string {
  return format.replaceAll('{start}', start.toFixed(1)).replaceAll('{end}', end.toFixed(1)).replaceAll('{text}', text);
}

export const liteFamily: ModelFamily = {
  id: 'llava-onevision-whisper',
  label: 'LLaVA-OneVision-Qwen2-0.5B + Whisper transcript (lite; not video-SALMONN 2)',
  graphs: [
    { role: LITE_ROLES.vision, inputs: ['pixel_values'], outputs: ['image_features'] },
    { role: LITE_ROLES.embed, inputs: ['input_ids'], outputs: ['inputs_embeds'], llm: true },
    {
      role: LITE_ROLES.decoder,
      llm: true,
      inputs: ['inputs_embeds', 'attention_mask', 'position_ids', 'past_key', 'past_value'],
      optionalInputs: ['position_ids'],
      outputs: ['logits', 'present_key', 'present_value'],
    },
    { role: LITE_ROLES.speechEncoder, inputs: ['input_features'], outputs: ['last_hidden_state'] },
    {
      role: LITE_ROLES.speechDecoder,
      inputs: ['input_ids', 'encoder_hidden_states', 'past_decoder_key', 'past_decoder_value', 'past_encoder_key', 'past_encoder_value', 'use_cache_branch'],
      outputs: ['logits', 'present_decoder_key', 'present_decoder_value', 'present_encoder_key', 'present_encoder_value'],
    },
    { role: LITE_ROLES.sounds, inputs: ['input_values'], outputs: ['logits'], optional: true },
  ],

  checkManifest(m) {
    checkLiteManifest(m);
  },

  layers(role, m) {
    return role === LITE_ROLES.speechDecoder ? liteOf(m).lite.speech.layers : m.llm.layers;
  },

  gpuOutputs(role, m) {
    if (role !== LITE_ROLES.decoder) return [];
    const { outputs } = m.graphs[role];
    return [...expandPort(outputs.present_key, m.llm.layers), ...expandPort(outputs.present_value, m.llm.layers)];
  },

  async warmUp(model) {
    const m = liteOf(model.manifest);
    // Declared element types (public exports: float32 or float16 activations, int64 ids, bool branch flag).
    const floats = ['float32', 'float16'];
    const vis = m.graphs[LITE_ROLES.vision];
    checkType(LITE_ROLES.vision, model.sessions[LITE_ROLES.vision], 'input', vis.inputs.pixel_values, floats);
    checkType(LITE_ROLES.vision, model.sessions[LITE_ROLES.vision], 'output', vis.outputs.image_features, floats);
    const sd = m.graphs[LITE_ROLES.speechDecoder];
    checkType(LITE_ROLES.speechDecoder, model.sessions[LITE_ROLES.speechDecoder], 'input', sd.inputs.input_ids, ['int64']);
    checkType(LITE_ROLES.speechDecoder, model.sessions[LITE_ROLES.speechDecoder], 'input', sd.inputs.use_cache_branch, ['bool']);
    const S = m.vision.imageSize;
    await runVision(model, new Float32Array(3 * S * S), 1);
    const rec = recognizer(model, 2);
    const states = await rec.encode(new Float32Array(m.audio.numMels * m.audio.melFrames), m.audio.numMels, m.audio.melFrames);
    try {
      await rec.decode(states);
    } finally {
      states.dispose();
    }
    whisperTokenizer(model);
    if (hasSoundTagger(model)) {
      checkType(LITE_ROLES.sounds, model.sessions[LITE_ROLES.sounds], 'input', m.graphs[LITE_ROLES.sounds].inputs.input_values, floats);
      checkType(LITE_ROLES.sounds, model.sessions[LITE_ROLES.sounds], 'output', m.graphs[LITE_ROLES.sounds].outputs.logits, floats);
      await warmUpSoundTagger(model);
    }
    await warmUpDecoder(model, LITE_ROLES.embed, LITE_ROLES.decoder);
  },

  encodeFrames(model, feed, progress, signal) {
    const { vision, llm } = model.manifest;
    return encodeFramesInBatches(model, feed, async (pixels, n) => bilinearPoolGrid(await runVision(model, pixels, n), n, vision.grid, vision.pooledGrid, llm.hidden), progress, signal);
  },

  async encodeAudio(model, media, plan, channel, progress, signal): Promise<EncodedAudio> {
    const m = liteOf(model.manifest);
    const { audio } = m;
    const extractor = makeLogMelExtractor(audio);
    const rec = recognizer(model);
    const wt = whisperTokenizer(model);
    const W = plan.windows.length;
    const text: TextPiece[] = [];
    const sounds: TextPiece[] = [];
    const tags: SoundWindow[] = [];
    for await (const window of media.audioWindows(plan, { channel })) {
      await yieldToEventLoop();
      checkAborted(signal, 'audio');
      const states = await rec.encode(logMel(extractor, window.samples), audio.numMels, audio.melFrames);
      let ids: number[];
      try {
        ids = await rec.decode(states, signal);
      } finally {
        states.dispose();
      }
      checkAborted(signal, 'audio');
      const length = window.samples.length / audio.sampleRate;
      for (const seg of segmentsFromIds(ids, m.lite.speech.tokens, audio.windowSeconds)) {
        const words = wt.decode(seg.ids, { skip_special_tokens: true }).trim();
        if (!words || seg.start >= length) continue; // nothing said, or past the real end of the window
        const start = window.startTime + seg.start;
        const end = window.startTime + Math.min(seg.end, length);
        const line = formatSegment(m.lite.speech.transcriptFormat, start, end, words);
        text.push({ time: start, role: 'transcript', ids: model.tokenizer.encode(line, { add_special_tokens: false }).ids });
      }
      if (hasSoundTagger(model)) {
        const tagged = await tagAudioWindow(model, window.samples, window.startTime);
        sounds.push(...tagged.pieces);
        tags.push(...tagged.windows);
        checkAborted(signal, 'audio');
      }
      progress('audio', (window.index + 1) / W, `window ${window.index + 1} of ${W}`);
    }
    // transcript lines first, then the sound tags (placeText keeps this order at equal times)
    return { features: null, tokens: 0, text: [...text, ...sounds], ...(hasSoundTagger(model) ? { sounds: tags } : {}) };
  },

  layout(model, { use, frameTimes, audio, duration, options }) {
    const m = model.manifest;
    const times = use.video ? frameTimes : [];
    const layout = planInterleave({ mode: options.interleave, use, frameTimes: times, tokensPerFrame: m.vision.tokensPerFrame, audioTokens: 0, duration, audio: m.audio });
    const requested = options.textPieces.map((p) => ({ time: p.time, role: p.role ?? 'note', ids: model.tokenizer.encode(p.text, { add_special_tokens: false }).ids }));
    const pieces = [...(audio?.text ?? []), ...requested];
    return pieces.length ? placeText(layout, times, pieces, m.audio.windowSeconds / m.audio.tokensPerWindow) : layout;
  },

  turnText(model, question) {
    // the template's own user turn (content list), which ends its <|im_end|> without a newline
    const m = liteOf(model.manifest);
    return new Template(m.prompt.chatTemplate).render({ messages: [{ role: 'user', content: [{ type: 'text', text: question.trim() }] }], add_generation_prompt: true });
  },

  textPromptIds(model, prompt) {
    // the template's content lists with a text part only (no <video> placeholder)
    const m = liteOf(model.manifest);
    const messages = [
      ...(m.prompt.systemPrompt ? [{ role: 'system', content: [{ type: 'text', text: m.prompt.systemPrompt }] }] : []),
      { role: 'user', content: [{ type: 'text', text: prompt.trim() }] },
    ];
    return model.tokenizer.encode(new Template(m.prompt.chatTemplate).render({ messages, add_generation_prompt: true }), { add_special_tokens: false }).ids;
  },

  promptIds(model, question): PromptIds {
    const m = liteOf(model.manifest);
    return buildLitePromptIds(model.tokenizer, m.prompt.chatTemplate, m.prompt.systemPrompt, m.lite.vision.videoToken, question);
  },
};

/**
 * The LLaVA-OneVision chat template takes content lists ({type: 'video'}, {type: 'text'})
 * and renders the <video> placeholder where the visual block goes; the block replaces it.
 */
export function buildLitePromptIds(tokenizer: TextTokenizer, chatTemplate: string, systemPrompt: string, videoToken: string, question: string): PromptIds {
  const messages = [
    ...(systemPrompt ? [{ role: 'system', content: [{ type: 'text', text: systemPrompt }] }] : []),
    { role: 'user', content: [{ type: 'video' }, { type: 'text', text: question.trim() }] },
  ];
  const text = new Template(chatTemplate).render({ messages, add_generation_prompt: true });
  const parts = text.split(videoToken);
  if (parts.length !== 2) throw new CaptionError('bundle/bad-manifest', `The chat template rendered "${videoToken}" ${parts.length - 1} times for one video, expected once.`, { field: 'prompt.chatTemplate' });
  const enc = (s: string) => tokenizer.encode(s, { add_special_tokens: false }).ids;
  return { before: enc(parts[0]), after: enc(parts[1]) };
}
