import { useState } from 'react';
import { downloadText } from '../lib/download';
import { EXPORT_MIME, exportFileName, toJson, toMarkdown, toText } from '../lib/export';
import type { RunRecord } from '../lib/run-record';

/** Copy the caption; export the run as .txt, .md or .json. */
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
  return (
    <div className="row wrap exports" role="group" aria-label="Copy and export">
      <button type="button" className="secondary" onClick={() => void copy()} disabled={!record.caption}>
        Copy
      </button>
      <button type="button" className="secondary" data-testid="export-txt" onClick={() => downloadText(exportFileName(record, 'txt'), EXPORT_MIME.txt, toText(record))}>
        Export .txt
      </button>
      <button type="button" className="secondary" data-testid="export-md" onClick={() => downloadText(exportFileName(record, 'md'), EXPORT_MIME.md, toMarkdown(record))}>
        Export .md
      </button>
      <button type="button" className="secondary" data-testid="export-json" onClick={() => downloadText(exportFileName(record, 'json'), EXPORT_MIME.json, toJson(record))}>
        Export .json
      </button>
      <span role="status" className="small muted">
        {copied}
      </span>
    </div>
  );
}
