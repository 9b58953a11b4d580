import { useCallback, useEffect, useMemo, useRef } from 'react';
import { diffWords, type DiffPart } from '../../core/metrics';
import { describeError } from '../lib/errors';
import { formatMs, formatPercent, formatRate, formatTimestamp } from '../lib/format';
import { STATUS_LABEL, type RunRecord } from '../lib/run-record';
import { compareOptions } from '../lib/settings';
import { captionStats, summarizeFlags } from '../lib/stats';
import { useHistory } from '../state/history';
import { kindSummary } from '../lib/export';
import { ClipList, CueList, TurnList } from './RunParts';

/** The frame times of a run: from its report, or the thumbnails of a run that did not finish. */
function frameTimes(r: RunRecord): number[] {
  if (r.kind === 'track' || r.kind === 'long') return []; // each segment / clip had its own frames
  return (r.report?.frames ?? r.thumbnails).map((f) => f.timestamp);
}

/** A failed run has no caption to compare word by word (its partial text is shown as is); a track is compared cue by cue, not by words. */
const inDiff = (r: RunRecord) => r.status !== 'error' && r.kind !== 'track';

/**
 * 2–4 runs side by side: what each run was (model, status, frames, prompt tokens), every
 * setting with the differing ones marked, word diffs of the captions against the first
 * run that did not fail, and metrics. Escape closes it.
 */
export function ComparePanel() {
  const { runs, selected, setComparing } = useHistory();
  const chosen = useMemo(() => selected.map((id) => runs.find((r) => r.id === id)).filter((r): r is RunRecord => Boolean(r)), [runs, selected]);
  const rows = useMemo(() => compareOptions(chosen.map((r) => r.options)), [chosen]);
  const baseIndex = chosen.findIndex(inDiff);
  const diffs = useMemo(
    () => chosen.map((r, i) => (baseIndex < 0 || i === baseIndex || !inDiff(r) ? null : diffWords(chosen[baseIndex].caption, r.caption))),
    [chosen, baseIndex],
  );
  const stats = useMemo(() => chosen.map((r) => captionStats(r.caption)), [chosen]);
  const heading = useRef<HTMLHeadingElement>(null);
  const close = useCallback(() => {
    setComparing(false);
    // Back to where compare was opened from.
    requestAnimationFrame(() => document.querySelector<HTMLElement>('[data-testid="compare-button"]')?.focus());
  }, [setComparing]);
  useEffect(() => {
    heading.current?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape' && !e.defaultPrevented) close();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [close]);
  if (chosen.length < 2) return null;
  const differing = rows.filter((r) => r.differs);
  const label = (i: number) => `Run ${String.fromCharCode(65 + i)}`;
  const columns = chosen.map((r, i) => ({ key: r.id, label: label(i) }));
  const facts: TableRow[] = [
    { key: 'status', label: 'Status', values: chosen.map((r) => STATUS_LABEL[r.status] + (r.error ? `: ${r.error.message}` : '')) },
    { key: 'model', label: 'Model', values: chosen.map((r) => r.model.name + (r.model.randomWeights ? ' (random weights: meaningless text)' : '')) },
    { key: 'backend', label: 'Backend', values: chosen.map((r) => [...new Set(Object.values(r.model.backends))].map((b) => (b === 'webgpu' ? 'WebGPU' : b.toUpperCase())).join(', ') || '—') },
    { key: 'kind', label: 'Kind', values: chosen.map((r) => kindSummary(r)) },
    { key: 'turns', label: 'Follow-up questions', values: chosen.map((r) => String(r.turns.length)) },
    { key: 'video', label: 'Video', values: chosen.map((r) => `${r.video.name}${r.video.duration ? `, ${formatTimestamp(r.video.duration)}` : ''}`) },
    { key: 'frames', label: 'Frames', values: chosen.map((r) => String(frameTimes(r).length)) },
    { key: 'frameTimes', label: 'Frame times', values: chosen.map((r) => frameTimes(r).map(formatTimestamp).join(' ') || '—') },
    { key: 'audioWindows', label: 'Audio windows', values: chosen.map((r) => (r.report ? (r.report.audio.used ? String(r.report.audio.windows) : 'not used') : '—')) },
    { key: 'promptTokens', label: 'Prompt tokens', values: chosen.map((r) => (r.report ? String(r.report.promptTokens) : '—')) },
    { key: 'date', label: 'Started', values: chosen.map((r) => new Date(r.createdAt).toLocaleString()) },
  ];

  return (
    <section className="panel compare" aria-labelledby="compare-h" data-testid="compare">
      <div className="row">
        <h2 id="compare-h" className="grow" tabIndex={-1} ref={heading}>
          Compare {chosen.length} runs
        </h2>
        <button type="button" className="secondary" onClick={close} aria-keyshortcuts="Escape" data-testid="compare-close">
          Close
        </button>
      </div>

      <h3>Runs</h3>
      <RunTable testId="run-facts" corner="" columns={columns} rows={facts.map((f) => ({ ...f, testId: 'fact-row' }))} />

      <h3>Settings</h3>
      {differing.length === 0 ? (
        <p className="muted" data-testid="no-setting-diff">
          All settings are the same.
        </p>
      ) : (
        <p className="small" data-testid="settings-differ">
          {differing.length} {differing.length === 1 ? 'setting differs' : 'settings differ'} (marked ≠): {differing.map((r) => r.label).join(', ')}.
        </p>
      )}
      <RunTable
        testId="settings-table"
        corner="Setting"
        columns={columns}
        rows={rows.map((row) => ({
          key: row.key,
          label: row.differs ? `≠ ${row.label}` : row.label,
          values: row.values,
          // "setting-row": a setting whose values differ between the runs.
          testId: row.differs ? 'setting-row' : 'setting-same',
          differs: row.differs,
        }))}
      />

      <h3>Captions</h3>
      {baseIndex >= 0 && chosen.some((r, i) => i !== baseIndex && inDiff(r)) ? (
        <p className="small muted" data-testid="diff-legend">
          Differences from {label(baseIndex)}: <ins>added words</ins> and <del>removed words</del>. Failed runs are not compared word by word.
        </p>
      ) : (
        <p className="small muted" data-testid="diff-legend">
          No word diff: fewer than two of these runs finished.
        </p>
      )}
      <div className="compare-grid" style={{ ['--cols' as string]: chosen.length }}>
        {chosen.map((r, i) => (
          <article key={r.id} className="compare-col" data-testid="compare-col" data-status={r.status} aria-label={label(i)}>
            <h4>
              {label(i)} <span className={`badge status-badge status-${r.status}`}>{STATUS_LABEL[r.status]}</span>
            </h4>
            <p className="small">
              <span data-testid="compare-model">{r.model.name}</span>
              {r.model.randomWeights ? <span className="badge badge-warn">random weights</span> : null}
            </p>
            <p className="small muted">
              {r.video.name} · {new Date(r.createdAt).toLocaleString()}
            </p>
            {r.status === 'error' && r.error ? (
              <p className="small compare-error" data-testid="compare-error">
                {describeError(r.error).title}: {r.error.message}
              </p>
            ) : null}
            {r.kind === 'track' && r.track ? (
              <CueList cues={r.track.cues} />
            ) : (
              <div className="caption-text compare-text" data-testid="compare-text">
                {diffs[i] ? <DiffText parts={diffs[i]} /> : r.caption || '(no text)'}
              </div>
            )}
            {r.kind === 'long' && r.long ? <ClipList clips={r.long.clips.map((c) => ({ start: c.start, end: c.end, text: c.caption }))} /> : null}
            {r.turns.length ? <TurnList turns={r.turns} /> : null}
          </article>
        ))}
      </div>

      <h3>Metrics</h3>
      <RunTable
        testId="metrics-table"
        corner="Metric"
        columns={columns}
        rows={[
          { key: 'words', label: 'Words', values: stats.map((st) => String(st.words)) },
          { key: 'repetition', label: 'Repetition rate', values: stats.map((st) => formatPercent(st.repetition)) },
          { key: 'loops', label: 'Loop rate', values: stats.map((st) => formatPercent(st.loops)) },
          { key: 'flags', label: 'Unnatural patterns', values: stats.map((st) => summarizeFlags(st.flags)) },
          { key: 'rate', label: 'Tokens/s', values: chosen.map((r) => formatRate(r.tokensPerSecond)) },
          { key: 'time', label: 'Time', values: chosen.map((r) => formatMs(r.wallMs)) },
        ]}
      />
    </section>
  );
}

interface TableRow {
  key: string;
  label: string;
  values: string[];
  testId?: string;
  differs?: boolean;
}

/** One row per setting or metric, one column per run. */
function RunTable({ testId, corner, columns, rows }: { testId: string; corner: string; columns: { key: string; label: string }[]; rows: TableRow[] }) {
  return (
    <div className="table-wrap">
      <table data-testid={testId}>
        <thead>
          <tr>
            <th scope="col">{corner}</th>
            {columns.map((c) => (
              <th scope="col" key={c.key}>
                {c.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.key} data-testid={row.testId} data-key={row.key} className={row.differs ? 'differs' : undefined}>
              <th scope="row">{row.label}</th>
              {row.values.map((v, i) => (
                <td key={i}>{v}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function DiffText({ parts }: { parts: DiffPart[] }) {
  return (
    <>
      {parts.map((p, i) => {
        const sep = i > 0 ? ' ' : '';
        if (p.op === 'same') return <span key={i}>{sep + p.text}</span>;
        if (p.op === 'added')
          return (
            <span key={i}>
              {sep}
              <ins data-testid="diff-added">{p.text}</ins>
            </span>
          );
        return (
          <span key={i}>
            {sep}
            <del data-testid="diff-removed">{p.text}</del>
          </span>
        );
      })}
    </>
  );
}
