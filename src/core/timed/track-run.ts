/**
 * A caption track: the video cut into segments, each captioned as a local caption with a
 * short prompt, the captions streamed as cues in order. Segments already captioned with
 * the same settings are not recomputed (the track keeps its cues; the session keeps the
 * features). Model-neutral: `captionRange` is the engine's caption with a range.
 */
import { segmentsOf, type Cue, type TimeRange } from './track';

export const TRACK_PROMPT = 'Describe what happens in this part of the video, seen and heard, in one or two sentences.';

export interface TrackRequest {
  /** Segment length in seconds (10 by default). */
  seconds: number;
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
    const segments = segmentsOf(duration, request.seconds);
    const out: Cue[] = [];
    for (const [i, seg] of segments.entries()) {
      if (signal?.aborted) throw new DOMException('The caption track was cancelled.', 'AbortError');
      const key = JSON.stringify([seg.start, seg.end, prompt, settings]);
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
