import type { SerializedError } from '../../core/errors';
import { describeError } from '../lib/errors';

/** A worker error as a title, what to do next, and the worker's own message. */
export function ErrorNotice({ error, kind = 'error', buildCommand = null }: { error: SerializedError; kind?: 'error' | 'info'; buildCommand?: string | null }) {
  const text = describeError(error);
  return (
    <div className={`notice notice-${kind}`} role={kind === 'error' ? 'alert' : 'status'} data-testid="error" data-code={error.code}>
      <p className="notice-title" data-testid="error-title">
        {text.title}
      </p>
      <p data-testid="error-advice">{text.advice}</p>
      {buildCommand && error.code === 'bundle/not-found' ? (
        <p data-testid="error-fix">
          This model is built in the project, not downloaded: run <code>{buildCommand}</code> in the project folder, then load it again.
        </p>
      ) : null}
      {error.message && error.message !== text.title ? (
        <p className="notice-detail" data-testid="error-message">
          {error.message} <span className="code">({error.code})</span>
        </p>
      ) : null}
    </div>
  );
}
