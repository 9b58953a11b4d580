import type { SerializedError } from '../../core/errors';
import { describeError } from '../lib/errors';

/** A worker error as a title, what to do next, and the worker's own message. */
export function ErrorNotice({ error, kind = 'error' }: { error: SerializedError; kind?: 'error' | 'info' }) {
  const text = describeError(error);
  return (
    <div className={`notice notice-${kind}`} role={kind === 'error' ? 'alert' : 'status'} data-testid="error" data-code={error.code}>
      <p className="notice-title" data-testid="error-title">
        {text.title}
      </p>
      <p data-testid="error-advice">{text.advice}</p>
      {error.message && error.message !== text.title ? (
        <p className="notice-detail" data-testid="error-message">
          {error.message} <span className="code">({error.code})</span>
        </p>
      ) : null}
    </div>
  );
}
