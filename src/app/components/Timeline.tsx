import { useEffect, useRef, useState, type RefObject } from 'react';
import { formatTimestamp } from '../lib/format';
import { windowStarts, type Waveform } from '../lib/waveform';

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
}

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
 * windows. Labels are laid out for the measured width: at 360 px only every k-th frame
 * gets its time (all of them keep it in their tooltip), and window labels shorten to fit.
 */
export function Timeline({ duration, frames, waveform, waveformStatus, windowSeconds, onSeek }: Props) {
  const [ref, width] = useWidth<HTMLDivElement>();
  const px = width || 640;
  // A tick whose label would run past the right edge is left out.
  const ticks = rulerTicks(duration, Math.max(2, Math.floor(px / (LABEL_PX + 8)))).filter((t) => (t / duration) * px + LABEL_PX <= px);
  const n = Math.max(1, frames.length);
  const thumbPx = Math.min(THUMB_MAX_PX, px / n);
  const frameLeftPx = (t: number) => Math.min((Math.min(1, t / duration) * px), px - thumbPx);
  // Label every k-th frame so that labels never overlap (frames can be closer than their width).
  let minGap = Infinity;
  for (let i = 1; i < frames.length; i++) minGap = Math.min(minGap, frameLeftPx(frames[i].timestamp) - frameLeftPx(frames[i - 1].timestamp));
  const every = frames.length < 2 ? 1 : Math.max(1, Math.ceil(LABEL_PX / Math.max(1, Math.min(minGap, thumbPx))));
  const windows = windowStarts(duration, windowSeconds);
  return (
    <div className="timeline" aria-label="Timeline" ref={ref}>
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
                i % every === 0 ? (
                  <span
                    key={`${i}-${f.timestamp}`}
                    className="frame-time"
                    data-testid="frame-time"
                    style={{ left: `${Math.min(px - LABEL_PX / 2, Math.max(LABEL_PX / 2, frameLeftPx(f.timestamp) + thumbPx / 2))}px` }}
                  >
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
        {waveform ? <WaveCanvas waveform={waveform} /> : <p className="muted wave-note">{waveformStatus === 'loading' ? 'Reading the audio…' : 'No waveform: this browser cannot decode the file’s audio here (or there is none).'}</p>}
        {waveformStatus !== 'loading'
          ? windows.map((start, i) => {
              const end = Math.min(duration, start + windowSeconds);
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
}

function rulerTicks(duration: number, maxTicks: number): number[] {
  const steps = [0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600];
  const step = steps.find((s) => duration / s <= Math.min(8, maxTicks)) ?? 3600;
  const out: number[] = [];
  for (let i = 0; i * step < duration - step * 0.3; i++) out.push(Math.round(i * step * 1000) / 1000);
  return out;
}

function WaveCanvas({ waveform }: { waveform: Waveform }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const canvas = ref.current;
    const ctx = canvas?.getContext('2d');
    if (!canvas || !ctx) return;
    const draw = () => {
      const w = canvas.clientWidth;
      const h = canvas.clientHeight;
      const dpr = window.devicePixelRatio || 1;
      canvas.width = Math.max(1, Math.round(w * dpr));
      canvas.height = Math.max(1, Math.round(h * dpr));
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.clearRect(0, 0, w, h);
      ctx.fillStyle = getComputedStyle(canvas).color;
      const buckets = waveform.peaks.length / 2;
      let peak = 0;
      for (const v of waveform.peaks) peak = Math.max(peak, Math.abs(v));
      const scale = peak > 0 ? (h / 2) / peak : 0;
      for (let x = 0; x < w; x++) {
        const b = Math.min(buckets - 1, Math.floor((x / w) * buckets));
        const lo = waveform.peaks[2 * b];
        const hi = waveform.peaks[2 * b + 1];
        const y0 = h / 2 - hi * scale;
        const y1 = h / 2 - lo * scale;
        ctx.fillRect(x, y0, 1, Math.max(1, y1 - y0));
      }
    };
    draw();
    const ro = new ResizeObserver(draw);
    ro.observe(canvas);
    return () => ro.disconnect();
  }, [waveform]);
  return <canvas ref={ref} className="wave" aria-label="Audio waveform" role="img" />;
}
