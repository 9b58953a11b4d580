/** Exports of one run: plain text, Markdown, and JSON (the full CaptionReport plus facts). */
import { describeOptions } from './settings';
import { captionStats } from './stats';
import { formatBytes, formatMs, formatTimestamp } from './format';
import { STATUS_LABEL, type RunRecord } from './run-record';

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
  };
}

export function toJson(r: RunRecord, now = new Date()): string {
  return `${JSON.stringify(toExport(r, now), null, 2)}\n`;
}

export function toText(r: RunRecord): string {
  const head = r.status === 'done' ? '' : `[${STATUS_LABEL[r.status]}${r.error && r.status === 'error' ? `: ${r.error.message}` : ''}]\n\n`;
  return `${head}${r.caption.trim()}\n`;
}

export function toMarkdown(r: RunRecord): string {
  const stats = captionStats(r.caption);
  const lines = [
    `# Caption of ${r.video.name}`,
    '',
    r.status === 'done' ? '' : `> **${STATUS_LABEL[r.status]}**${r.error ? `: ${r.error.message}` : ''}\n`,
    r.model.randomWeights ? '> Made with a test model with random weights: the text is meaningless.\n' : '',
    r.caption.trim() || '_(no text)_',
    '',
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
export function exportFileName(r: RunRecord, ext: 'txt' | 'md' | 'json'): string {
  const base = r.video.name.replace(/\.[^.]+$/, '').replace(/[^\p{L}\p{N}_-]+/gu, '_').slice(0, 60) || 'caption';
  return `${base}-${r.id}.${ext}`;
}

export const EXPORT_MIME = { txt: 'text/plain;charset=utf-8', md: 'text/markdown;charset=utf-8', json: 'application/json' } as const;
