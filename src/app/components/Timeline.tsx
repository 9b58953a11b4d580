import { memo, useEffect, useMemo, useRef, useState, type KeyboardEvent, type PointerEvent, type RefObject } from 'react';
import type { TimeRange } from '../../core/timed/track';
import { formatTimestamp } from '../lib/format';
import { dragRange, keyRange, moveEdge, windowsOf, type Edge } from '../lib/range';
import type { Waveform } from '../lib/waveform';

export interface TimelineFrame {
  timestamp: number;
  url: string | null;
}

interface Props {
  duration: number;
  frames: TimelineFrame[];
  waveform: Waveform | null;
  waveformStatus: 'none' | 'loading' | 'ready' | 'unavailable';
  windowSeconds: number;
  onSeek?: (seconds: number) => void;
  /** The selected range (a local caption), null: the whole file. */
  range?: TimeRange | null;
  /** The range the audio windows are planned in (the shown run's, else the selection). */
  windowRange?: TimeRange | null;
  onRange?: (range: TimeRange | null) => void;
  /** The preview's current time, for "[" / "]" on a range handle. */
  playhead?: () => number;
  /** Scene-change times (s) of a scene-cut caption track, marked on the ruler. */
  cuts?: readonly number[] | null;
}

/** Pointer travel (px) before a press on the timeline becomes a range drag (a click still seeks). */
const DRAG_PX = 4;

const THUMB_MAX_PX = 72;
/** Room one "0:00.0" label needs at the timeline's font size (px), with a gap. */
const LABEL_PX = 40;

/** The element's width in px, kept current by a ResizeObserver (0 until measured). */
function useWidth<T extends HTMLElement>(): [RefObject<T | null>, number] {
  const ref = useRef<T>(null);
  const [width, setWidth] = useState(0);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    setWidth(el.clientWidth);
    const ro = new ResizeObserver(() => setWidth(el.clientWidth));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  return [ref, width];
}

/**
 * A time ruler, the sampled frames at their timestamps, and the audio waveform with its
 * windows. Labels are laid out for the measured width: at 360 px only the frames whose
 * label fits get their time (all of them keep it in their tooltip), and window labels shorten to fit.
 */
export const Timeline = memo(function Timeline({ duration, frames, waveform, waveformStatus, windowSeconds, onSeek, range = null, windowRange = null, onRange, playhead, cuts = null }: Props) {
  const [ref, width] = useWidth<HTMLDivElement>();
  const drag = useRange(ref, duration, range, onRange);
  const px = width || 640;
  // A tick whose label would run past the right edge is left out.
  const ticks = rulerTicks(duration, Math.max(2, Math.floor(px / (LABEL_PX + 8)))).filter((t) => (t / duration) * px + LABEL_PX <= px);
  const n = Math.max(1, frames.length);
  const thumbPx = Math.min(THUMB_MAX_PX, px / n);
  const frameLeftPx = (t: number) => Math.min((Math.min(1, t / duration) * px), px - thumbPx);
  // Label frames left to right wherever a label fits after the last one (frames can be
  // closer together than a label is wide); the rest keep their time in the tooltip.
  const labelAt: (number | null)[] = [];
  let lastRight = -Infinity;
  for (const f of frames) {
    const c = Math.min(px - LABEL_PX / 2, Math.max(LABEL_PX / 2, frameLeftPx(f.timestamp) + thumbPx / 2));
    if (c - LABEL_PX / 2 >= lastRight) {
      labelAt.push(c);
      lastRight = c + LABEL_PX / 2;
    } else labelAt.push(null);
  }
  const windows = windowsOf(windowRange, duration, windowSeconds);
  const pct = (t: number) => `${(Math.min(duration, Math.max(0, t)) / duration) * 100}%`;
  const shown = range ?? { start: 0, end: duration };
  return (
    <div className="timeline" aria-label="Timeline" ref={ref} {...drag.handlers}>
      {range ? (
        <div className="range-selection" data-testid="range-selection" aria-hidden="true" style={{ left: pct(range.start), width: `calc(${pct(range.end)} - ${pct(range.start)})` }} />
      ) : null}
      {onRange ? (
        <div className="range-handles" role="group" aria-label="Time range for a local caption">
          {(['start', 'end'] as Edge[]).map((edge) => (
            <RangeHandle key={edge} edge={edge} range={range} duration={duration} left={`clamp(7px, ${pct(shown[edge])}, calc(100% - 7px))`} playhead={playhead} onRange={onRange} />
          ))}
        </div>
      ) : null}
      {cuts && cuts.length ? (
        <ol className="scene-cuts" data-testid="timeline-cuts" aria-label={`${cuts.length} scene changes`}>
          {cuts.map((t) => (
            <li key={t} className="scene-cut" data-testid="timeline-cut" data-time={t} style={{ left: pct(t) }} title={`Scene change at ${formatTimestamp(t)}`}>
              <span className="visually-hidden">Scene change at {formatTimestamp(t)}</span>
            </li>
          ))}
        </ol>
      ) : null}
      <div className="ruler" aria-hidden="true">
        {ticks.map((t) => (
          <span key={t} className="tick" style={{ left: `${(t / duration) * 100}%` }}>
            {formatTimestamp(t)}
          </span>
        ))}
      </div>
      <div className="strip-wrap">
        {frames.length > 0 ? (
          <>
            <ol className="frame-strip" data-testid="frame-strip" aria-label={`${frames.length} sampled frames`}>
              {frames.map((f, i) => (
                <li
                  key={`${i}-${f.timestamp}`}
                  className="frame"
                  data-testid="frame"
                  data-timestamp={f.timestamp.toFixed(3)}
                  style={{ width: `${thumbPx}px`, left: `${frameLeftPx(f.timestamp)}px` }}
                >
                  <button type="button" className="frame-button" onClick={() => onSeek?.(f.timestamp)} title={`Frame at ${formatTimestamp(f.timestamp)}: show it in the preview`}>
                    {f.url ? <img src={f.url} alt={`Frame at ${formatTimestamp(f.timestamp)}`} /> : <span className="frame-missing">·</span>}
                  </button>
                </li>
              ))}
            </ol>
            <div className="frame-labels" aria-hidden="true">
              {frames.map((f, i) =>
                labelAt[i] !== null ? (
                  <span key={`${i}-${f.timestamp}`} className="frame-time" data-testid="frame-time" style={{ left: `${labelAt[i]}px` }}>
                    {formatTimestamp(f.timestamp)}
                  </span>
                ) : null,
              )}
            </div>
          </>
        ) : (
          <p className="strip-empty muted">The sampled frames appear here when a caption runs.</p>
        )}
      </div>
      <div className="wave-wrap" data-testid="waveform" data-status={waveformStatus}>
        {waveform ? <WaveCanvas waveform={waveform} /> : <p className="muted wave-note">{waveformStatus === 'loading' ? 'Reading the audio…' : 'No waveform: the file has no audio this browser can decode here, or it is over 30 minutes long.'}</p>}
        {waveformStatus !== 'loading'
          ? windows.map(({ start, end }, i) => {
              const range = `${formatTimestamp(start)}–${formatTimestamp(end)}`;
              const full = windows.length > 1 ? `window ${i + 1}: ${range}` : `audio window: ${range}`;
              const windowPx = ((end - start) / duration) * px;
              const text = windowPx >= full.length * 6 + 12 ? full : windowPx >= range.length * 6 + 12 ? range : String(i + 1);
              return (
                <span key={start} className="audio-window" data-testid="audio-window" title={full} style={{ left: `${(start / duration) * 100}%`, width: `${((end - start) / duration) * 100}%` }}>
                  <span className="audio-window-label" data-testid="audio-window-label">
                    {text}
                  </span>
                </span>
              );
            })
          : null}
      </div>
    </div>
  );
});

/**
 * A mouse drag over the timeline selects [start, end]: a press that travels more than
 * DRAG_PX becomes a drag, and the click that ends it does not seek.
 */
function useRange(ref: RefObject<HTMLDivElement | null>, duration: number, range: TimeRange | null, onRange?: (r: TimeRange | null) => void) {
  const press = useRef<{ x: number; t: number; dragging: boolean; id: number } | null>(null);
  const swallowClick = useRef(false);
  if (!onRange) return { handlers: {} };
  const timeAt = (clientX: number) => {
    const box = ref.current!.getBoundingClientRect();
    return (Math.min(box.width, Math.max(0, clientX - box.left)) / Math.max(1, box.width)) * duration;
  };
  const handlers = {
    onPointerDown: (e: PointerEvent<HTMLDivElement>) => {
      if (e.button !== 0 || (e.target as HTMLElement).closest('[role="slider"]')) return;
      press.current = { x: e.clientX, t: timeAt(e.clientX), dragging: false, id: e.pointerId };
    },
    onPointerMove: (e: PointerEvent<HTMLDivElement>) => {
      const p = press.current;
      if (!p || p.id !== e.pointerId) return;
      if (!p.dragging && Math.abs(e.clientX - p.x) < DRAG_PX) return;
      if (!p.dragging) {
        p.dragging = true;
        e.currentTarget.setPointerCapture(e.pointerId);
      }
      const r = dragRange(p.t, timeAt(e.clientX), duration);
      if (r) onRange(r);
    },
    onPointerUp: (e: PointerEvent<HTMLDivElement>) => {
      const p = press.current;
      press.current = null;
      if (!p?.dragging) return;
      swallowClick.current = true;
      onRange(dragRange(p.t, timeAt(e.clientX), duration) ?? range);
    },
    onPointerCancel: () => (press.current = null),
    onClickCapture: (e: { stopPropagation: () => void; preventDefault: () => void }) => {
      if (!swallowClick.current) return;
      swallowClick.current = false;
      e.stopPropagation();
      e.preventDefault();
    },
  };
  return { handlers };
}

interface HandleProps {
  edge: Edge;
  range: TimeRange | null;
  duration: number;
  left: string;
  playhead?: () => number;
  onRange: (r: TimeRange | null) => void;
}

/** One thumb of the two-thumb range slider (WAI-ARIA slider pattern); also draggable. */
function RangeHandle({ edge, range, duration, left, playhead, onRange }: HandleProps) {
  const r = range ?? { start: 0, end: duration };
  const value = r[edge];
  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    const next = keyRange(range, edge, e.key, e.shiftKey, duration, playhead?.() ?? 0);
    if (!next) return;
    e.preventDefault();
    onRange(next);
  };
  const onPointerDown = (e: PointerEvent<HTMLDivElement>) => {
    if (e.button !== 0) return;
    e.currentTarget.setPointerCapture(e.pointerId);
    e.stopPropagation();
  };
  const onPointerMove = (e: PointerEvent<HTMLDivElement>) => {
    if (!e.currentTarget.hasPointerCapture(e.pointerId)) return;
    const box = e.currentTarget.parentElement!.getBoundingClientRect();
    onRange(moveEdge(range, edge, ((e.clientX - box.left) / Math.max(1, box.width)) * duration, duration));
  };
  const label = edge === 'start' ? 'Range start' : 'Range end';
  return (
    <div
      role="slider"
      tabIndex={0}
      className={`range-handle range-${edge}${range ? ' set' : ''}`}
      data-testid={`range-${edge}`}
      style={{ left }}
      aria-label={label}
      aria-valuemin={edge === 'start' ? 0 : r.start}
      aria-valuemax={edge === 'start' ? r.end : duration}
      aria-valuenow={value}
      aria-valuetext={`${formatTimestamp(value)}${range ? '' : ' (whole file)'}`}
      aria-keyshortcuts={edge === 'start' ? '[' : ']'}
      title={`${label}: ${formatTimestamp(value)}. Arrow keys move it 1 s (Shift: 0.1 s), Page Up/Down 10 s; [ and ] put the start or end at the playhead.`}
      onKeyDown={onKeyDown}
      onPointerDown={onPointerDown}
      onPointerMove={onPointerMove}
    />
  );
}

function rulerTicks(duration: number, maxTicks: number): number[] {
  const steps = [0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600];
  const step = steps.find((s) => duration / s <= Math.min(8, maxTicks)) ?? 3600;
  const out: number[] = [];
  for (let i = 0; i * step < duration - step * 0.3; i++) out.push(Math.round(i * step * 1000) / 1000);
  return out;
}

/**
 * The waveform as one SVG path (upper envelope left to right, lower one back), built once
 * per waveform: no per-pixel canvas drawing on the main thread, and it scales by itself.
 */
function WaveCanvas({ waveform }: { waveform: Waveform }) {
  const { d, peak, n } = useMemo(() => {
    const p = waveform.peaks;
    const buckets = p.length / 2;
    let max = 0;
    for (let i = 0; i < p.length; i++) max = Math.max(max, Math.abs(p[i]));
    const minHalf = max * 0.01; // silence still draws a hairline
    const up: string[] = [];
    const down: string[] = [];
    for (let b = 0; b < buckets; b++) {
      const hi = Math.max(p[2 * b + 1], minHalf);
      const lo = Math.min(p[2 * b], -minHalf);
      up.push(`${b} ${(-hi).toFixed(4)}`);
      down.push(`${b} ${(-lo).toFixed(4)}`);
    }
    return { d: `M${up.join('L')}L${down.reverse().join('L')}Z`, peak: max || 1, n: Math.max(1, buckets - 1) };
  }, [waveform]);
  return (
    <svg className="wave" viewBox={`0 ${-peak} ${n} ${2 * peak}`} preserveAspectRatio="none" aria-label="Audio waveform" role="img">
      <path d={d} fill="currentColor" />
    </svg>
  );
}
