/**
 * Caption tracks in the app's state layer: one CaptionTrack per opened media file, so
 * segments already captioned with the same settings (prompt, request, model) come from
 * its cue cache instead of being recomputed. The captioner behind it is the engine's
 * caption with a range; a run reports each segment as it starts and each cue as it ends.
 */
import { CaptionTrack, type RangeCaptioner, type TrackRequest } from '../../core/timed/track-run';
import { segmentsOf, type Cue, type TimeRange } from '../../core/timed/track';

export interface TrackRunEvents {
  /** Segment `index` (0-based) of `total` starts (or is taken from the cache). */
  onSegment?: (index: number, total: number, range: TimeRange) => void;
  /** The cues so far, in order (a new array each time). */
  onCues?: (cues: Cue[]) => void;
}

export interface TrackOutcome {
  cues: Cue[];
  total: number;
  /** Segments whose cue came from the cache. */
  reused: number;
  /** Set when the run stopped early (cancelled or failed); the cues done so far are kept. */
  error: unknown;
}

/**
 * The tracks of the media files, keyed by the file object. `segment` is the per-run
 * captioner: the track calls it only for segments it has no cue for.
 */
export class TrackStore {
  private readonly tracks = new WeakMap<object, { track: CaptionTrack; run: { captioner: RangeCaptioner | null } }>();

  /** The same CaptionTrack for the same media (its cache survives between runs). */
  trackOf(media: object): CaptionTrack {
    return this.entry(media).track;
  }

  private entry(media: object) {
    let e = this.tracks.get(media);
    if (!e) {
      const run: { captioner: RangeCaptioner | null } = { captioner: null };
      const track = new CaptionTrack((range, prompt, settings) => {
        if (!run.captioner) throw new Error('No caption track run is in progress.');
        return run.captioner(range, prompt, settings);
      });
      e = { track, run };
      this.tracks.set(media, e);
    }
    return e;
  }

  /**
   * Runs the track of `media` over [0, duration] in `seconds`-long segments, or in the
   * scene segments of `request.scenes`. Never
   * throws: a cancel or failure ends the run with the cues done so far and the error.
   */
  async run(
    media: object,
    duration: number,
    request: TrackRequest & { settings: Record<string, unknown> },
    captioner: RangeCaptioner,
    events: TrackRunEvents = {},
    signal?: AbortSignal,
  ): Promise<TrackOutcome> {
    const e = this.entry(media);
    const segments = request.scenes ? request.scenes.segments : segmentsOf(duration, request.seconds);
    const cues: Cue[] = [];
    let reused = 0;
    let computing = false;
    let next = 0;
    e.run.captioner = (range, prompt, settings) => {
      computing = true;
      return captioner(range, prompt, settings);
    };
    const announce = () => {
      if (next < segments.length) events.onSegment?.(next, segments.length, segments[next]);
    };
    announce();
    try {
      await e.track.run(
        duration,
        request,
        (cue) => {
          cues.push(cue);
          if (!computing) reused++;
          computing = false;
          next++;
          events.onCues?.([...cues]);
          announce();
        },
        signal,
      );
      return { cues, total: segments.length, reused, error: null };
    } catch (error) {
      return { cues, total: segments.length, reused, error };
    } finally {
      e.run.captioner = null;
    }
  }
}
