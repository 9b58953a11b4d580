import { useEffect } from 'react';
import { useEnvironment } from './state/environment';
import { useHistory } from './state/history';
import { captionStats } from './lib/stats';
import { BackendPanel } from './components/BackendPanel';
import { ChatPanel } from './components/ChatPanel';
import { ComparePanel } from './components/ComparePanel';
import { HistoryPanel } from './components/HistoryPanel';
import { InputPanel } from './components/InputPanel';
import { ModelPanel } from './components/ModelPanel';
import { RunPanel } from './components/RunPanel';
import { SettingsPanel } from './components/SettingsPanel';

export function App() {
  const { capabilities, probe } = useEnvironment();
  const comparing = useHistory((s) => s.comparing);
  const storageError = useHistory((s) => s.error);
  const dismiss = useHistory((s) => s.dismissError);
  useEffect(() => {
    void probe();
    void useHistory.getState().init();
    // Compile the metrics' Unicode regexes while idle, not in the first render of a run.
    const warm = () => captionStats('Warm up: the metrics. 走 a a a a a a');
    if ('requestIdleCallback' in window) requestIdleCallback(warm);
    else setTimeout(warm, 500);
  }, [probe]);

  return (
    <div className="app">
      <a
        className="skip-link"
        href="#run-h"
        onClick={(e) => {
          // Move the focus too, not only the scroll position (the heading has tabIndex -1).
          const target = document.getElementById('run-h');
          if (!target) return;
          e.preventDefault();
          target.focus();
          target.scrollIntoView({ block: 'start' });
        }}
      >
        Skip to the caption
      </a>
      <header className="app-header">
        <h1>SALMONN Captioner</h1>
        <p className="tagline">Audio-visual captions computed entirely in your browser: with video-SALMONN 2 once you export it, or out of the box with a lite model built on public files (not video-SALMONN 2). Your video never leaves this machine.</p>
      </header>
      {storageError ? (
        <div className="notice notice-error banner" role="alert" data-testid="storage-error">
          <p className="grow">{storageError}</p>
          <button type="button" className="secondary small" onClick={dismiss}>
            Dismiss
          </button>
        </div>
      ) : null}
      <main className="layout">
        <div className="col-main">
          <InputPanel />
          <RunPanel />
          <ChatPanel />
        </div>
        <div className="col-side">
          <ModelPanel />
          <SettingsPanel />
          <BackendPanel capabilities={capabilities} />
        </div>
        <div className="col-full">
          {comparing ? <ComparePanel /> : null}
          <HistoryPanel />
        </div>
      </main>
    </div>
  );
}
