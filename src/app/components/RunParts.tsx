import type { Cue } from '../../core/timed/track';
import { formatTimestamp } from '../lib/format';
import { STATUS_LABEL, type TurnRecord } from '../lib/run-record';

/** A caption track's cues, in order, with their times. */
export function CueList({ cues, label = 'Cues of the caption track' }: { cues: readonly Cue[]; label?: string }) {
  if (cues.length === 0) return <p className="small muted">No segment was captioned.</p>;
  return (
    <ol className="cue-list" data-testid="cue-list" aria-label={label}>
      {cues.map((c) => (
        <li key={c.start} data-testid="cue" data-start={c.start} data-end={c.end}>
          <span className="cue-time">
            {formatTimestamp(c.start)}–{formatTimestamp(c.end)}
          </span>{' '}
          <span className="cue-text">{c.text || '(no text)'}</span>
        </li>
      ))}
    </ol>
  );
}

/** A long caption's clip captions, in order, with their (overlapping) times. */
export function ClipList({ clips }: { clips: readonly Cue[] }) {
  return (
    <ol className="cue-list" data-testid="clip-list" aria-label="Clip captions of the long caption">
      {clips.map((c) => (
        <li key={c.start} data-testid="clip" data-start={c.start} data-end={c.end}>
          <span className="cue-time">
            {formatTimestamp(c.start)}–{formatTimestamp(c.end)}
          </span>{' '}
          <span className="cue-text">{c.text || '(no text)'}</span>
        </li>
      ))}
    </ol>
  );
}

/** The follow-up questions of a run and their answers. */
export function TurnList({ turns }: { turns: readonly TurnRecord[] }) {
  return (
    <ol className="chat-turns" data-testid="turn-list" aria-label="Follow-up questions">
      {turns.map((t, i) => (
        <li key={i} className="chat-turn" data-testid="turn" data-status={t.status}>
          <p className="chat-q">Q: {t.question}</p>
          <p className="chat-a">
            {t.answer || '(no text)'}
            {t.status !== 'done' ? <span className="muted"> [{STATUS_LABEL[t.status]}]</span> : null}
          </p>
        </li>
      ))}
    </ol>
  );
}
