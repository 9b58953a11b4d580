import { useEffect, useRef } from 'react';
import { formatTime } from '../lib/format';
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

/** A time ruler, the sampled frames at their timestamps, and the audio waveform with its windows. */
export function Timeline({ duration, frames, waveform, waveformStatus, windowSeconds, onSeek }: Props) {
  const ticks = rulerTicks(duration);
  const n = Math.max(1, frames.length);
  const thumbW = `min(${THUMB_MAX_PX}px, calc(100% / ${n}))`;
  const windows = windowStarts(duration, windowSeconds);
  return (
    <div className="timeline" aria-label="Timeline">
      <div className="ruler" aria-hidden="true">
        {ticks.map((t) => (
          <span key={t} className="tick" style={{ left: `${(t / duration) * 100}%` }}>
            {formatTime(t, duration < 3 ? 1 : 0)}
          </span>
        ))}
      </div>
      <div className="strip-wrap">
        {frames.length > 0 ? (
          <ol className="frame-strip" data-testid="frame-strip" aria-label={`${frames.length} sampled frames`}>
            {frames.map((f, i) => (
              <li
                key={`${i}-${f.timestamp}`}
                className="frame"
                data-testid="frame"
                data-timestamp={f.timestamp.toFixed(3)}
                style={{ width: thumbW, left: `min(${(Math.min(1, f.timestamp / duration) * 100).toFixed(3)}%, calc(100% - ${thumbW}))` }}
              >
                <button type="button" className="frame-button" onClick={() => onSeek?.(f.timestamp)} title={`Frame at ${formatTime(f.timestamp, 2)}: show it in the preview`}>
                  {f.url ? <img src={f.url} alt={`Frame at ${formatTime(f.timestamp, 2)}`} /> : <span className="frame-missing">·</span>}
                  <span className="frame-time">{formatTime(f.timestamp, f.timestamp % 1 ? 1 : 0)}</span>
                </button>
              </li>
            ))}
          </ol>
        ) : (
          <p className="strip-empty muted">The sampled frames appear here when a caption runs.</p>
        )}
      </div>
      <div className="wave-wrap" data-testid="waveform" data-status={waveformStatus}>
        {waveform ? <WaveCanvas waveform={waveform} /> : <p className="muted wave-note">{waveformStatus === 'loading' ? 'Reading the audio…' : 'No waveform: this browser cannot decode the file’s audio here (or there is none).'}</p>}
        {waveformStatus !== 'loading'
          ? windows.map((start, i) => (
              <span key={start} className="audio-window" data-testid="audio-window" style={{ left: `${(start / duration) * 100}%`, width: `${(Math.min(windowSeconds, duration - start) / duration) * 100}%` }}>
                <span className="audio-window-label">
                  {windows.length > 1 ? `window ${i + 1}: ` : 'audio window: '}
                  {formatTime(start, duration < 10 ? 1 : 0)}–{formatTime(Math.min(duration, start + windowSeconds), duration < 10 ? 1 : 0)}
                </span>
              </span>
            ))
          : null}
      </div>
    </div>
  );
}

function rulerTicks(duration: number): number[] {
  const steps = [0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600];
  const step = steps.find((s) => duration / s <= 8) ?? 3600;
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
