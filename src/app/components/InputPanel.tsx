import { useCallback, useRef, useState, type DragEvent } from 'react';
import type { LiveFrame } from '../state/engine';
import { useEngine } from '../state/engine';
import { useMedia } from '../state/media';
import { formatBytes, formatTimestamp } from '../lib/format';
import { FilePickerButton } from './FilePickerButton';
import { RangeControls } from './RangeControls';
import { SubtitleTrack } from './SubtitleTrack';
import { Timeline } from './Timeline';

const NO_FRAMES: LiveFrame[] = [];

/** Fallback window length until a model's manifest says otherwise (PIPELINE §3: 30 s). */
const DEFAULT_WINDOW_SECONDS = 30;

/** Drop zone and file picker, the preview, and the timeline (frames + waveform). */
export function InputPanel() {
  const { file, url, duration, waveform, waveformStatus, previewFailed, range, setRange, setFile: setMediaFile, setDuration, setPreviewFailed } = useMedia();
  // A new file clears the previous file's run (frames, stages, error) from the page; the history keeps it.
  const setFile = (f: File) => {
    useEngine.getState().dismissRun();
    setMediaFile(f);
  };
  // Narrow selectors: the run object changes with every token, its frames do not (a
  // re-render of the timeline per token stalled the page).
  const runFile = useEngine((s) => s.run?.fileName ?? null);
  const runFrames = useEngine((s) => s.run?.frames ?? NO_FRAMES);
  const runDuration = useEngine((s) => s.run?.report?.video.duration ?? null);
  // A track's segment in progress is a range of its own (its frames are the strip's).
  const runRange = useEngine((s) => s.run?.range ?? s.run?.track?.segment ?? null);
  const windowSeconds = useEngine((s) => s.model.ready?.manifest.audio.windowSeconds ?? DEFAULT_WINDOW_SECONDS);
  const busy = useEngine((s) => s.busy);
  const runCuts = useEngine((s) => s.run?.track?.cuts ?? null);
  const [dragging, setDragging] = useState(false);
  const video = useRef<HTMLVideoElement>(null);

  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    const f = e.dataTransfer.files[0];
    if (f && !busy) setFile(f);
  };
  const sameFile = runFile !== null && runFile === file?.name;
  const frames = sameFile ? runFrames : NO_FRAMES;
  const timelineDuration = duration ?? (sameFile ? runDuration : null);
  const onSeek = useCallback((t: number) => {
    if (video.current) video.current.currentTime = t;
  }, []);
  const playhead = useCallback(() => video.current?.currentTime ?? 0, []);
  // The audio windows of the shown run's plan; before a run, of the one the selection implies.
  const windowRange = sameFile && runRange ? runRange : range;

  return (
    <section className="panel input-panel" aria-labelledby="input-h">
      <h2 id="input-h">Video</h2>
      <div
        className={`drop-zone${dragging ? ' dragging' : ''}`}
        data-testid="drop-zone"
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
      >
        <p>
          Drop a video or audio file here, or{' '}
          <FilePickerButton className="link-button" disabled={busy} onFiles={(files) => setFile(files[0])} inputLabel="Video file" accept="video/*,audio/*,.mkv,.webm,.mov,.m4a" inputId="file-input" inputTestId="file-input">
            choose a file
          </FilePickerButton>
          . It stays on this machine.
        </p>
        {file ? (
          <p className="file-facts" data-testid="file-facts">
            <strong>{file.name}</strong> · {formatBytes(file.size)}
            {duration ? ` · ${formatTimestamp(duration)}` : ''}
          </p>
        ) : null}
      </div>
      {url && !previewFailed ? (
        <video
          ref={video}
          key={url}
          className="preview"
          data-testid="preview"
          src={url}
          controls
          preload="metadata"
          onLoadedMetadata={(e) => setDuration(e.currentTarget.duration)}
          onError={() => setPreviewFailed()}
        />
      ) : null}
      {url && !previewFailed ? <SubtitleTrack video={video} /> : null}
      {url && previewFailed ? <p className="muted">The browser cannot preview this file; the caption run checks it in detail.</p> : null}
      {file && timelineDuration ? (
        <Timeline
          duration={timelineDuration}
          frames={frames}
          waveform={waveform}
          waveformStatus={waveformStatus}
          windowSeconds={windowSeconds}
          onSeek={onSeek}
          range={range}
          windowRange={windowRange}
          onRange={setRange}
          playhead={playhead}
          cuts={sameFile ? runCuts : null}
        />
      ) : null}
      {file && timelineDuration ? <RangeControls duration={timelineDuration} range={range} onRange={setRange} playhead={playhead} /> : null}
    </section>
  );
}
