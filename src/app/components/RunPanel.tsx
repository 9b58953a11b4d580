import { useDeferredValue, useMemo } from 'react';
import type { Stage } from '../../core/report';
import { formatMs, formatPercent, formatRate, formatTimestamp } from '../lib/format';
import { formatRange } from '../lib/export';
import { buildCommandFor } from '../lib/presets';
import { STATUS_LABEL } from '../lib/run-record';
import { captionStats, summarizeFlags, FLAG_LABEL } from '../lib/stats';
import { useEngine } from '../state/engine';
import { useHistory } from '../state/history';
import { useMedia } from '../state/media';
import { useSettings } from '../state/settings';
import type { LiveLong, LiveTrack } from '../state/engine';
import { useThrottledRun } from '../state/throttled';
import { ErrorNotice } from './ErrorNotice';
import { ExportButtons } from './ExportButtons';
import { StageList } from './Progress';
import { ClipList, CueList } from './RunParts';

const RUN_STAGES: Stage[] = ['decode', 'vision', 'audio', 'prefill', 'generate'];
// Low-memory mode creates a stage's sessions during the run: 'session' then leads the list.

/** The Caption / Cancel buttons, progress per stage, the streaming caption and its metrics. */
export function RunPanel() {
  const file = useMedia((s) => s.file);
  const run = useThrottledRun();
  const busy = useEngine((s) => s.busy);
  const model = useEngine((s) => s.model);
  const { caption, captionTrack, captionLong, cancel } = useEngine.getState();
  const range = useMedia((s) => s.range);
  const trackSeconds = useSettings((s) => s.trackSeconds);
  const segmentation = useSettings((s) => s.trackSegmentation);
  const longWords = useSettings((s) => s.longWords);
  const longClipSeconds = useSettings((s) => s.longClipSeconds);
  const longStrideSeconds = useSettings((s) => s.longStrideSeconds);
  const updateSettings = useSettings((s) => s.update);
  const record = useHistory((s) => (run ? s.runs.find((r) => r.id === run.id) : undefined));
  const running = run?.status === 'running' || run?.status === 'loading-model';

  const skipped: Stage[] = [];
  if (run?.options?.modality === 'v') skipped.push('audio');
  if (run?.options?.modality === 'a') skipped.push('decode', 'vision');
  // Stages run in order: one that never started while a later one did was not used (an
  // audio-only file in audio+visual mode has no decode/vision).
  RUN_STAGES.forEach((stage, i) => {
    if (run && !run.stages[stage] && RUN_STAGES.slice(i + 1).some((later) => run.stages[later])) skipped.push(stage);
  });
  const note = run?.report?.audio.note ?? null;

  return (
    <section className="panel run-panel" aria-labelledby="run-h" data-testid="run-panel">
      <h2 id="run-h" tabIndex={-1}>
        Caption
      </h2>
      <div className="row wrap">
        {/* aria-disabled, not disabled, while busy: a disabled button drops the keyboard focus to <body>. */}
        <button type="button" className="primary" data-testid="caption-button" onClick={() => (busy ? undefined : void caption())} disabled={!file} aria-disabled={busy}>
          {model.status === 'ready' ? (range ? 'Caption range' : 'Caption') : range ? 'Load model and caption range' : 'Load model and caption'}
        </button>
        <button type="button" className="secondary" data-testid="track-button" onClick={() => (busy ? undefined : void captionTrack())} disabled={!file} aria-disabled={busy} title={segmentation === 'scenes' ? 'A local caption of every scene (cut at scene changes), shown as subtitles over the video' : `A local caption of every ${trackSeconds} s segment, shown as subtitles over the video`}>
          Caption track
        </button>
        <button type="button" className="secondary" data-testid="long-button" onClick={() => (busy ? undefined : void captionLong())} disabled={!file} aria-disabled={busy} title={`Clip captions of ${longClipSeconds} s every ${longStrideSeconds} s, each with the previous one as context, merged into about ${longWords} words`}>
          Long caption
        </button>
        <button type="button" className="danger" data-testid="cancel-button" onClick={() => (busy ? cancel() : undefined)} aria-disabled={!busy}>
          Cancel
        </button>
        {!file ? <span className="muted">Choose a video first.</span> : null}
        {run ? (
          <span className={`status status-${run.status}`} data-testid="run-status" data-status={run.status} role="status">
            {statusText(run.status)}
          </span>
        ) : null}
      </div>
      <fieldset className="row wrap track-settings" disabled={busy}>
        <legend className="visually-hidden">Caption track</legend>
        <label className="row">
          <span>Segments</span>
          <select data-testid="track-segmentation" value={segmentation} onChange={(e) => updateSettings({ trackSegmentation: e.target.value === 'scenes' ? 'scenes' : 'fixed' })}>
            <option value="fixed">fixed length</option>
            <option value="scenes">at scene changes</option>
          </select>
        </label>
        <label className="row">
          <span>Track segment length (s)</span>
          <input
            type="number"
            min={1}
            max={600}
            step={1}
            data-testid="track-seconds"
            value={trackSeconds}
            disabled={segmentation === 'scenes'}
            onChange={(e) => {
              const v = Number(e.target.value);
              if (Number.isFinite(v) && v >= 1) updateSettings({ trackSeconds: Math.min(600, v) });
            }}
          />
        </label>
      </fieldset>
      <fieldset className="row wrap track-settings" disabled={busy}>
        <legend className="visually-hidden">Long caption</legend>
        <NumberSetting label="Long caption target (words)" testId="long-words" min={1} max={5000} value={longWords} onChange={(v) => updateSettings({ longWords: Math.round(v) })} />
        <NumberSetting label="Clip length (s)" testId="long-clip" min={1} max={600} value={longClipSeconds} onChange={(v) => updateSettings({ longClipSeconds: v, longStrideSeconds: Math.min(longStrideSeconds, v) })} />
        <NumberSetting label="Clip stride (s)" testId="long-stride" min={1} max={longClipSeconds} value={longStrideSeconds} onChange={(v) => updateSettings({ longStrideSeconds: Math.min(longClipSeconds, v) })} />
      </fieldset>

      {run ? (
        <>
          {run.status === 'loading-model' ? <StageList stages={model.stages} order={['bundle', 'session']} active={run.activeStage} /> : null}
          {run.status !== 'loading-model' && (running || Object.keys(run.stages).length > 0) ? (
            <StageList stages={run.stages} order={run.stages.session ? ['session', ...RUN_STAGES] : RUN_STAGES} active={run.activeStage} tokensPerSecond={run.tokensPerSecond} skipped={skipped} finished={!running} />
          ) : null}
          {run.error && run.status === 'error' ? <ErrorNotice error={run.error} buildCommand={buildCommandFor(model.source?.location.kind === 'url' ? model.source.location.url : null)} /> : null}
          {note ? (
            <p className="notice notice-info" role="status" data-testid="modality-note">
              {note}
            </p>
          ) : null}
          {run.status === 'cancelled' ? (
            <p className="notice notice-info" role="status" data-testid="cancelled-note">
              Cancelled.{' '}
              {run.kind === 'track'
                ? `${run.track?.cues.length ?? 0} segment cue(s) done so far are kept below and in the history.`
                : run.kind === 'long'
                  ? `${run.long?.clips.length ?? 0} clip caption(s) done so far${run.text ? ' and the merge text so far' : ''} are kept below and in the history.`
                  : run.text
                  ? 'The text generated so far is kept below and in the history.'
                  : 'No text had been generated yet.'}
            </p>
          ) : null}
          {model.ready?.randomWeights && (running || run.text) ? <p className="small muted">Test model with random weights: the caption below is meaningless by design.</p> : null}
          {run.kind === 'local' && run.range ? (
            <p className="small" data-testid="run-range" data-start={run.range.start} data-end={run.range.end}>
              Local caption of <strong>{formatRange(run.range)}</strong>
              {run.report?.range ? ' (the range the report says was used)' : ''}.
            </p>
          ) : null}
          {run.kind === 'track' && run.track ? (
            <TrackView track={run.track} running={running} text={run.text} />
          ) : run.kind === 'long' && run.long ? (
            <LongView long={run.long} running={running} text={run.text} tokensPerSecond={run.tokensPerSecond} wallMs={run.endedAt ? run.endedAt - run.startedAt : null} />
          ) : running || run.text || run.status !== 'error' ? (
            <CaptionView text={run.text} running={running} tokensPerSecond={run.tokensPerSecond} wallMs={run.endedAt ? run.endedAt - run.startedAt : null} />
          ) : (
            <div className="visually-hidden" aria-live="polite" data-testid="caption-text" />
          )}
          {record && !running ? <ExportButtons record={record} /> : null}
        </>
      ) : (
        <div className="caption-text empty" aria-live="polite" data-testid="caption-text">
          <span className="muted">The caption streams here.</span>
        </div>
      )}
    </section>
  );
}

/** A caption track: segment i of n, the cues so far (also shown as subtitles over the video). */
function TrackView({ track, running, text }: { track: LiveTrack; running: boolean; text: string }) {
  const shownIndex = Math.min(track.index + 1, track.total);
  return (
    <div className="track-view" data-testid="track-view">
      {track.segmentation === 'scenes' ? (
        <p className="small" data-testid="scene-cuts" data-cuts={track.cuts?.join(',') ?? ''} role="status">
          {track.detecting ? 'Finding the scene changes…' : track.cuts ? (track.cuts.length ? `Scene changes at ${track.cuts.map(formatTimestamp).join(', ')}` : 'No scene change found') : null}
        </p>
      ) : null}
      {track.note ? (
        <p className="notice notice-info" role="status" data-testid="scene-note">
          {track.note}
        </p>
      ) : null}
      {track.total > 0 ? (
        <div className="row wrap">
          <progress max={track.total} value={track.cues.length} aria-label="Caption track progress" />
          <span className="small" data-testid="track-progress" data-done={track.cues.length} data-total={track.total} role="status">
            {running && track.segment
              ? `Segment ${shownIndex} of ${track.total} (${formatRange(track.segment)})`
              : `${track.cues.length} of ${track.total} segments captioned`}
            {track.reused > 0 ? ` · ${track.reused} from the track cache` : ''}
          </span>
        </div>
      ) : null}
      {running && text ? (
        <p className="small muted" data-testid="track-segment-text">
          {text}
        </p>
      ) : null}
      {track.cues.length > 0 ? <CueList cues={track.cues} /> : null}
      {track.cues.length === 0 ? <p className="small muted">{running ? 'The cues appear here, and as subtitles over the video, as each segment is captioned.' : 'No segment was captioned.'}</p> : null}
    </div>
  );
}

/** A long caption: clip i of n and the clip captions so far, then the merge streaming into the caption view. */
function LongView({ long, running, text, tokensPerSecond, wallMs }: { long: LiveLong; running: boolean; text: string; tokensPerSecond: number; wallMs: number | null }) {
  const clipCues = long.clips.map((c) => ({ start: c.start, end: c.end, text: c.caption }));
  const merging = long.phase === 'merge' || (!running && long.words !== null);
  return (
    <div className="long-view" data-testid="long-view">
      {long.total > 0 ? (
        <div className="row wrap">
          <progress max={long.total} value={long.clips.length} aria-label="Long caption clips" />
          <span className="small" data-testid="long-progress" data-done={long.clips.length} data-total={long.total} role="status">
            {running && long.phase === 'clips' && long.clip
              ? `Clip ${long.index + 1} of ${long.total} (${formatRange(long.clip)})`
              : running && long.phase === 'merge'
                ? `Merging ${long.clips.length} clip captions into about ${long.targetWords} words…`
                : `${long.clips.length} of ${long.total} clips captioned`}
          </span>
        </div>
      ) : null}
      {running && long.phase === 'clips' && text ? (
        <p className="small muted" data-testid="long-clip-text">
          {text}
        </p>
      ) : null}
      {merging || (!running && text) ? (
        <>
          <h3 className="small">Long caption</h3>
          <CaptionView text={text} running={running} tokensPerSecond={tokensPerSecond} wallMs={wallMs} />
          {long.lengthScore !== null ? (
            <p className="small" data-testid="long-scores">
              {long.words} word{long.words === 1 ? '' : 's'} (target {long.targetWords}) · length score {long.lengthScore.toFixed(1)} · merge levels [{long.mergeLevels.join(', ')}]
            </p>
          ) : null}
        </>
      ) : null}
      {long.clips.length > 0 ? <ClipList clips={clipCues} /> : <p className="small muted">{running ? 'The clip captions appear here as each clip is captioned.' : 'No clip was captioned.'}</p>}
    </div>
  );
}

/** A number field with its label; keeps the last valid value while the user types. */
function NumberSetting({ label, testId, min, max, value, onChange }: { label: string; testId: string; min: number; max: number; value: number; onChange: (v: number) => void }) {
  return (
    <label className="row">
      <span>{label}</span>
      <input
        type="number"
        min={min}
        max={max}
        step={1}
        data-testid={testId}
        value={value}
        onChange={(e) => {
          const v = Number(e.target.value);
          if (Number.isFinite(v) && v >= min) onChange(Math.min(max, v));
        }}
      />
    </label>
  );
}

function statusText(s: NonNullable<ReturnType<typeof useEngine.getState>['run']>['status']): string {
  if (s === 'loading-model') return 'loading the model…';
  if (s === 'running') return 'running…';
  return STATUS_LABEL[s];
}

export function CaptionView({ text, running, tokensPerSecond, wallMs }: { text: string; running: boolean; tokensPerSecond: number; wallMs: number | null }) {
  // The metrics trail the streaming text (a deferred, interruptible render), so scanning a
  // long caption after every token never blocks the page.
  const deferredText = useDeferredValue(text);
  const stats = useMemo(() => captionStats(deferredText), [deferredText]);
  return (
    <>
      <div className="caption-text" aria-live="polite" aria-busy={running} data-testid="caption-text">
        {text || <span className="muted">{running ? 'Waiting for the first words…' : '(no text)'}</span>}
        {running ? <span className="cursor" aria-hidden="true" /> : null}
      </div>
      <dl className="metrics" aria-label="Caption metrics">
        <div>
          <dt>Words</dt>
          <dd data-testid="word-count">{stats.words}</dd>
        </div>
        <div>
          <dt>Tokens/s</dt>
          <dd data-testid="tokens-per-second">{formatRate(tokensPerSecond)}</dd>
        </div>
        <div>
          <dt>Repetition rate</dt>
          <dd data-testid="repetition-rate" title={stats.recurring.map((r) => `“${r.phrase}” ×${r.count}`).join(', ')}>
            {formatPercent(stats.repetition)}
          </dd>
        </div>
        <div>
          <dt>Loop rate</dt>
          <dd data-testid="loop-rate" title={stats.loopUnits.map((l) => `“${l.unit}” ×${l.count}`).join(', ')}>
            {formatPercent(stats.loops)}
          </dd>
        </div>
        <div>
          <dt>Time</dt>
          <dd>{formatMs(wallMs)}</dd>
        </div>
        <div className="wide">
          <dt>Unnatural patterns</dt>
          <dd data-testid="pattern-flags" data-count={stats.flags.length} title={stats.flags.map((f) => `${FLAG_LABEL[f.kind]}: ${f.text}`).join('\n')}>
            {summarizeFlags(stats.flags)}
          </dd>
        </div>
      </dl>
    </>
  );
}

