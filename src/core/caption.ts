/**
 * One caption run, platform-neutral: the browser worker and the Node CLI both call
 * `loadModel` then `captionMedia`. Data flows one way (ARCHITECTURE): file → plan →
 * tensors → tokens → text.
 *
 *   frames  → pixel_values → vision_encoder → [F, tokensPerFrame, H]      (PIPELINE §1–2)
 *   audio   → 30 s windows → log-mel → audio_encoder → audio_aligner → [A, H]  (§3)
 *   interleave (§4) → spliced between the prompt's token embeddings (§5) → decode loop
 */
import type { BundleManifest, GraphName } from './bundle/manifest';
import type { LoadedBundle } from './bundle/load';
import { CaptionError, toCaptionError } from './errors';
import { logMel, makeLogMelExtractor } from './features/logmel';
import type { AudioPlan } from './media/plan';
import { assertDecodable, framesToTensor, planMedia, prepareFrame, type PreparedFrame } from './media/pipeline';
import type { MediaSource } from './media/types';
import { embedTokens, generate, yieldToEventLoop, type GenerateResult } from './model/decoder';
import { materializeLayout, planInterleave, summarizeLayout, type Modality as LayoutModality } from './model/interleave';
import { buildPromptIds, loadTokenizer, StreamingDetokenizer, type TextTokenizer } from './model/prompt';
import { makeSampler } from './model/sampling';
import type { CaptionOptions, Modality } from './options';
import type { CaptionReport, LayoutEntry, Stage } from './report';
import { disposeAll, float32Tensor, readFloat32, type Backend, type Ort, type Session } from './runtime/ort';
import { createSession, planBackends, type RuntimeOptions } from './runtime/sessions';

export const GRAPHS: GraphName[] = ['vision_encoder', 'audio_encoder', 'audio_aligner', 'embed_tokens', 'decoder_model_merged'];

export interface CaptionModel {
  ort: Ort;
  manifest: BundleManifest;
  sessions: Record<GraphName, Session>;
  backends: Record<GraphName, Backend>;
  fallbackReasons: string[];
  tokenizer: TextTokenizer;
}

export type ProgressFn = (stage: Stage, fraction: number, detail?: string) => void;

/** Creates one session per graph on the best backend each can use. */
export async function loadModel(ort: Ort, bundle: LoadedBundle, runtime: RuntimeOptions & { warmUp?: boolean }, onProgress?: ProgressFn): Promise<CaptionModel> {
  const { manifest } = bundle;
  const sessions = {} as Record<GraphName, Session>;
  const backends = {} as Record<GraphName, Backend>;
  const fallbackReasons: string[] = [];
  try {
    for (const [i, name] of GRAPHS.entries()) {
      onProgress?.('session', i / GRAPHS.length, name);
      const order = planBackends(name, manifest.graphs[name], runtime);
      const gpuOutputs = name === 'decoder_model_merged' ? presentNames(manifest) : undefined;
      const created = await createSession(ort, name, bundle.graph(name), { order, gpuOutputs });
      sessions[name] = created.session;
      backends[name] = created.backend;
      if (created.fallbackReason) fallbackReasons.push(`${name}: ${created.fallbackReason}`);
    }
    onProgress?.('session', 1, 'warm-up');
    if (runtime.warmUp !== false) await warmUp(ort, manifest, sessions);
  } catch (e) {
    await Promise.all(Object.values(sessions).map((s) => s.release()));
    throw e;
  }
  onProgress?.('session', 1);
  const tokenizer = loadTokenizer(bundle.tokenizerJson, bundle.tokenizerConfig);
  return { ort, manifest, sessions, backends, fallbackReasons, tokenizer };
}

/**
 * Runs every graph once on the smallest input (one frame, one window, one token): the
 * first run of a session compiles kernels and allocates, and is several times slower
 * (ENVIRONMENT.md), so the user's first caption should not pay for it. Outputs are freed.
 */
async function warmUp(ort: Ort, m: BundleManifest, sessions: Record<GraphName, Session>): Promise<void> {
  const S = m.vision.imageSize;
  const { numMels, melFrames, encoderFrames, encoderHidden } = m.audio;
  const runs: [Session, Record<string, ReturnType<typeof float32Tensor>>][] = [
    [sessions.vision_encoder, { pixel_values: float32Tensor(ort, new Float32Array(3 * S * S), [1, 3, S, S]) }],
    [sessions.audio_encoder, { input_features: float32Tensor(ort, new Float32Array(numMels * melFrames), [1, numMels, melFrames]) }],
    [sessions.audio_aligner, { encoder_hidden_states: float32Tensor(ort, new Float32Array(encoderFrames * encoderHidden), [1, encoderFrames, encoderHidden]) }],
  ];
  for (const [session, feeds] of runs) disposeAll(Object.values(await session.run(feeds)));
  const decoder = { embedTokens: sessions.embed_tokens, decoder: sessions.decoder_model_merged };
  const embedded = await embedTokens(ort, decoder, [0]);
  await generate(ort, decoder, m.llm, embedded, { maxNewTokens: 1, stopTokenIds: [], pickToken: () => 0, prefillChunk: 1 });
}

export async function disposeModel(model: CaptionModel): Promise<void> {
  await Promise.all(Object.values(model.sessions).map((s) => s.release()));
}

function presentNames(m: BundleManifest): string[] {
  return Array.from({ length: m.llm.layers }, (_, i) => [`present.${i}.key`, `present.${i}.value`]).flat();
}

export type IntermediateTensor = 'visionFeatures' | 'audioFeatures' | 'inputsEmbeds';

export interface CaptionEvents {
  onProgress?: ProgressFn;
  onFrames?: (frames: PreparedFrame[]) => void;
  onToken?: (delta: string, id: number, tokensPerSecond: number) => void;
  /** Intermediate tensors, for parity tests and diagnostics: not copied, do not modify. */
  onTensor?: (name: IntermediateTensor, data: Float32Array, shape: number[]) => void;
}

/** Which branches a run uses, given what it asked for and what the file has (§4). */
export function resolveModality(asked: Modality, hasVideo: boolean, hasAudio: boolean, fileName: string): { video: boolean; audio: boolean; note?: string } {
  if (asked === 'v' && !hasVideo) throw new CaptionError('media/no-video-track', `“${fileName}” has no video track, so a visual-only caption is impossible. Choose “audio only” instead.`);
  if (asked === 'a' && !hasAudio) throw new CaptionError('media/no-audio-track', `“${fileName}” has no audio track, so an audio-only caption is impossible. Choose “visual only” instead.`);
  if (!hasVideo && !hasAudio) throw new CaptionError('media/no-tracks', `“${fileName}” has neither a video nor an audio track.`);
  if (asked === 'av' && !hasAudio) return { video: true, audio: false, note: 'The file has no audio track: the caption uses the frames only.' };
  if (asked === 'av' && !hasVideo) return { video: false, audio: true, note: 'The file has no video track: the caption uses the audio only.' };
  return { video: asked !== 'a', audio: asked !== 'v' };
}

const LAYOUT_MODALITY: Record<string, LayoutModality> = { 'true,true': 'audio-video', 'true,false': 'video', 'false,true': 'audio' };

const now = () => (globalThis.performance ?? Date).now();

function checkAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new CaptionError('runtime/interrupted', 'The run was cancelled.');
}

/** Vision branch: frames in batches → [F, tokensPerFrame, H]. */
async function encodeFrames(model: CaptionModel, frames: PreparedFrame[], onProgress?: ProgressFn, signal?: AbortSignal): Promise<Float32Array> {
  const { vision, llm } = model.manifest;
  const per = vision.tokensPerFrame * llm.hidden;
  const out = new Float32Array(frames.length * per);
  const batch = 4;
  for (let at = 0; at < frames.length; at += batch) {
    await yieldToEventLoop(); // lets an interrupt message in between model runs (decoder.ts)
    checkAborted(signal);
    const chunk = frames.slice(at, at + batch);
    const pixels = framesToTensor(chunk.map((f) => f.pixels), vision);
    const s = vision.imageSize;
    const res = await model.sessions.vision_encoder.run({ pixel_values: float32Tensor(model.ort, pixels, [chunk.length, 3, s, s]) });
    out.set(await readFloat32(res.image_features), at * per);
    disposeAll(Object.values(res));
    onProgress?.('vision', Math.min(1, (at + chunk.length) / frames.length));
  }
  return out;
}

/** Audio branch: each 30 s window → log-mel → encoder; then all windows → aligner → [A, H]. */
async function encodeAudio(model: CaptionModel, media: MediaSource, plan: AudioPlan, onProgress?: ProgressFn, signal?: AbortSignal): Promise<Float32Array> {
  const { audio } = model.manifest;
  const extractor = makeLogMelExtractor(audio);
  const W = plan.windows.length;
  const states = new Float32Array(W * audio.encoderFrames * audio.encoderHidden);
  for await (const window of media.audioWindows(plan)) {
    await yieldToEventLoop();
    checkAborted(signal);
    const mel = logMel(extractor, window.samples);
    const res = await model.sessions.audio_encoder.run({ input_features: float32Tensor(model.ort, mel, [1, audio.numMels, audio.melFrames]) });
    states.set(await readFloat32(res.last_hidden_state), window.index * audio.encoderFrames * audio.encoderHidden);
    disposeAll(Object.values(res));
    onProgress?.('audio', (window.index + 1) / (W + 1), `window ${window.index + 1} of ${W}`);
  }
  await yieldToEventLoop();
  checkAborted(signal);
  const res = await model.sessions.audio_aligner.run({ encoder_hidden_states: float32Tensor(model.ort, states, [W, audio.encoderFrames, audio.encoderHidden]) });
  const features = (await readFloat32(res.audio_features)).slice();
  disposeAll(Object.values(res));
  onProgress?.('audio', 1);
  return features;
}

export interface CaptionResult {
  report: CaptionReport;
  /** Set when the run was interrupted: the report holds the partial caption. */
  interrupted: boolean;
}

/** Captions one opened media file. Throws CaptionError; an interrupt returns the partial caption. */
export async function captionMedia(model: CaptionModel, media: MediaSource, options: CaptionOptions, events: CaptionEvents = {}, signal?: AbortSignal): Promise<CaptionResult> {
  const { manifest } = model;
  const info = media.info;
  const timings: Partial<Record<Stage, number>> = {};
  const use = resolveModality(options.modality, info.video !== null, info.audio !== null, info.name);
  assertDecodable(info, use);
  const progress: ProgressFn = (stage, fraction, detail) => events.onProgress?.(stage, fraction, detail);

  // Plan (§1, §3): the audio is truncated to the video's real time whenever the file has
  // video, even if the frames are not used.
  const plan = planMedia(info, { fps: options.fps, maxFrames: options.maxFrames, minFrames: manifest.sampling.minFrames, rule: options.frameRule }, manifest.audio);
  const videoPlan = plan.frames;
  const framePlan = use.video ? videoPlan : null;
  const audioPlan = use.audio ? plan.audio : null;
  const duration = videoPlan?.realTime ?? (audioPlan ? audioPlan.sourceSamples / audioPlan.sampleRate : info.duration);

  // Frames → vision features.
  let t = now();
  const frames: PreparedFrame[] = [];
  if (framePlan) {
    for await (const f of media.frames(framePlan)) {
      checkAborted(signal);
      frames.push(prepareFrame(f, manifest.vision));
      progress('decode', frames.length / framePlan.indices.length);
    }
    events.onFrames?.(frames);
  }
  timings.decode = now() - t;
  t = now();
  const visual = frames.length ? await encodeFrames(model, frames, progress, signal) : null;
  if (visual) events.onTensor?.('visionFeatures', visual, [frames.length, manifest.vision.tokensPerFrame, manifest.llm.hidden]);
  timings.vision = now() - t;

  t = now();
  const audio = audioPlan ? await encodeAudio(model, media, audioPlan, progress, signal) : null;
  if (audio) events.onTensor?.('audioFeatures', audio, [audio.length / manifest.llm.hidden, manifest.llm.hidden]);
  timings.audio = now() - t;

  // Interleave (§4) and the prompt (§5).
  const layout = planInterleave({
    mode: options.interleave,
    modality: LAYOUT_MODALITY[`${use.video},${use.audio}`],
    frameTimes: framePlan?.timestamps ?? [],
    tokensPerFrame: manifest.vision.tokensPerFrame,
    audioTokens: audioPlan ? audioPlan.windows.length * manifest.audio.tokensPerWindow : 0,
    duration,
    audio: manifest.audio,
  });
  const block = materializeLayout(layout, visual, audio, manifest.llm.hidden);
  const ids = buildPromptIds(model.tokenizer, manifest.prompt, options.prompt);
  const before = await embedTokens(model.ort, { embedTokens: model.sessions.embed_tokens }, ids.before);
  const after = await embedTokens(model.ort, { embedTokens: model.sessions.embed_tokens }, ids.after);
  const prompt = new Float32Array(before.length + block.length + after.length);
  prompt.set(before, 0);
  prompt.set(block, before.length);
  prompt.set(after, before.length + block.length);
  const promptTokens = prompt.length / manifest.llm.hidden;
  events.onTensor?.('inputsEmbeds', prompt, [1, promptTokens, manifest.llm.hidden]);

  // Decode, streaming text deltas.
  const detok = new StreamingDetokenizer(model.tokenizer);
  const decodeStart = now();
  let firstTokenAt = 0;
  const pickToken = makeSampler(
    options.decoding.kind === 'greedy' ? undefined : { temperature: options.decoding.temperature, topP: options.decoding.topP },
    options.decoding.kind === 'greedy' ? 0 : options.decoding.seed,
  );
  let result: GenerateResult;
  try {
    result = await generate(model.ort, { embedTokens: model.sessions.embed_tokens, decoder: model.sessions.decoder_model_merged }, manifest.llm, prompt, {
      maxNewTokens: options.maxNewTokens,
      stopTokenIds: manifest.prompt.stopTokenIds,
      pickToken,
      prefillChunk: options.prefillChunk,
      signal,
      onPrefill: (done, total) => progress('prefill', done / total),
      onToken: (id, step) => {
        if (step === 0) firstTokenAt = now();
        const delta = manifest.prompt.stopTokenIds.includes(id) ? detok.flush() : detok.push(id);
        const elapsed = (now() - firstTokenAt) / 1000;
        events.onToken?.(delta, id, step > 0 && elapsed > 0 ? step / elapsed : 0);
        progress('generate', (step + 1) / options.maxNewTokens);
      },
    });
  } catch (e) {
    throw toCaptionError(e);
  }
  detok.flush();
  timings.prefill = result.prefillMs;
  timings.generate = result.decodeMs;
  const generated = result.tokenIds.length;
  const summary = summarizeLayout(layout);
  const layoutEntries: LayoutEntry[] = summary.frames.map((f) => ({ frame: f.frame, visualTokens: f.visualTokens, audioTokens: f.audioTokens }));
  if (summary.trailingAudio) layoutEntries.push({ frame: null, visualTokens: 0, audioTokens: summary.trailingAudio });

  const report: CaptionReport = {
    model: { name: manifest.name, randomWeights: manifest.randomWeights },
    options,
    video: {
      name: info.name,
      bytes: info.bytes,
      duration: info.duration,
      hasAudio: info.audio !== null,
      hasVideo: info.video !== null,
      width: info.video?.width,
      height: info.video?.height,
      videoCodec: info.video?.codec,
      audioCodec: info.audio?.codec,
    },
    frames: frames.map((f) => ({ index: framePlan!.indices[f.index], timestamp: f.timestamp })),
    audio: {
      sampleRate: manifest.audio.sampleRate,
      samples: audioPlan?.totalSamples ?? 0,
      windows: audioPlan?.windows.length ?? 0,
      used: use.audio,
      ...(use.note ? { note: use.note } : {}),
    },
    layout: layoutEntries,
    promptTokens,
    generatedTokenIds: result.tokenIds,
    caption: detok.text,
    stopReason: result.stopReason,
    backend: { ...model.backends },
    timings,
    tokensPerSecond: result.decodeMs > 0 ? (generated / (now() - decodeStart)) * 1000 : 0,
  };
  return { report, interrupted: result.stopReason === 'interrupted' };
}
