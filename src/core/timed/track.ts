/**
 * Caption tracks: the video cut into segments (each captioned as a local caption), the
 * captions as cues, written and read as WebVTT and SubRip. Pure; times in seconds.
 */

export interface TimeRange {
  start: number;
  end: number;
}

export interface Cue extends TimeRange {
  text: string;
}

/**
 * Consecutive segments of `length` s covering [0, duration]: no gaps, no overlaps; the last
 * one is shorter (a tail under a quarter of `length` joins the previous segment instead of
 * becoming a sliver of its own).
 */
export function segmentsOf(duration: number, length: number): TimeRange[] {
  if (!(duration > 0)) return [];
  if (!(length > 0)) throw new RangeError(`segment length must be positive, got ${length}`);
  const out: TimeRange[] = [];
  for (let start = 0; start < duration - 1e-9; start += length) out.push({ start, end: Math.min(duration, start + length) });
  const last = out[out.length - 1];
  if (out.length > 1 && last.end - last.start < length / 4) {
    out.pop();
    out[out.length - 1].end = duration;
  }
  return out;
}

/** Overlapping clips of `length` s every `stride` s (LongCaptioning: 10 s windows, 5 s stride; PIPELINE §10). */
export function clipsOf(duration: number, length: number, stride: number): TimeRange[] {
  if (!(duration > 0)) return [];
  if (!(stride > 0) || !(length >= stride)) throw new RangeError(`clips need 0 < stride ≤ length (got length ${length}, stride ${stride})`);
  const out: TimeRange[] = [];
  for (let start = 0; ; start += stride) {
    const end = Math.min(duration, start + length);
    out.push({ start, end });
    if (end >= duration - 1e-9) break;
  }
  return out;
}

/** hh:mm:ss.mmm (WebVTT) or hh:mm:ss,mmm (SRT), rounded to the millisecond. */
export function timecode(seconds: number, separator: '.' | ','): string {
  const ms = Math.max(0, Math.round(seconds * 1000));
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = Math.floor((ms % 60_000) / 1000);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(h)}:${pad(m)}:${pad(s)}${separator}${pad(ms % 1000, 3)}`;
}

/** Cue text as one block: no blank lines (they end a cue), no "-->" (it starts a timing line). */
function cueText(text: string): string {
  return text
    .replace(/-->/g, '→')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0)
    .join('\n');
}

export function toWebVtt(cues: readonly Cue[]): string {
  const body = cues.map((c, i) => `${i + 1}\n${timecode(c.start, '.')} --> ${timecode(c.end, '.')}\n${cueText(c.text) || '…'}`);
  return ['WEBVTT', '', ...body.flatMap((b) => [b, ''])].join('\n');
}

export function toSrt(cues: readonly Cue[]): string {
  return cues.map((c, i) => `${i + 1}\n${timecode(c.start, ',')} --> ${timecode(c.end, ',')}\n${cueText(c.text) || '…'}\n`).join('\n');
}

const TIME = /(?:(\d+):)?(\d{2}):(\d{2})[.,](\d{3})/;

function parseTime(t: string): number {
  const m = TIME.exec(t.trim());
  if (!m) throw new SyntaxError(`not a timecode: "${t}"`);
  return (Number(m[1] ?? 0) * 3600 + Number(m[2]) * 60 + Number(m[3])) * 1000 + Number(m[4]);
}

/** Parses WebVTT or SRT cues (identifiers optional, settings after the end time ignored). */
export function parseCues(text: string): Cue[] {
  const blocks = text.replace(/\r\n/g, '\n').split(/\n{2,}/);
  const cues: Cue[] = [];
  for (const block of blocks) {
    const lines = block.split('\n').filter((l) => l.length > 0);
    const at = lines.findIndex((l) => l.includes('-->'));
    if (at < 0) continue; // header, NOTE, STYLE
    const [a, b] = lines[at].split('-->');
    cues.push({ start: parseTime(a) / 1000, end: parseTime(b.trim().split(/\s+/)[0]) / 1000, text: lines.slice(at + 1).join('\n') });
  }
  return cues;
}
