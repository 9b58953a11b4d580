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
        <div className="table-wrap">
          <table data-testid="settings-diff">
            <thead>
              <tr>
                <th scope="col">Setting</th>
                {chosen.map((r, i) => (
                  <th scope="col" key={r.id}>
                    {label(i)}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {differing.map((row) => (
                <tr key={row.key} data-testid="setting-row" data-key={row.key}>
                  <th scope="row">{row.label}</th>
                  {row.values.map((v, i) => (
                    <td key={i}>{v}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
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
      <div className="table-wrap">
        <table data-testid="metrics-table">
          <thead>
            <tr>
              <th scope="col">Metric</th>
              {chosen.map((r, i) => (
                <th scope="col" key={r.id}>
                  {label(i)}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            <tr>
              <th scope="row">Words</th>
              {stats.map((s, i) => (
                <td key={i}>{s.words}</td>
              ))}
            </tr>
            <tr>
              <th scope="row">Repetition rate</th>
              {stats.map((s, i) => (
                <td key={i}>{formatPercent(s.repetition)}</td>
              ))}
            </tr>
            <tr>
              <th scope="row">Unnatural patterns</th>
              {stats.map((s, i) => (
                <td key={i}>{s.flags.length}</td>
              ))}
            </tr>
            <tr>
              <th scope="row">Tokens/s</th>
              {chosen.map((r) => (
                <td key={r.id}>{formatRate(r.tokensPerSecond)}</td>
              ))}
            </tr>
            <tr>
              <th scope="row">Time</th>
              {chosen.map((r) => (
                <td key={r.id}>{formatMs(r.wallMs)}</td>
              ))}
            </tr>
          </tbody>
        </table>
      </div>
    </section>
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
