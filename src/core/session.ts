/**
 * CaptionSession: one media file opened once, many requests on it. Encoded features are
 * cached per segment plan (frames by their sampling, audio by its windows and channel),
 * so a second caption with other prompt, interleave or decoding settings decodes nothing
 * and runs no encoder. The conversation and its KV cache are kept between requests:
 * `ask` prefills only the new turn (after feeding the last generated token); `reset`
 * forgets it. Family-neutral: the family (families/) encodes, lays out and prompts.
 */
import { CaptionError, checkAborted, interruptedError } from './errors';
import { generateTurn, type TurnOutput } from './generate';
import type { EncodedAudio, LoadedModel, ModelFamily, ProgressFn, Use } from './families/types';
import { decoderOf } from './families/salmonn';
import { enterStage } from './families/stages';
import type { AudioPlan, FramePlan } from './media/plan';
import { prepareFrame, type PreparedFrame } from './features/pixels';
import { assertDecodable, planMedia } from './media/pipeline';
import { planRange, rangeMedia } from './media/range';
import type { AudioWindow, MediaSource } from './media/types';
import type { Decoder, GenerateResult } from './model/decoder';
import { materializeLayout, summarizeLayout, textSegments, type Layout } from './model/interleave';
import { promptTokenIdsReport, renderTurnText } from './model/prompt';
import { resolveOptions, type CaptionRequest, type Modality, type ResolvedOptions } from './options';
import type { CaptionReport, LayoutEntry, Stage, TurnReport } from './report';
import { now } from './runtime/ort';
import { concatFloat32 } from './concat';

export type IntermediateTensor = 'visionFeatures' | 'audioFeatures' | 'inputsEmbeds';

export interface SessionEvents {
  onProgress?: ProgressFn;
  onFrames?: (frames: PreparedFrame[]) => void;
  onToken?: (delta: string, id: number, tokensPerSecond: number) => void;
  /** Intermediate tensors, for parity tests and diagnostics: not copied, do not modify. */
  onTensor?: (name: IntermediateTensor, data: Float32Array, shape: number[]) => void;
}

/** Which branches a run uses, given what it asked for and what the file has (§4). */
export function resolveModality(asked: Modality, hasVideo: boolean, hasAudio: boolean, fileName: string): Use {
  if (asked === 'v' && !hasVideo) throw new CaptionError('media/no-video-track', `“${fileName}” has no video track, so a visual-only caption is impossible. Choose “audio only” instead.`);
  if (asked === 'a' && !hasAudio) throw new CaptionError('media/no-audio-track', `“${fileName}” has no audio track, so an audio-only caption is impossible. Choose “visual only” instead.`);
  if (!hasVideo && !hasAudio) throw new CaptionError('media/no-tracks', `“${fileName}” has neither a video nor an audio track.`);
  if (asked === 'av' && !hasAudio) return { video: true, audio: false, note: 'The file has no audio track: the caption uses the frames only.' };
  if (asked === 'av' && !hasVideo) return { video: false, audio: true, note: 'The file has no video track: the caption uses the audio only.' };
  return { video: asked !== 'a', audio: asked !== 'v' };
}

interface EncodedFrames {
  plan: FramePlan;
  frames: PreparedFrame[];
  visual: Float32Array;
}

/** The conversation kept between requests: the decoder (its KV cache) and what the next turn must feed first. */
interface Conversation {
  decoder: Decoder;
  /** Generated ids not in the cache yet, and whether the last answer ended with a stop token. */
  unfed: number[];
  stopped: boolean;
  /** Everything fed so far — prompt embeddings, or generated ids — to replay the conversation without the cache. */
  history: (Float32Array | number[])[];
  turns: TurnReport[];
  /** The LLM sessions the decoder runs on (StageSessions.llmGeneration): another one means they were released (low-memory mode). */
  llmGeneration: number;
}

/** How often each expensive step ran on this session (tests, reports). */
export interface SessionCounters {
  frameDecodes: number;
  visionRuns: number;
  audioRuns: number;
}

export class CaptionSession {
  private readonly frameCache = new Map<string, EncodedFrames>();
  private readonly audioCache = new Map<string, EncodedAudio>();
  private conversation: Conversation | null = null;
  readonly counters: SessionCounters = { frameDecodes: 0, visionRuns: 0, audioRuns: 0 };

  constructor(
    readonly model: LoadedModel,
    readonly media: MediaSource,
  ) {}

  private get family(): ModelFamily {
    return this.model.family;
  }

  /** Captions the media (a fresh conversation). Rejects with `runtime/interrupted` (partial caption and report in details) when `signal` aborts. */
  async caption(request: CaptionRequest = {}, events: SessionEvents = {}, signal?: AbortSignal): Promise<CaptionReport> {
    const { manifest } = this.model;
    const options = resolveOptions(manifest, request);
    const info = this.media.info;
    const use = resolveModality(options.modality, info.video !== null, info.audio !== null, info.name);
    assertDecodable(info, use);
    const progress: ProgressFn = (stage, fraction, detail) => events.onProgress?.(stage, fraction, detail);
    const timings: Partial<Record<Stage, number>> = {};

    // Plan (§1, §3): the audio is truncated to the video's real time whenever the file has
    // video. A range is planned as a video of its own (local caption, §10).
    const sampling = { fps: options.fps, maxFrames: options.maxFrames, minFrames: manifest.sampling.minFrames, rule: options.frameRule, maxTime: options.maxTime };
    const ranged = options.range ? planRange(info, options.range, sampling, manifest.audio) : null;
    const plan = ranged ?? planMedia(info, sampling, manifest.audio);
    const framePlan = use.video ? plan.frames : null;
    const audioPlan = use.audio ? plan.audio : null;
    const duration = plan.frames?.realTime ?? (audioPlan ? audioPlan.sourceSamples / audioPlan.sampleRate : info.duration);
    const origin = ranged?.range.start ?? 0;

    // With frames to do as well, the audio starts decoding first: it then runs while the frames
    // are decoded and encoded (a browser source decodes ahead from the call on, media/types.ts).
    const early = framePlan && audioPlan ? this.startAudio(audioPlan, options, ranged?.audioStartSample ?? 0) : null;
    let t = now();
    let encoded: EncodedFrames | null;
    try {
      encoded = framePlan ? await this.encodeFrames(framePlan, events, progress, signal, timings) : null;
    } catch (e) {
      await early?.windows.return(undefined).catch(() => undefined);
      throw e;
    }
    if (encoded) events.onTensor?.('visionFeatures', encoded.visual, [encoded.frames.length, manifest.vision.tokensPerFrame, manifest.llm.hidden]);
    timings.decode ??= 0;
    timings.vision = now() - t - timings.decode;

    t = now();
    const audio = audioPlan ? await this.encodeAudio(audioPlan, options, progress, signal, ranged?.audioStartSample ?? 0, early) : null;
    if (audio?.features) events.onTensor?.('audioFeatures', audio.features, [audio.tokens, manifest.llm.hidden]);
    timings.audio = now() - t;

    // Interleave (§4) and the prompt (§5).
    const layout = this.family.layout(this.model, { use, frameTimes: (framePlan?.timestamps ?? []).map((t) => t - origin), audio, duration, options });
    await enterStage(this.model, 'llm', progress); // low-memory mode: the encoders are released first
    const decoder = this.freshConversation();
    const textRows = await Promise.all(textSegments(layout).map((s) => decoder.embed(s.ids)));
    const block = materializeLayout(layout, encoded?.visual ?? null, audio?.features ?? null, manifest.llm.hidden, textRows);
    const ids = this.family.promptIds(this.model, options.prompt, options);
    const prompt = concatFloat32([await decoder.embed(ids.before), block, await decoder.embed(ids.after)]);
    const promptTokenIds = promptTokenIdsReport(ids);
    const promptTokens = prompt.length / manifest.llm.hidden;
    events.onTensor?.('inputsEmbeds', prompt, [1, promptTokens, manifest.llm.hidden]);

    const base: Omit<CaptionReport, 'generatedTokenIds' | 'caption' | 'stopReason' | 'tokensPerSecond'> = {
      model: { name: manifest.name, family: this.family.id, randomWeights: manifest.randomWeights },
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
      range: ranged?.range ?? null,
      frames: (encoded?.frames ?? []).map((f) => ({ index: framePlan!.indices[f.index], timestamp: f.timestamp })),
      audio: {
        sampleRate: manifest.audio.sampleRate,
        samples: audioPlan?.totalSamples ?? 0,
        windows: audioPlan?.windows.length ?? 0,
        used: use.audio,
        ...(use.note ? { note: use.note } : {}),
      },
      ...(audio?.sounds ? { sounds: audio.sounds } : {}),
      layout: layoutEntries(layout),
      promptTokens,
      promptTokenIds,
      backend: { ...this.model.backends },
      ...(this.model.memory ? { memory: { ...this.model.memory } } : {}),
      timings,
    };
    const turn = await this.generate(prompt, options, [...ids.before, ...ids.after], events, signal, timings, (r, text) => ({ ...base, ...r, caption: text }));
    return { ...base, generatedTokenIds: turn.result.tokenIds, caption: turn.text, stopReason: turn.result.stopReason, tokensPerSecond: turn.tokensPerSecond };
  }

  /**
   * A follow-up question in the same conversation (multi-turn ChatML): the cache holds the
   * audio-visual prompt and the answers so far, so only the new turn is prefilled.
   * `reuseCache: false` replays the whole conversation from scratch instead (same tokens).
   */
  async ask(question: string, request: CaptionRequest = {}, events: SessionEvents = {}, signal?: AbortSignal, reuseCache = true): Promise<TurnReport> {
    const conv = this.conversation;
    if (!conv) throw new CaptionError('runtime/no-conversation', 'Caption the video first: a question continues the conversation of a caption.');
    const options = resolveOptions(this.model.manifest, request);
    // Low-memory mode: another video's encoders may have run since, releasing the LLM this
    // conversation's cache lived on; the conversation is then replayed on the new sessions.
    await enterStage(this.model, 'llm', events.onProgress);
    if (conv.llmGeneration !== this.llmGeneration) {
      conv.decoder.dispose();
      conv.decoder = decoderOf(this.model);
      conv.llmGeneration = this.llmGeneration;
      reuseCache = false;
    }
    const { tokenizer } = this.model;
    const imEnd = tokenizer.encode('<|im_end|>', { add_special_tokens: false }).ids;
    // The answer so far ends with ids the cache has not seen (its last token; <|im_end|> if it hit the limit).
    const close = conv.stopped ? conv.unfed : [...conv.unfed, ...imEnd];
    if (close.length) {
      conv.history.push(close);
      if (reuseCache) await conv.decoder.feed(await conv.decoder.embed(close), options.prefillChunk);
    }
    conv.unfed = [];
    conv.stopped = true;
    const turnText = this.family.turnText ? this.family.turnText(this.model, question) : `\n${renderTurnText(this.model.manifest.prompt, question)}`;
    const turnIds = tokenizer.encode(turnText, { add_special_tokens: false }).ids;
    const embeds = await conv.decoder.embed(turnIds);
    if (!reuseCache) conv.decoder.reset();
    const replay = reuseCache ? [] : await Promise.all(conv.history.map((h) => (h instanceof Float32Array ? h : conv.decoder.embed(h))));
    const input = concatFloat32([...replay, embeds]);
    const timings: Partial<Record<Stage, number>> = {};
    const turn = await this.generate(input, options, turnIds, events, signal, timings, (r, text) => ({ question, answer: text, ...r }), embeds);
    const report: TurnReport = {
      question,
      answer: turn.text,
      prefillTokens: turn.result.prefillTokens,
      reusedTokens: turn.result.reusedTokens,
      generatedTokenIds: turn.result.tokenIds,
      margins: turn.result.margins,
      stopReason: turn.result.stopReason,
      timings,
      tokensPerSecond: turn.tokensPerSecond,
    };
    conv.turns.push(report);
    return report;
  }

  /** The questions and answers after the caption, in order. */
  get turns(): readonly TurnReport[] {
    return this.conversation?.turns ?? [];
  }

  /** Forgets the conversation (the cached features stay). */
  reset(): void {
    this.conversation?.decoder.dispose();
    this.conversation = null;
  }

  close(): void {
    this.reset();
    this.frameCache.clear();
    this.audioCache.clear();
    this.media.close();
  }

  private get llmGeneration(): number {
    return this.model.stages?.llmGeneration ?? 0;
  }

  private freshConversation(): Decoder {
    this.reset();
    const decoder = decoderOf(this.model);
    this.conversation = { decoder, unfed: [], stopped: false, history: [], turns: [], llmGeneration: this.llmGeneration };
    return decoder;
  }

  /** Prefill + generate on the conversation's decoder, streaming text; keeps the conversation consistent. */
  private async generate<P>(
    prompt: Float32Array,
    options: ResolvedOptions,
    promptIds: readonly number[],
    events: SessionEvents,
    signal: AbortSignal | undefined,
    timings: Partial<Record<Stage, number>>,
    partial: (r: { generatedTokenIds: number[]; stopReason: 'interrupted'; tokensPerSecond: number }, text: string) => P,
    /** What the history keeps of this turn's input (default: all of it). */
    recorded: Float32Array = prompt,
  ): Promise<{ result: GenerateResult; text: string; tokensPerSecond: number }> {
    const conv = this.conversation!;
    let out: TurnOutput;
    try {
      out = await generateTurn(this.model, conv.decoder, prompt, options, promptIds, events, signal);
    } catch (e) {
      this.reset(); // a failed step leaves the cache in no known state
      throw e;
    }
    const { result, text, tokensPerSecond } = out;
    timings.prefill = result.prefillMs;
    timings.generate = result.decodeMs;
    if (result.stopReason === 'interrupted') {
      const inPrefill = result.tokenIds.length === 0;
      if (inPrefill) this.reset();
      else this.recordTurn(conv, recorded, result);
      throw interruptedError(inPrefill ? 'prefill' : 'generate', {
        partialCaption: text,
        report: partial({ generatedTokenIds: result.tokenIds, stopReason: 'interrupted', tokensPerSecond }, text),
      });
    }
    this.recordTurn(conv, recorded, result);
    return out;
  }

  private recordTurn(conv: Conversation, prompt: Float32Array, result: GenerateResult): void {
    conv.history.push(prompt);
    const fed = result.tokenIds.slice(0, result.tokenIds.length - result.unfed.length);
    if (fed.length) conv.history.push(fed);
    conv.unfed = result.unfed;
    conv.stopped = result.stopReason === 'stop-token';
  }

  /** Frames of a plan: decoded once, encoded once (cached by the sampling that made the plan). */
  private async encodeFrames(plan: FramePlan, events: SessionEvents, progress: ProgressFn, signal: AbortSignal | undefined, timings: Partial<Record<Stage, number>>): Promise<EncodedFrames> {
    const key = JSON.stringify(plan.indices) + JSON.stringify(plan.timestamps);
    const hit = this.frameCache.get(key);
    if (hit) {
      events.onFrames?.(hit.frames);
      progress('decode', 1);
      progress('vision', 1);
      timings.decode = 0;
      return hit;
    }
    const t = now();
    const frames: PreparedFrame[] = [];
    const feed = new FrameQueue(frames);
    let stopped = false;
    this.counters.frameDecodes++;
    // Decoding runs on while the vision encoder takes the first batches (FrameFeed); its
    // failure reaches the encoder through the feed, and is caught here at once (no unhandled rejection).
    const decoding = (async () => {
      for await (const f of this.media.frames(plan)) {
        if (stopped) return;
        checkAborted(signal, 'decode');
        feed.push(prepareFrame(f, this.model.manifest.vision));
        progress('decode', frames.length / plan.indices.length);
      }
      checkAborted(signal, 'decode');
      timings.decode = now() - t;
      events.onFrames?.(frames);
    })().then(
      () => feed.end(),
      (e: unknown) => feed.fail(e),
    );
    this.counters.visionRuns++;
    let visual: Float32Array;
    try {
      await enterStage(this.model, 'encoders', progress); // low-memory mode: the LLM is released first
      visual = await this.family.encodeFrames(this.model, { count: plan.indices.length, frames: feed }, progress, signal);
    } finally {
      stopped = true;
      await decoding;
    }
    checkAborted(signal, 'vision');
    const entry = { plan, frames, visual };
    this.frameCache.set(key, entry);
    return entry;
  }

  private audioKey(plan: AudioPlan, options: ResolvedOptions, startSample: number): string {
    return `${startSample}/${plan.totalSamples}/${plan.windows.length}/${options.channel}`;
  }

  /** The media whose audio starts at `startSample` (a range's start). */
  private audioSource(startSample: number): MediaSource {
    return startSample ? rangeMedia(this.media, startSample) : this.media;
  }

  /** Starts decoding a plan's audio windows now (null when they are cached): the source for encodeAudio, its first audioWindows call answered by the started decode. */
  private startAudio(plan: AudioPlan, options: ResolvedOptions, startSample: number): { media: MediaSource; windows: AsyncGenerator<AudioWindow> } | null {
    if (this.audioCache.has(this.audioKey(plan, options, startSample))) return null;
    const source = this.audioSource(startSample);
    const windows = source.audioWindows(plan, { channel: options.channel });
    let taken = false;
    const media: MediaSource = {
      info: source.info,
      frames: (p, o) => source.frames(p, o),
      audioWindows: (p, o) => (!taken && p === plan && (o?.channel ?? 0) === options.channel ? ((taken = true), windows) : source.audioWindows(p, o)),
      close: () => source.close(),
    };
    return { media, windows };
  }

  /** Audio of a plan and channel: decoded and encoded once. `early`: its decoding already started (startAudio). */
  private async encodeAudio(plan: AudioPlan, options: ResolvedOptions, progress: ProgressFn, signal: AbortSignal | undefined, startSample = 0, early: { media: MediaSource } | null = null): Promise<EncodedAudio> {
    const key = this.audioKey(plan, options, startSample);
    const hit = this.audioCache.get(key);
    if (hit) {
      progress('audio', 1);
      return hit;
    }
    this.counters.audioRuns++;
    await enterStage(this.model, 'encoders', progress);
    const media = early?.media ?? this.audioSource(startSample);
    const audio = await this.family.encodeAudio(this.model, media, plan, options.channel, progress, signal);
    checkAborted(signal, 'audio');
    this.audioCache.set(key, audio);
    return audio;
  }
}

/** Frames pushed by the decoding loop, read once in order by the vision encoder (a FrameFeed); a failure is thrown at the next read. */
class FrameQueue implements AsyncIterable<PreparedFrame> {
  private ended = false;
  private failure: { error: unknown } | null = null;
  private wake: (() => void) | null = null;

  constructor(private readonly items: PreparedFrame[]) {}

  push(frame: PreparedFrame): void {
    this.items.push(frame);
    this.notify();
  }

  end(): void {
    this.ended = true;
    this.notify();
  }

  fail(error: unknown): void {
    this.failure = { error };
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<PreparedFrame> {
    for (let i = 0; ; ) {
      if (this.failure) throw this.failure.error;
      if (i < this.items.length) yield this.items[i++];
      else if (this.ended) return;
      else await new Promise<void>((r) => (this.wake = r));
    }
  }
}

function layoutEntries(layout: Layout): LayoutEntry[] {
  const summary = summarizeLayout(layout);
  const entries: LayoutEntry[] = summary.frames.map((f) => ({
    frame: f.frame,
    visualTokens: f.visualTokens,
    audioTokens: f.audioTokens,
    ...(f.textTokens?.time !== undefined ? { timeTokens: f.textTokens.time } : {}),
    ...(f.textTokens ? { textTokens: f.textTokens } : {}),
  }));
  if (summary.leadingText) entries.unshift({ frame: null, visualTokens: 0, audioTokens: 0, textTokens: summary.leadingText });
  if (summary.trailingAudio) entries.push({ frame: null, visualTokens: 0, audioTokens: summary.trailingAudio });
  return entries;
}
