import { useEffect, useState, type RefObject } from 'react';
import type { Cue } from '../../core/timed/track';
import { useEngine } from '../state/engine';
import { useMedia } from '../state/media';

/** The subtitle track this app adds to a preview element (one per element; its cues are replaced). */
const TRACKS = new WeakMap<HTMLVideoElement, TextTrack>();

function subtitlesOf(video: HTMLVideoElement): TextTrack {
  let track = TRACKS.get(video);
  if (!track) {
    track = video.addTextTrack('subtitles', 'Caption track', 'en');
    TRACKS.set(video, track);
  }
  track.mode = 'showing';
  return track;
}

function setCues(track: TextTrack, cues: readonly Cue[]): void {
  for (const c of [...(track.cues ?? [])]) track.removeCue(c);
  for (const c of cues) track.addCue(new VTTCue(c.start, c.end, c.text || '…'));
}

/** A paused element re-reads its active cues only on a time change: give it one, in place. */
function refreshActiveCues(video: HTMLVideoElement): void {
  if (!video.paused || video.readyState < 1) return;
  const t = video.currentTime;
  video.currentTime = t;
}

const NO_CUES: Cue[] = [];

/**
 * The caption track of the current file, as subtitles over the preview (cues added to the
 * element's text track as they arrive), and the cue at the playhead as text below it.
 */
export function SubtitleTrack({ video }: { video: RefObject<HTMLVideoElement | null> }) {
  const fileName = useMedia((s) => s.file?.name ?? null);
  const cues = useEngine((s) => (s.run?.kind === 'track' && s.run.fileName === fileName ? (s.run.track?.cues ?? NO_CUES) : NO_CUES));
  const [active, setActive] = useState('');
  useEffect(() => {
    const el = video.current;
    if (!el || (cues.length === 0 && !TRACKS.has(el))) return;
    const track = subtitlesOf(el);
    setCues(track, cues);
    refreshActiveCues(el);
    const onChange = () => setActive([...(track.activeCues ?? [])].map((c) => (c as VTTCue).text).join('\n'));
    onChange();
    track.addEventListener('cuechange', onChange);
    return () => track.removeEventListener('cuechange', onChange);
  }, [video, cues]);
  if (cues.length === 0) return null;
  return (
    <p className="active-cue small" data-testid="active-cue" aria-live="off">
      <span className="muted">Subtitle: </span>
      <span data-testid="active-cue-text">{active || '—'}</span>
    </p>
  );
}
