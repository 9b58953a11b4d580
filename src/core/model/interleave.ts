/**
 * The audio-visual token sequence (PIPELINE §4): the sequence pieces — each frame's
 * visual tokens, audio tokens, and text (time tokens, transcripts, notes: ids embedded
 * through `embed_tokens`) — in time order. Pure functions over counts and timestamps
 * produce a LAYOUT; `materializeLayout` then copies feature rows into the [L, H]
 * embedding block that replaces the prompt's placeholder.
 */

import type { AudioConfig, InterleaveMode } from '../bundle/manifest.ts';
import { pythonRound } from '../pyround.ts';

/** Rows of the visual features [F·tokensPerFrame, H] (start = frame·tokensPerFrame). */
export interface VisualSegment {
  kind: 'visual';
  frame: number;
  start: number;
  count: number;
}

/** Rows start … start+count−1 of the audio tokens [A, H]. */
export interface AudioSegment {
  kind: 'audio';
  start: number;
  count: number;
  /** Attached to no frame: leftover after the last frame (spread), or audio-only input. */
  trailing?: boolean;
}

/** Token ids whose embeddings go here (rows come from `embed_tokens`). */
export interface TextSegment {
  kind: 'text';
  ids: number[];
  /** Rows: the ids' embeddings, then `zeroRows` zero vectors. */
  count: number;
  /** What the text is, for reports ('time' tokens, a 'transcript' line, a 'note'). */
  role: string;
  /** Zero embedding vectors after the ids (the time tokens' padding, PIPELINE §1). */
  zeroRows?: number;
}

export type Segment = VisualSegment | AudioSegment | TextSegment;

/** Text a request asks to place at `time` seconds (tokenised by the session). */
export interface TextPieceRequest {
  time: number;
  text: string;
  role?: string;
}

/** A text piece to place in time order: at `time` seconds, after the frames shown by then. */
export interface TextPiece {
  time: number;
  ids: number[];
  role: string;
}

export interface Layout {
  segments: Segment[];
  /** Total rows L of the interleaved block. */
  length: number;
  /** Audio tokens left out (timestamp mode: the zero-padded tail past the video's end). */
  droppedAudio: number;
  /** Extra audio rows made by the nearest-neighbour stretch (spread mode). */
  repeatedAudio: number;
}


export interface InterleaveInput {
  mode: InterleaveMode;
  /** Which branches the run uses (session.ts resolveModality). */
  use: { video: boolean; audio: boolean };
  /** Seconds from the start of the video, one per frame, ascending. */
  frameTimes: number[];
  tokensPerFrame: number;
  /** A: audio tokens produced (tokensPerWindow per window, padding tail included). */
  audioTokens: number;
  /** T: the video's duration in seconds. */
  duration: number;
  audio: Pick<AudioConfig, 'windowSeconds' | 'tokensPerWindow' | 'encoderFrames'>;
}

// ---- building blocks ----

class LayoutBuilder {
  private readonly segments: Segment[] = [];
  private length = 0;

  visual(frame: number, tokensPerFrame: number): void {
    this.segments.push({ kind: 'visual', frame, start: frame * tokensPerFrame, count: tokensPerFrame });
    this.length += tokensPerFrame;
  }

  /** Appends audio rows, merging with the previous segment when contiguous. */
  audio(start: number, count: number, trailing = false): void {
    if (count <= 0) return;
    const last = this.segments[this.segments.length - 1];
    const mergeable = last?.kind === 'audio' && last.start + last.count === start && !!last.trailing === trailing;
    if (mergeable) last.count += count;
    else this.segments.push(trailing ? { kind: 'audio', start, count, trailing } : { kind: 'audio', start, count });
    this.length += count;
  }

  build(droppedAudio = 0, repeatedAudio = 0): Layout {
    return { segments: this.segments, length: this.length, droppedAudio, repeatedAudio };
  }
}

/** Python's round() (one shared helper, src/core/pyround.ts; re-exported for this module's users). */
export { pythonRound };

/**
 * Source index of PyTorch `F.interpolate(mode='nearest')` for output index `dst`
 * (float32 scale, as ATen computes it: floorf(dst · (float)(in/out)), clamped).
 */
export function nearestSourceIndex(dst: number, inSize: number, outSize: number): number {
  if (outSize === inSize) return dst;
  if (outSize === 2 * inSize) return dst >> 1;
  const scale = Math.fround(inSize / outSize);
  return Math.min(Math.floor(Math.fround(Math.fround(dst) * scale)), inSize - 1);
}

// ---- the modes ----

/**
 * [ckpt] "spread" (llava/model/language_model/video_salmonn_2.py, lines 356–377 at
 * bytedance/video-SALMONN-2@61faec0): the first round(T·50) audio tokens (50 = encoder
 * frames/s; in practice all of them, except for clips under ~1.2 s) are stretched by
 * F.interpolate(mode='nearest') up to the next multiple of F, cut into F equal slices,
 * slice i after frame i; the rest goes after the last frame.
 */
export function spreadLayout(frames: number, tokensPerFrame: number, audioTokens: number, duration: number, encoderFramesPerSecond: number): Layout {
  const front = Math.min(Math.max(pythonRound(duration * encoderFramesPerSecond), 0), audioTokens);
  const stretched = front % frames === 0 ? front : front + frames - (front % frames);
  const perFrame = stretched / frames;
  const b = new LayoutBuilder();
  for (let f = 0; f < frames; f++) {
    b.visual(f, tokensPerFrame);
    for (let d = f * perFrame; d < (f + 1) * perFrame; d++) b.audio(nearestSourceIndex(d, front, stretched), 1);
  }
  b.audio(front, audioTokens - front, true);
  return b.build(0, stretched - front);
}

/**
 * Timestamps (PIPELINE §4, the project's reading of paper eqs. 6–8): audio token j covers
 * [j·w, (j+1)·w); it follows the last frame whose time ≤ j·w (frame 0 if none); tokens
 * starting at or after the video's end (the zero-padded tail) are dropped.
 */
export function timestampLayout(frameTimes: number[], tokensPerFrame: number, audioTokens: number, duration: number, tokenSeconds: number): Layout {
  const EPS = 1e-9; // timestamps are often k / fps: compare with a little slack
  const kept = Math.min(audioTokens, Math.max(Math.ceil(duration / tokenSeconds - EPS), 0));
  const b = new LayoutBuilder();
  let j = 0;
  for (let f = 0; f < frameTimes.length; f++) {
    b.visual(f, tokensPerFrame);
    const next = f + 1 < frameTimes.length ? frameTimes[f + 1] : Infinity;
    const from = j;
    while (j < kept && j * tokenSeconds < next - EPS) j++;
    b.audio(from, j - from);
  }
  return b.build(audioTokens - j, 0);
}

export function visualOnlyLayout(frames: number, tokensPerFrame: number): Layout {
  const b = new LayoutBuilder();
  for (let f = 0; f < frames; f++) b.visual(f, tokensPerFrame);
  return b.build();
}

export function audioOnlyLayout(audioTokens: number): Layout {
  const b = new LayoutBuilder();
  b.audio(0, audioTokens, true);
  return b.build();
}

/** The layout for a run: modality first (§4 "No audio track" / "Audio-only"), then mode. */
export function planInterleave(input: InterleaveInput): Layout {
  const { mode, use, frameTimes, tokensPerFrame, audioTokens, duration, audio } = input;
  if (!use.video) return audioOnlyLayout(audioTokens);
  if (!use.audio || audioTokens === 0) return visualOnlyLayout(frameTimes.length, tokensPerFrame);
  if (frameTimes.length === 0) throw new RangeError('audio-video interleaving needs at least one frame');
  if (mode === 'spread') {
    return spreadLayout(frameTimes.length, tokensPerFrame, audioTokens, duration, audio.encoderFrames / audio.windowSeconds);
  }
  return timestampLayout(frameTimes, tokensPerFrame, audioTokens, duration, audio.windowSeconds / audio.tokensPerWindow);
}

// ---- use ----

/**
 * Copies rows into the interleaved block [L, H]: visual from [F, tokensPerFrame, H],
 * audio from [A, H] (either may be null when the layout does not use it).
 */
export function materializeLayout(layout: Layout, visual: Float32Array | null, audio: Float32Array | null, hidden: number, textRows: readonly Float32Array[] = []): Float32Array {
  const out = new Float32Array(layout.length * hidden);
  let row = 0;
  let text = 0;
  for (const s of layout.segments) {
    if (s.kind === 'text') {
      const rows = textRows[text++];
      if (!rows || rows.length !== s.ids.length * hidden) throw new RangeError(`text piece ${text - 1} needs ${s.ids.length} embedded rows`);
      out.set(rows, row * hidden); // zero rows after them stay 0
      row += s.count;
      continue;
    }
    const src = s.kind === 'visual' ? visual : audio;
    if (!src) throw new RangeError(`layout has ${s.kind} tokens but no ${s.kind} features were given`);
    const begin = s.start * hidden;
    const end = (s.start + s.count) * hidden;
    if (end > src.length) throw new RangeError(`${s.kind} rows ${s.start}…${s.start + s.count - 1} exceed the features`);
    out.set(src.subarray(begin, end), row * hidden);
    row += s.count;
  }
  return out;
}

/**
 * Places text pieces in time order (ARCHITECTURE "sequence pieces"): a piece at time t goes
 * after everything of the frames shown by t (before the first frame whose timestamp is
 * later; before trailing audio when none is); without frames, the audio is split at the
 * token that starts at t (token j covers [j·w, (j+1)·w)).
 */
export function placeText(layout: Layout, frameTimes: readonly number[], pieces: readonly TextPiece[], tokenSeconds: number): Layout {
  const EPS = 1e-9;
  let segments = [...layout.segments];
  const hasVisual = segments.some((s) => s.kind === 'visual');
  for (const p of [...pieces].sort((a, b) => a.time - b.time)) {
    if (p.ids.length === 0) continue;
    const seg: TextSegment = { kind: 'text', ids: [...p.ids], count: p.ids.length, role: p.role };
    segments = hasVisual ? afterFramesShownBy(segments, frameTimes, p.time + EPS, seg) : atAudioToken(segments, Math.max(0, Math.ceil(p.time / tokenSeconds - EPS)), seg);
  }
  return { ...layout, segments, length: segments.reduce((n, s) => n + s.count, 0) };
}

function afterFramesShownBy(segments: Segment[], frameTimes: readonly number[], t: number, seg: TextSegment): Segment[] {
  let at = segments.findIndex((s) => s.kind === 'visual' && frameTimes[s.frame] > t);
  if (at < 0) {
    at = segments.length;
    while (at > 0 && segments[at - 1].kind === 'audio' && (segments[at - 1] as AudioSegment).trailing) at--;
  }
  return [...segments.slice(0, at), seg, ...segments.slice(at)];
}

function atAudioToken(segments: Segment[], k: number, seg: TextSegment): Segment[] {
  const out: Segment[] = [];
  let seen = 0;
  let placed = false;
  for (const s of segments) {
    if (!placed && s.kind === 'audio' && seen + s.count > k) {
      const cut = k - seen;
      if (cut > 0) out.push({ ...s, count: cut });
      out.push(seg, { ...s, start: s.start + cut, count: s.count - cut });
      placed = true;
    } else out.push(s);
    if (s.kind === 'audio') seen += s.count;
  }
  if (!placed) out.push(seg);
  return out;
}

/** Inserts one text row after each frame's visual tokens, in frame order (time tokens, PIPELINE §1). */
export function afterEachFrame(layout: Layout, rows: readonly { ids: number[]; zeroRows: number }[], role: string): Layout {
  const segments: Segment[] = [];
  for (const s of layout.segments) {
    segments.push(s);
    if (s.kind !== 'visual') continue;
    const r = rows[s.frame];
    if (!r) throw new RangeError(`no ${role} row for frame ${s.frame}`);
    segments.push({ kind: 'text', ids: [...r.ids], count: r.ids.length + r.zeroRows, role, zeroRows: r.zeroRows });
  }
  return { ...layout, segments, length: segments.reduce((n, s) => n + s.count, 0) };
}

/** The embedded rows each text segment needs, in layout order. */
export function textSegments(layout: Layout): TextSegment[] {
  return layout.segments.filter((s): s is TextSegment => s.kind === 'text');
}

/** The audio row feeding each position of the block, or −1 for visual and text rows (for tests and reports). */
export function audioSourceRows(layout: Layout): number[] {
  const rows: number[] = [];
  for (const s of layout.segments) {
    for (let i = 0; i < s.count; i++) rows.push(s.kind === 'audio' ? s.start + i : -1);
  }
  return rows;
}

export interface FrameSummary {
  frame: number;
  visualTokens: number;
  audioTokens: number;
  /** Text rows after the frame (time tokens, transcript), by role; absent when none. */
  textTokens?: Record<string, number>;
}

export interface LayoutSummary {
  /** In sequence order; audioTokens counts the frame's own audio rows. */
  frames: FrameSummary[];
  /** Audio rows attached to no frame: spread leftovers after the last frame, or all of audio-only input. */
  trailingAudio: number;
  /** Text rows before the first frame (or anywhere in audio-only input), by role; absent when none. */
  leadingText?: Record<string, number>;
  length: number;
  droppedAudio: number;
  repeatedAudio: number;
}

/** Compact form for reports. */
export function summarizeLayout(layout: Layout): LayoutSummary {
  const frames: FrameSummary[] = [];
  let trailingAudio = 0;
  let leadingText: Record<string, number> | undefined;
  for (const s of layout.segments) {
    const last = frames[frames.length - 1];
    if (s.kind === 'text') {
      if (last) last.textTokens = addRole(last.textTokens, s.role, s.count);
      else leadingText = addRole(leadingText, s.role, s.count);
      continue;
    }
    if (s.kind === 'visual') frames.push({ frame: s.frame, visualTokens: s.count, audioTokens: 0 });
    else if (s.trailing || !last) trailingAudio += s.count;
    else last.audioTokens += s.count;
  }
  const { length, droppedAudio, repeatedAudio } = layout;
  return { frames, trailingAudio, ...(leadingText ? { leadingText } : {}), length, droppedAudio, repeatedAudio };
}

function addRole(counts: Record<string, number> | undefined, role: string, n: number): Record<string, number> {
  return { ...counts, [role]: (counts?.[role] ?? 0) + n };
}
