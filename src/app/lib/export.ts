/** Exports of one run: plain text, Markdown, and JSON (the full CaptionReport plus facts). */
import { describeOptions } from './settings';
import { captionStats } from './stats';
import { formatBytes, formatMs, formatTimestamp } from './format';
import { KIND_LABEL, STATUS_LABEL, type RunRecord } from './run-record';
import { toSrt, toWebVtt } from '../../core/timed/track';

export const EXPORT_FORMAT = 'salmonn-captioner-run';
export const EXPORT_VERSION = 1;

export interface RunExport {
  format: typeof EXPORT_FORMAT;
  version: typeof EXPORT_VERSION;
  exportedAt: string;
  run: { id: string; createdAt: string; status: RunRecord['status']; tokensPerSecond: number; wallMs: number };
  caption: string;
  settings: RunRecord['options'];
  model: RunRecord['model'];
  video: RunRecord['video'];
  metrics: { words: number; repetitionRate: number; loopRate: number; flags: { kind: string; text: string; index: number }[] };
  /** The full CaptionReport (null for a run that failed before it finished). */
  report: RunRecord['report'];
  error: RunRecord['error'];
  frames: { timestamp: number }[];
  /** What the run made: 'global', 'local' (with its range) or 'track' (with its cues). */
  kind: RunRecord['kind'];
  range: RunRecord['range'];
  track: RunRecord['track'];
  /** A long caption's clip captions, set-up and scores (null for other kinds). */
  long: NonNullable<RunRecord['long']> | null;
  /** The follow-up questions after the caption, in order. */
  turns: RunRecord['turns'];
}

export function toExport(r: RunRecord, now = new Date()): RunExport {
  const stats = captionStats(r.caption);
  return {
    format: EXPORT_FORMAT,
    version: EXPORT_VERSION,
    exportedAt: now.toISOString(),
    run: { id: r.id, createdAt: new Date(r.createdAt).toISOString(), status: r.status, tokensPerSecond: r.tokensPerSecond, wallMs: r.wallMs },
    caption: r.caption,
    settings: r.options,
    model: r.model,
    video: r.video,
    metrics: { words: stats.words, repetitionRate: stats.repetition, loopRate: stats.loops, flags: stats.flags },
    report: r.report,
    error: r.error,
    frames: r.thumbnails.map((t) => ({ timestamp: t.timestamp })),
    kind: r.kind,
    range: r.range,
    track: r.track,
    long: r.long ?? null,
    turns: r.turns,
  };
}

export function toJson(r: RunRecord, now = new Date()): string {
  return `${JSON.stringify(toExport(r, now), null, 2)}\n`;
}

/** "0:03.0–0:07.0". */
export const formatRange = (range: { start: number; end: number }) => `${formatTimestamp(range.start)}–${formatTimestamp(range.end)}`;

/** The caption as text lines: a track's cues with their times. */
function body(r: RunRecord): string {
  if (r.kind === 'track' && r.track) return r.track.cues.map((c) => `[${formatRange(c)}] ${c.text.replace(/\s*\n\s*/g, ' ')}`).join('\n');
  if (r.kind === 'long' && r.long) return [r.caption.trim(), '', 'Clip captions:', ...clipLines(r.long)].join('\n').trim();
  return r.caption.trim();
}

const clipLines = (long: NonNullable<RunRecord['long']>) => long.clips.map((c) => `[${formatRange(c)}] ${c.caption.replace(/\s*\n\s*/g, ' ')}`);

/** "2 of 3 scene segments" / "3 of 3 segments of 5 s". */
const trackExtent = (t: NonNullable<RunRecord['track']>) => (t.segmentation === 'scenes' ? `${t.cues.length} of ${t.segments} scene segments` : `${t.cues.length} of ${t.segments} segments of ${t.seconds} s`);
const longExtent = (l: NonNullable<RunRecord['long']>) => `about ${l.targetWords} words from ${l.clips.length} of ${l.total} clips of ${l.clipSeconds} s every ${l.strideSeconds} s`;

/** The conversation after the caption, as "Q: … / A: …" blocks. */
function turnsText(r: RunRecord, md: boolean): string[] {
  return r.turns.flatMap((t, i) => [
    md ? `**Q${i + 1}:** ${t.question}` : `Q${i + 1}: ${t.question}`,
    '',
    `${md ? `**A${i + 1}:**` : `A${i + 1}:`} ${t.answer.trim() || '(no text)'}${t.status === 'done' ? '' : ` [${STATUS_LABEL[t.status]}]`}`,
    '',
  ]);
}

export function toText(r: RunRecord): string {
  const head = r.status === 'done' ? '' : `[${STATUS_LABEL[r.status]}${r.error && r.status === 'error' ? `: ${r.error.message}` : ''}]\n\n`;
  const what = r.kind === 'global' ? '' : r.kind === 'local' && r.range ? `[local caption of ${formatRange(r.range)}]\n\n` : r.track ? `[caption track: ${trackExtent(r.track)}]\n\n` : r.long ? `[long caption: ${longExtent(r.long)}]\n\n` : '';
  const turns = r.turns.length ? `\n\n${turnsText(r, false).join('\n').trimEnd()}` : '';
  return `${head}${what}${body(r)}${turns}\n`;
}

/** The track's cues as WebVTT or SubRip (the cues done so far of a cancelled track). */
export function toTrackFile(r: RunRecord, ext: 'vtt' | 'srt'): string {
  const cues = r.track?.cues ?? [];
  return ext === 'vtt' ? toWebVtt(cues) : toSrt(cues);
}

export function toMarkdown(r: RunRecord): string {
  const stats = captionStats(r.caption);
  const lines = [
    `# ${r.kind === 'track' ? 'Caption track' : r.kind === 'local' ? 'Local caption' : r.kind === 'long' ? 'Long caption' : 'Caption'} of ${r.video.name}`,
    '',
    r.status === 'done' ? '' : `> **${STATUS_LABEL[r.status]}**${r.error ? `: ${r.error.message}` : ''}\n`,
    r.model.randomWeights ? '> Made with a test model with random weights: the text is meaningless.\n' : '',
    ...(r.kind === 'local' && r.range ? [`Time range: **${formatRange(r.range)}**\n`] : []),
    ...(r.kind === 'track' && r.track ? [`${trackExtent(r.track)}; prompt: “${r.track.prompt}”\n`] : []),
    ...(r.kind === 'long' && r.long ? [`${longExtent(r.long)}\n`] : []),
    (r.kind === 'track' ? r.track?.cues.map((c) => `- **${formatRange(c)}** ${c.text.replace(/\s*\n\s*/g, ' ')}`).join('\n') : r.caption.trim()) || '_(no text)_',
    '',
    ...(r.kind === 'long' && r.long ? ['## Clip captions', '', ...r.long.clips.map((c) => `- **${formatRange(c)}** ${c.caption.replace(/\s*\n\s*/g, ' ')}`), ''] : []),
    ...(r.turns.length ? ['## Conversation', '', ...turnsText(r, true)] : []),
    '## Run',
    '',
    `| | |`,
    `|---|---|`,
    `| Date | ${new Date(r.createdAt).toISOString()} |`,
    `| Model | ${r.model.name} (${r.model.source}) |`,
    ...(r.model.label ? [`| Made with | ${r.model.label} |`] : []),
    `| Backend | ${Object.entries(r.model.backends).map(([g, b]) => `${g}: ${b}`).join(', ') || '—'} |`,
    `| Video | ${r.video.name}, ${formatBytes(r.video.bytes)}, ${formatTimestamp(r.video.duration)} |`,
    `| Words | ${stats.words} |`,
    `| Repetition rate | ${(stats.repetition * 100).toFixed(1)} % |`,
    `| Loop rate | ${(stats.loops * 100).toFixed(1)} % |`,
    `| Tokens/s | ${r.tokensPerSecond.toFixed(1)} |`,
    `| Time | ${formatMs(r.wallMs)} |`,
    '',
    '## Settings',
    '',
    ...describeOptions(r.options).map((o) => `- **${o.label}:** ${o.value.replace(/\n/g, ' ')}`),
    '',
  ];
  return lines.filter((l, i) => !(l === '' && lines[i - 1] === '')).join('\n');
}

/** A safe file name: "clip.mp4" + run id → "clip-<id>.md". */
export function exportFileName(r: RunRecord, ext: 'txt' | 'md' | 'json' | 'vtt' | 'srt'): string {
  const base = r.video.name.replace(/\.[^.]+$/, '').replace(/[^\p{L}\p{N}_-]+/gu, '_').slice(0, 60) || 'caption';
  return `${base}-${r.id}.${ext}`;
}

export const EXPORT_MIME = { txt: 'text/plain;charset=utf-8', md: 'text/markdown;charset=utf-8', json: 'application/json', vtt: 'text/vtt;charset=utf-8', srt: 'application/x-subrip;charset=utf-8' } as const;

/** "caption track (3 cues)", "local caption 0:03.0–0:07.0", "caption" — the run's kind for lists. */
export function kindSummary(r: Pick<RunRecord, 'kind' | 'range' | 'track' | 'long'>): string {
  if (r.kind === 'local' && r.range) return `${KIND_LABEL.local} ${formatRange(r.range)}`;
  if (r.kind === 'track' && r.track) return `${KIND_LABEL.track} (${r.track.cues.length} of ${r.track.segments} ${r.track.segmentation === 'scenes' ? 'scene segments' : `segments, ${r.track.seconds} s each`})`;
  if (r.kind === 'long' && r.long) return `${KIND_LABEL.long} (${r.long.clips.length} of ${r.long.total} clips, ${r.long.targetWords} words target)`;
  return KIND_LABEL[r.kind];
}
