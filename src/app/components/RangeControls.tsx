import { useState } from 'react';
import type { TimeRange } from '../../core/timed/track';
import { formatTimestamp, parseClock } from '../lib/format';
import { moveEdge, type Edge } from '../lib/range';

interface Props {
  duration: number;
  range: TimeRange | null;
  onRange: (range: TimeRange | null) => void;
  playhead: () => number;
}

/**
 * The selected range as text (m:ss.s, editable), buttons that put an edge at the
 * playhead, and Clear. A time that cannot be used says why and keeps the range as it was.
 */
export function RangeControls({ duration, range, onRange, playhead }: Props) {
  const [error, setError] = useState<string | null>(null);
  const r = range ?? { start: 0, end: duration };
  const commit = (edge: Edge, text: string): boolean => {
    const t = parseClock(text);
    if (t === null) {
      setError(`“${text.trim()}” is not a time: type m:ss (for example 1:05 or 0:07.5) or seconds.`);
      return false;
    }
    if (t > duration + 1e-9) {
      setError(`${formatTimestamp(t)} is past the end of the video (${formatTimestamp(duration)}).`);
      return false;
    }
    const other = edge === 'start' ? r.end : r.start;
    if (edge === 'start' ? t >= other : t <= other) {
      setError(edge === 'start' ? `The start must be before the end (${formatTimestamp(r.end)}).` : `The end must be after the start (${formatTimestamp(r.start)}).`);
      return false;
    }
    setError(null);
    onRange(moveEdge(range, edge, t, duration));
    return true;
  };
  return (
    <div className="range-controls" role="group" aria-label="Local caption range" data-testid="range-controls">
      <ClockInput key={`s${r.start}`} label="Start" testId="range-start-input" value={r.start} onCommit={(t) => commit('start', t)} />
      <ClockInput key={`e${r.end}`} label="End" testId="range-end-input" value={r.end} onCommit={(t) => commit('end', t)} />
      <button type="button" className="secondary small" onClick={() => onRange(moveEdge(range, 'start', playhead(), duration))} aria-keyshortcuts="[">
        Start at playhead
      </button>
      <button type="button" className="secondary small" onClick={() => onRange(moveEdge(range, 'end', playhead(), duration))} aria-keyshortcuts="]">
        End at playhead
      </button>
      <button type="button" className="secondary small" data-testid="range-clear" disabled={!range} onClick={() => (setError(null), onRange(null))}>
        Clear range
      </button>
      <p className="range-summary small" data-testid="range-summary" role="status">
        {range
          ? `Caption makes a local caption of ${formatTimestamp(range.start)}–${formatTimestamp(range.end)} (${(range.end - range.start).toFixed(1)} s).`
          : 'Whole file. Drag over the timeline, or focus a range handle and use the arrow keys ([ / ] set the start / end at the playhead), for a local caption of a part.'}
      </p>
      {error ? (
        <p className="range-summary small notice notice-error" role="alert" data-testid="range-error">
          {error}
        </p>
      ) : null}
    </div>
  );
}

/** A time field (remounted when its value changes): m:ss.s, committed on Enter or leaving it; a refused value stays to be fixed. */
function ClockInput({ label, testId, value, onCommit }: { label: string; testId: string; value: number; onCommit: (text: string) => boolean }) {
  const [text, setText] = useState(formatTimestamp(value));
  const done = () => {
    if (text === formatTimestamp(value)) return;
    onCommit(text); // a refused value stays in the field to be fixed; the range is unchanged
  };
  return (
    <label>
      <span>{label}</span>
      <input
        type="text"
        inputMode="decimal"
        data-testid={testId}
        value={text}
        onChange={(e) => setText(e.target.value)}
        onBlur={done}
        onKeyDown={(e) => {
          if (e.key === 'Enter') done();
          if (e.key === 'Escape') setText(formatTimestamp(value));
        }}
      />
    </label>
  );
}
