import { useState } from 'react';
import { downloadText } from '../lib/download';
import { EXPORT_MIME, exportFileName, toJson, toMarkdown, toText, toTrackFile } from '../lib/export';
import type { RunRecord } from '../lib/run-record';

/**
 * Copy the caption; export the run as .txt, .md or .json. A run without text (failed
 * before the first word) offers only the .json, which has its settings and error.
 */
export function ExportButtons({ record }: { record: RunRecord }) {
  const [copied, setCopied] = useState<string | null>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(record.caption);
      setCopied('Copied.');
    } catch {
      setCopied('Copying was refused by the browser: select the text and copy it by hand.');
    }
  };
  const hasText = record.caption.trim().length > 0;
  const json = (
    <button type="button" className="secondary" data-testid="export-json" onClick={() => downloadText(exportFileName(record, 'json'), EXPORT_MIME.json, toJson(record))}>
      {hasText ? 'Export .json' : 'Export details (.json)'}
    </button>
  );
  if (!hasText) {
    return (
      <div className="row wrap exports" role="group" aria-label="Export">
        <span className="small muted grow" data-testid="no-text-exports">
          No text to copy or export: the run ended before any words were generated.
        </span>
        {json}
      </div>
    );
  }
  return (
    <div className="row wrap exports" role="group" aria-label="Copy and export">
      <button type="button" className="secondary" onClick={() => void copy()}>
        Copy
      </button>
      <button type="button" className="secondary" data-testid="export-txt" onClick={() => downloadText(exportFileName(record, 'txt'), EXPORT_MIME.txt, toText(record))}>
        Export .txt
      </button>
      <button type="button" className="secondary" data-testid="export-md" onClick={() => downloadText(exportFileName(record, 'md'), EXPORT_MIME.md, toMarkdown(record))}>
        Export .md
      </button>
      {json}
      {record.track && record.track.cues.length > 0
        ? (['vtt', 'srt'] as const).map((ext) => (
            <button key={ext} type="button" className="secondary" data-testid={`export-${ext}`} onClick={() => downloadText(exportFileName(record, ext), EXPORT_MIME[ext], toTrackFile(record, ext))}>
              Export .{ext}
            </button>
          ))
        : null}
      <span role="status" className="small muted">
        {copied}
      </span>
    </div>
  );
}
