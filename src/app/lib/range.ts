/**
 * The time range of a local caption as the timeline edits it (pure): two edges moved by
 * the keyboard or the mouse, kept inside the file, at least MIN_RANGE s apart, on a
 * 0.1 s grid (the values the user reads and types back).
 */
import type { TimeRange } from '../../core/timed/track';
import { windowStarts } from './waveform';

export type Edge = 'start' | 'end';

/** The shortest range the timeline makes (s). */
export const MIN_RANGE = 0.1;

const grid = (t: number) => Math.round(t * 10) / 10;

/** The range with `edge` at `t`: clamped to the file and to the other edge. */
export function moveEdge(range: TimeRange | null, edge: Edge, t: number, duration: number): TimeRange {
  const r = range ?? { start: 0, end: duration };
  if (edge === 'start') return { start: Math.max(0, Math.min(grid(t), r.end - MIN_RANGE)), end: r.end };
  return { start: r.start, end: Math.min(duration, Math.max(grid(t), r.start + MIN_RANGE)) };
}

/** [a, b] in either order, from a mouse drag (null when too short to be meant). */
export function dragRange(a: number, b: number, duration: number): TimeRange | null {
  const start = Math.max(0, grid(Math.min(a, b)));
  const end = Math.min(duration, grid(Math.max(a, b)));
  return end - start >= MIN_RANGE - 1e-9 ? { start, end } : null;
}

/**
 * The keyboard on a range handle (the two-thumb slider pattern): arrows move by 1 s
 * (Shift: 0.1 s), Page Up/Down by 10 s, Home/End to the limits; "[" and "]" put the start
 * or the end at the playhead. Null for any other key.
 */
export function keyRange(range: TimeRange | null, edge: Edge, key: string, shift: boolean, duration: number, playhead: number): TimeRange | null {
  const r = range ?? { start: 0, end: duration };
  const at = edge === 'start' ? r.start : r.end;
  const step = shift ? 0.1 : 1;
  switch (key) {
    case 'ArrowRight':
    case 'ArrowUp':
      return moveEdge(r, edge, at + step, duration);
    case 'ArrowLeft':
    case 'ArrowDown':
      return moveEdge(r, edge, at - step, duration);
    case 'PageUp':
      return moveEdge(r, edge, at + 10, duration);
    case 'PageDown':
      return moveEdge(r, edge, at - 10, duration);
    case 'Home':
      return moveEdge(r, edge, 0, duration);
    case 'End':
      return moveEdge(r, edge, duration, duration);
    case '[':
      return moveEdge(r, 'start', playhead, duration);
    case ']':
      return moveEdge(r, 'end', playhead, duration);
    default:
      return null;
  }
}

/** Audio windows as a run plans them: from the range start (PIPELINE §10), or from 0. */
export function windowsOf(range: TimeRange | null, duration: number, windowSeconds: number): TimeRange[] {
  const from = range?.start ?? 0;
  const to = range ? Math.min(range.end, duration) : duration;
  return windowStarts(to - from, windowSeconds).map((s) => ({ start: from + s, end: Math.min(to, from + s + windowSeconds) }));
}
