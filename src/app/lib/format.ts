/** Small formatting helpers for the views (pure). */

export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${units[i]}`;
}

/** 75.3 → "1:15.3"; 4 → "0:04". */
export function formatTime(seconds: number | null | undefined, decimals = 0): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—';
  const s = Math.max(0, seconds);
  const m = Math.floor(s / 60);
  const rest = s - m * 60;
  const sec = decimals > 0 ? rest.toFixed(decimals).padStart(3 + decimals, '0') : String(Math.floor(rest)).padStart(2, '0');
  const h = Math.floor(m / 60);
  return h > 0 ? `${h}:${String(m % 60).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

/**
 * Every time position the app shows (frames, ruler, audio windows, durations): m:ss.s,
 * always one decimal, so "0:28.4 0:31.0 1:02.0" read alike (h:mm:ss.s from an hour).
 */
export function formatTimestamp(seconds: number | null | undefined): string {
  return formatTime(seconds, 1);
}

export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

export function formatPercent(x: number | null | undefined, decimals = 1): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '—';
  return `${(x * 100).toFixed(decimals)} %`;
}

export function formatRate(tps: number | null | undefined): string {
  if (tps === null || tps === undefined || !Number.isFinite(tps) || tps <= 0) return '—';
  return `${tps.toFixed(tps < 10 ? 1 : 0)} tok/s`;
}

/**
 * A time typed by the user: "75", "75.5", "1:15", "1:15.5" or "1:01:15" → seconds; null
 * for anything else (the caller says what is wrong).
 */
export function parseClock(text: string): number | null {
  const t = text.trim();
  if (!/^(\d+:){0,2}\d+(\.\d+)?$/.test(t)) return null;
  const parts = t.split(':').map(Number);
  if (parts.slice(1).some((p) => p >= 60)) return null;
  return parts.reduce((acc, p) => acc * 60 + p, 0);
}
