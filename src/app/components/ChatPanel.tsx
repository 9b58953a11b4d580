import { useState, type FormEvent } from 'react';
import { STATUS_LABEL } from '../lib/run-record';
import { useEngine } from '../state/engine';
import { useMedia } from '../state/media';
import { StageList } from './Progress';
import { ErrorNotice } from './ErrorNotice';

/**
 * Follow-up questions about the video after a caption (the engine keeps the caption's
 * conversation and reuses its KV cache): the turns, a streaming answer, Reset.
 */
export function ChatPanel() {
  const chat = useEngine((s) => s.chat);
  const busy = useEngine((s) => s.busy);
  const runStatus = useEngine((s) => s.run?.status ?? null);
  const runKind = useEngine((s) => s.run?.kind ?? null);
  const file = useMedia((s) => s.file);
  const { ask, resetConversation, cancel } = useEngine.getState();
  const [question, setQuestion] = useState('');
  const live = chat && chat.file === file ? chat : null;
  const asking = Boolean(live?.pending);
  const reason = !file
    ? 'Choose a video and caption it first: a question continues the conversation of a caption.'
    : busy && !asking
      ? 'A run is in progress: ask when it has finished.'
      : live?.closed
        ? live.closed
        : !live
          ? runKind === 'track' && runStatus !== 'running'
            ? 'A caption track has no conversation: make a caption (of the whole file or a range) to ask about it.'
            : runKind === 'long' && runStatus !== 'running'
              ? 'A long caption has no conversation: make a caption (of the whole file or a range) to ask about it.'
              : 'Caption this video first: the questions continue the conversation of its caption.'
          : null;
  const disabled = reason !== null || asking;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (disabled) return;
    const q = question;
    if (q.trim()) setQuestion('');
    void ask(q);
  };
  return (
    <section className="panel" aria-labelledby="chat-h" data-testid="chat-panel">
      <h2 id="chat-h">Ask about the video</h2>
      {live && live.turns.length > 0 ? (
        <ol className="chat-turns" data-testid="chat-turns" aria-label="Questions and answers">
          {live.turns.map((t, i) => (
            <li key={t.createdAt + ':' + i} className="chat-turn" data-testid="chat-turn" data-status={t.status}>
              <p className="chat-q">Q: {t.question}</p>
              <p className="chat-a" data-testid="chat-answer">
                {t.answer || '(no text)'}
                {t.status !== 'done' ? <span className="muted"> [{STATUS_LABEL[t.status]}]</span> : null}
              </p>
              {t.status === 'done' ? (
                <p className="small muted" data-testid="chat-turn-facts">
                  {t.prefillTokens} new prompt tokens, {t.reusedTokens} reused from the conversation
                </p>
              ) : null}
            </li>
          ))}
        </ol>
      ) : null}
      {live?.pending ? (
        <div className="chat-turn" data-testid="chat-pending">
          <p className="chat-q">Q: {live.pending.question}</p>
          <StageList stages={live.pending.stages} order={['prefill', 'generate']} active={live.pending.activeStage} />
          <p className="chat-a" aria-live="polite" aria-busy="true" data-testid="chat-streaming">
            {live.pending.answer || <span className="muted">Waiting for the first words…</span>}
          </p>
        </div>
      ) : null}
      {live?.error ? <ErrorNotice error={live.error} /> : null}
      <form className="chat-form" onSubmit={submit}>
        <label htmlFor="chat-input" className="visually-hidden">
          Question about the video
        </label>
        <input
          id="chat-input"
          data-testid="chat-input"
          type="text"
          value={question}
          placeholder={reason ? '' : 'What sounds can be heard? (Enter sends)'}
          onChange={(e) => setQuestion(e.target.value)}
          aria-disabled={disabled}
          readOnly={disabled}
          aria-describedby={reason ? 'chat-reason' : undefined}
        />
        <button type="submit" className="primary" data-testid="chat-send" aria-disabled={disabled}>
          Send
        </button>
        {asking ? (
          <button type="button" className="danger" data-testid="chat-cancel" onClick={cancel}>
            Stop
          </button>
        ) : null}
        <button type="button" className="secondary" data-testid="chat-reset" disabled={!live || busy || Boolean(live.closed)} onClick={() => void resetConversation()}>
          Reset conversation
        </button>
      </form>
      {reason ? (
        <p id="chat-reason" className="small muted" data-testid="chat-reason" role="status">
          {reason}
        </p>
      ) : null}
    </section>
  );
}
