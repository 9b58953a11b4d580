import { useRef, useState } from 'react';
import { formatBytes, formatMs, formatTimestamp } from '../lib/format';
import { summarizeOptions } from '../lib/settings';
import { kindSummary } from '../lib/export';
import { STATUS_LABEL, type RunRecord } from '../lib/run-record';
import { wordCount } from '../../core/metrics';
import { MAX_COMPARE, useHistory } from '../state/history';
import { ErrorNotice } from './ErrorNotice';
import { ExportButtons } from './ExportButtons';
import { CaptionView } from './RunPanel';
import { BlobImage } from './BlobImage';
import { ClipList, CueList, TurnList } from './RunParts';

/** Every run (IndexedDB), newest first: open, delete (with undo), choose 2–4 to compare. */
export function HistoryPanel() {
  const { runs, status, selected, toggleSelected, setComparing, remove, clear, add } = useHistory();
  const [open, setOpen] = useState<string | null>(null);
  const [confirmClear, setConfirmClear] = useState(false);
  /** The last run deleted one by one, until it is restored or another is deleted. */
  const [deleted, setDeleted] = useState<RunRecord | null>(null);
  const undoButton = useRef<HTMLButtonElement>(null);
  const end = useRef<HTMLParagraphElement>(null);
  const deleteRun = (run: RunRecord) => {
    void remove(run.id);
    setDeleted(run);
    if (open === run.id) setOpen(null);
    // The row's own button is gone: keep the keyboard focus nearby, on Undo.
    requestAnimationFrame(() => undoButton.current?.focus());
  };

  return (
    <section className="panel" aria-labelledby="history-h">
      <div className="row wrap">
        <h2 id="history-h" className="grow">
          History <span className="muted small">({runs.length})</span>
        </h2>
        <button type="button" data-testid="compare-button" disabled={selected.length < 2} onClick={() => setComparing(true)}>
          Compare selected ({selected.length})
        </button>
        {confirmClear ? (
          <>
            <button
              type="button"
              className="danger"
              data-testid="confirm-clear"
              onClick={() => {
                void clear();
                setConfirmClear(false);
                setDeleted(null);
              }}
            >
              Delete all {runs.length} runs
            </button>
            <button type="button" className="secondary" onClick={() => setConfirmClear(false)}>
              Keep them
            </button>
          </>
        ) : (
          <button type="button" className="secondary" data-testid="clear-history" disabled={runs.length === 0} onClick={() => setConfirmClear(true)}>
            Delete all
          </button>
        )}
      </div>
      {status === 'loading' ? <p className="muted">Reading the history…</p> : null}
      {status === 'ready' && runs.length === 0 ? <p className="muted">No runs yet. Every caption run is kept here, in this browser only.</p> : null}
      <p className="small muted">Tick 2–{MAX_COMPARE} runs to compare them side by side.</p>
      {deleted ? (
        <div className="notice notice-info row wrap" role="status" data-testid="undo-delete">
          <span className="grow">
            Deleted the run of {deleted.video.name} ({new Date(deleted.createdAt).toLocaleString()}).
          </span>
          <button
            type="button"
            className="secondary small"
            ref={undoButton}
            data-testid="undo-delete-button"
            onClick={() => {
              void add(deleted);
              setDeleted(null);
            }}
          >
            Undo
          </button>
          <button type="button" className="secondary small" onClick={() => setDeleted(null)} aria-label="Dismiss: keep the run deleted">
            Dismiss
          </button>
        </div>
      ) : null}
      {runs.length > 1 ? (
        <a
          className="skip-inline"
          href="#history-end"
          data-testid="skip-history"
          onClick={(e) => {
            e.preventDefault();
            end.current?.focus();
          }}
        >
          Skip past the {runs.length} runs
        </a>
      ) : null}
      <ul className="plain history" data-testid="history">
        {runs.map((r) => (
          <HistoryItem
            key={r.id}
            run={r}
            selected={selected.includes(r.id)}
            canSelect={selected.includes(r.id) || selected.length < MAX_COMPARE}
            open={open === r.id}
            onToggleOpen={() => setOpen(open === r.id ? null : r.id)}
            onSelect={() => toggleSelected(r.id)}
            onDelete={() => deleteRun(r)}
          />
        ))}
      </ul>
      <p id="history-end" className="visually-hidden" tabIndex={-1} ref={end}>
        End of the history.
      </p>
    </section>
  );
}

interface ItemProps {
  run: RunRecord;
  selected: boolean;
  canSelect: boolean;
  open: boolean;
  onToggleOpen: () => void;
  onSelect: () => void;
  onDelete: () => void;
}

function HistoryItem({ run, selected, canSelect, open, onToggleOpen, onSelect, onDelete }: ItemProps) {
  const thumb = run.thumbnails.find((t) => t.blob)?.blob ?? null;
  const when = new Date(run.createdAt);
  const title = `${run.video.name}, ${when.toLocaleString()}`;
  return (
    <li className={`history-item run-${run.status}`} data-testid="history-item" data-run-id={run.id} data-status={run.status}>
      <div className="history-row">
        <input type="checkbox" checked={selected} disabled={!canSelect} onChange={onSelect} aria-label={`Select for compare: ${title}`} data-testid="history-select" />
        <div className="history-thumb">{thumb ? <BlobImage blob={thumb} alt="" /> : <span aria-hidden="true">▶</span>}</div>
        <div className="grow history-main">
          <div>
            <strong data-testid="history-video">{run.video.name}</strong> <span className={`badge status-badge status-${run.status}`}>{STATUS_LABEL[run.status]}</span>
          </div>
          <div className="small muted">
            {when.toLocaleString()} · {run.model.name} · {formatBytes(run.video.bytes)}
            {run.video.duration ? ` · ${formatTimestamp(run.video.duration)}` : ''} · {wordCount(run.caption)} words · {formatMs(run.wallMs)}
          </div>
          <div className="small history-settings" data-testid="history-settings">
            <span data-testid="history-kind" data-kind={run.kind}>
              {kindSummary(run)}
            </span>
            {run.turns.length ? <span data-testid="history-turns"> · {run.turns.length} follow-up question{run.turns.length === 1 ? '' : 's'}</span> : null}
            {' · '}
            {summarizeOptions(run.options)}
            {run.report?.audio.note ? <span className="muted"> · {run.report.audio.note}</span> : null}
          </div>
          <p className="excerpt" data-testid="history-excerpt">
            {run.caption ? run.caption.slice(0, 160) + (run.caption.length > 160 ? '…' : '') : run.error ? run.error.message : '(no text)'}
          </p>
        </div>
        <div className="history-actions">
          <button type="button" className="secondary small" onClick={onToggleOpen} aria-expanded={open} aria-label={`${open ? 'Hide' : 'Show'} run ${title}`}>
            {open ? 'Hide' : 'Show'}
          </button>
          <button type="button" className="secondary small" onClick={onDelete} aria-label={`Delete run ${title}`} data-testid="history-delete">
            Delete
          </button>
        </div>
      </div>
      {open ? (
        <div className="history-detail">
          {run.error && run.status === 'error' ? <ErrorNotice error={run.error} /> : null}
          {run.kind === 'track' && run.track ? <CueList cues={run.track.cues} /> : <CaptionView text={run.caption} running={false} tokensPerSecond={run.tokensPerSecond} wallMs={run.wallMs} />}
          {run.kind === 'long' && run.long ? <ClipList clips={run.long.clips.map((c) => ({ start: c.start, end: c.end, text: c.caption }))} /> : null}
          {run.turns.length ? <TurnList turns={run.turns} /> : null}
          <ExportButtons record={run} />
        </div>
      ) : null}
    </li>
  );
}
