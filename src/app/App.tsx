import { useEffect } from 'react';
import { useEnvironment } from './state/environment';
import { BackendPanel } from './components/BackendPanel';

export function App() {
  const { capabilities, probe } = useEnvironment();
  useEffect(() => {
    void probe();
  }, [probe]);

  return (
    <div className="app">
      <header className="app-header">
        <h1>SALMONN Captioner</h1>
        <p className="tagline">Detailed audio-visual captions with video-SALMONN 2, computed entirely in your browser. Your video never leaves this machine.</p>
      </header>
      <main>
        <BackendPanel capabilities={capabilities} />
      </main>
    </div>
  );
}
