/**
 * A caption track: the video cut into segments, each captioned as a local caption with a
 * short prompt, the captions streamed as cues in order. Segments already captioned with
 * the same settings are not recomputed (the track keeps its cues; the session keeps the
 * features). Segments are of a fixed length or cut at scene changes (scenes.ts). Model-neutral:
 * `captionRange` is the engine's caption with a range.
 */
import type { SceneOptions } from './scenes';
import { segmentsOf, type Cue, type TimeRange } from './track';

export const TRACK_PROMPT = 'Describe what happens in this part of the video, seen and heard, in one or two sentences.';

/** Scene-change segments (Engine.scenes' report) with the rule that made them. */
export interface SceneSegmentation {
  segments: readonly TimeRange[];
  options: SceneOptions;
}

export interface TrackRequest {
  /** Fixed segment length in seconds (10 by default); ignored when `scenes` is given. */
  seconds: number;
  /** Cut at scene changes instead (timed/scenes.ts). */
  scenes?: SceneSegmentation;
  prompt?: string;
  /** Any other settings of the captions; part of the cache key. */
  settings?: Record<string, unknown>;
}

export type RangeCaptioner = (range: TimeRange, prompt: string, settings: Record<string, unknown>) => Promise<string>;

export class CaptionTrack {
  private readonly cues = new Map<string, string>();

  constructor(private readonly captionRange: RangeCaptioner) {}

  /** Captions every segment of [0, duration] in order; `onCue` gets each cue as it is ready. */
  async run(duration: number, request: TrackRequest, onCue?: (cue: Cue, index: number, total: number) => void, signal?: AbortSignal): Promise<Cue[]> {
    const prompt = request.prompt ?? TRACK_PROMPT;
    const settings = request.settings ?? {};
    const segments = request.scenes ? checkCover(request.scenes.segments, duration) : segmentsOf(duration, request.seconds);
    // The segmentation is part of the key: a scene segment is not a fixed one that happens to match.
    const segmentation = request.scenes ? { scenes: request.scenes.options } : { seconds: request.seconds };
    const out: Cue[] = [];
    for (const [i, seg] of segments.entries()) {
      if (signal?.aborted) throw new DOMException('The caption track was cancelled.', 'AbortError');
      const key = JSON.stringify([segmentation, seg.start, seg.end, prompt, settings]);
      let text = this.cues.get(key);
      if (text === undefined) {
        text = (await this.captionRange(seg, prompt, settings)).trim();
        this.cues.set(key, text);
      }
      const cue = { ...seg, text };
      out.push(cue);
      onCue?.(cue, i, segments.length);
    }
    return out;
  }
}

/** Scene segments must cover [0, duration] in order without gaps or overlaps, as fixed ones do. */
function checkCover(segments: readonly TimeRange[], duration: number): readonly TimeRange[] {
  const ok = segments.length > 0 && segments[0].start === 0 && Math.abs(segments[segments.length - 1].end - duration) < 1e-6 && segments.every((s, i) => s.end > s.start && (i === 0 || s.start === segments[i - 1].end));
  if (!ok) throw new RangeError(`scene segments must cover 0–${duration} s in order without gaps: got ${segments.map((s) => `${s.start}–${s.end}`).join(', ')}`);
  return segments;
}
