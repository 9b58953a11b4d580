import { useMemo } from 'react';
import { diffWords, type DiffPart } from '../../core/metrics';
import { formatMs, formatPercent, formatRate } from '../lib/format';
import { STATUS_LABEL, type RunRecord } from '../lib/run-record';
import { compareOptions } from '../lib/settings';
import { captionStats } from '../lib/stats';
import { useHistory } from '../state/history';

/** 2–4 runs side by side: differing settings, word-level caption diffs, metrics. */
export function ComparePanel() {
  const { runs, selected, setComparing } = useHistory();
  const chosen = useMemo(() => selected.map((id) => runs.find((r) => r.id === id)).filter((r): r is RunRecord => Boolean(r)), [runs, selected]);
  const rows = useMemo(
    () =>
      compareOptions(
        chosen.map((r) => r.options),
        [
          { key: 'model', label: 'Model', values: chosen.map((r) => r.model.name) },
          { key: 'backend', label: 'Backend', values: chosen.map((r) => [...new Set(Object.values(r.model.backends))].join(', ') || '—') },
          { key: 'video', label: 'Video', values: chosen.map((r) => r.video.name) },
        ],
      ),
    [chosen],
  );
  const diffs = useMemo(() => chosen.map((r, i) => (i === 0 ? null : diffWords(chosen[0].caption, r.caption))), [chosen]);
  const stats = useMemo(() => chosen.map((r) => captionStats(r.caption)), [chosen]);
  if (chosen.length < 2) return null;
  const differing = rows.filter((r) => r.differs);
  const label = (i: number) => `Run ${String.fromCharCode(65 + i)}`;

  return (
    <section className="panel compare" aria-labelledby="compare-h" data-testid="compare">
      <div className="row">
        <h2 id="compare-h" className="grow">
          Compare {chosen.length} runs
        </h2>
        <button type="button" className="secondary" onClick={() => setComparing(false)}>
          Close
        </button>
      </div>

      <h3>Settings that differ</h3>
      {differing.length === 0 ? (
        <p className="muted" data-testid="no-setting-diff">
          All settings are the same.
        </p>
      ) : (
        <RunTable
          testId="settings-diff"
          corner="Setting"
          columns={chosen.map((r, i) => ({ key: r.id, label: label(i) }))}
          rows={differing.map((row) => ({ key: row.key, label: row.label, values: row.values, testId: 'setting-row' }))}
        />
      )}

      <h3>Captions</h3>
      <p className="small muted">
        Differences from {label(0)}: <ins>added words</ins> and <del>removed words</del>.
      </p>
      <div className="compare-grid" style={{ ['--cols' as string]: chosen.length }}>
        {chosen.map((r, i) => (
          <article key={r.id} className="compare-col" data-testid="compare-col" aria-label={label(i)}>
            <h4>
              {label(i)} <span className={`badge status-badge status-${r.status}`}>{STATUS_LABEL[r.status]}</span>
            </h4>
            <p className="small muted">
              {r.video.name} · {new Date(r.createdAt).toLocaleString()}
            </p>
            <div className="caption-text compare-text" data-testid="compare-text">
              {i === 0 ? r.caption || '(no text)' : <DiffText parts={diffs[i]!} />}
            </div>
          </article>
        ))}
      </div>

      <h3>Metrics</h3>
      <RunTable
        testId="metrics-table"
        corner="Metric"
        columns={chosen.map((r, i) => ({ key: r.id, label: label(i) }))}
        rows={[
          { key: 'words', label: 'Words', values: stats.map((st) => String(st.words)) },
          { key: 'repetition', label: 'Repetition rate', values: stats.map((st) => formatPercent(st.repetition)) },
          { key: 'flags', label: 'Unnatural patterns', values: stats.map((st) => String(st.flags.length)) },
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
            <tr key={row.key} data-testid={row.testId} data-key={row.key}>
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
