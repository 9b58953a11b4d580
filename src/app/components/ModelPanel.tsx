import { useEffect, useState } from 'react';
import type { LowMemorySetting } from '../../core/bundle/memory';
import { formatBytes } from '../lib/format';
import { buildCommandFor, LITE_PINS, PRESETS, presetById } from '../lib/presets';
import { folderSource, preferOf, useEngine } from '../state/engine';
import { useModelCache, type CachedPreset } from '../state/model-cache';
import { useSettings } from '../state/settings';
import { ErrorNotice } from './ErrorNotice';
import { FilePickerButton } from './FilePickerButton';
import { StageList } from './Progress';

/** Model presets, a URL or a local folder, the backend in use, the WASM switch, cached models. */
export function ModelPanel() {
  const presetId = useSettings((s) => s.presetId);
  const customUrl = useSettings((s) => s.customUrl);
  const forceWasm = useSettings((s) => s.forceWasm);
  const allowSoftwareGpu = useSettings((s) => s.allowSoftwareGpu);
  const lowMemory = useSettings((s) => s.lowMemory);
  const update = useSettings((s) => s.update);
  const model = useEngine((s) => s.model);
  const busy = useEngine((s) => s.busy);
  const { loadModel, selectedSource, cancel } = useEngine.getState();
  const cache = useModelCache();
  const preset = presetById(presetId);

  useEffect(() => {
    void useModelCache.getState().refresh();
  }, []);

  /** A changed backend switch or memory mode reloads a loaded model as it now asks for. */
  const toggle = (patch: { forceWasm?: boolean; allowSoftwareGpu?: boolean; lowMemory?: LowMemorySetting }) => {
    update(patch);
    const { model: m, busy: b } = useEngine.getState();
    if (m.source && (m.status === 'ready' || m.status === 'error') && !b) void loadModel(m.source, preferOf({ forceWasm, allowSoftwareGpu, ...patch }));
  };
  const ready = model.ready;

  return (
    <section className="panel" aria-labelledby="model-h">
      <h2 id="model-h">Model</h2>
      <div className="field">
        <label htmlFor="preset">Model bundle</label>
        <select id="preset" value={presetId} onChange={(e) => update({ presetId: e.target.value })} disabled={busy}>
          {PRESETS.map((p) => (
            <option key={p.id} value={p.id}>
              {p.label}
              {p.exportRequired ? ' — export required' : ''}
            </option>
          ))}
          <option value="url">Another bundle URL…</option>
        </select>
      </div>
      {preset ? (
        <div className={`preset-note${preset.kind === 'test' ? ' test' : ''}`} data-testid="preset-note">
          {preset.kind === 'test' ? <strong className="badge badge-warn">test model · random weights</strong> : null}
          {preset.exportRequired ? <strong className="badge badge-info">export required</strong> : null}
          {preset.kind === 'public' ? <strong className="badge badge-info">not video-SALMONN 2</strong> : null}
          <p>{preset.description}</p>
          {preset.source === 'hub' ? (
            <dl className="facts small" data-testid="preset-facts">
              <dt>Misses</dt>
              <dd>{preset.misses}</dd>
              <dt>Licence</dt>
              <dd>{preset.licence}</dd>
              <dt>Download</dt>
              <dd>
                about {formatBytes(preset.sizeBytes)} from huggingface.co at pinned revisions (
                {[LITE_PINS.llava, LITE_PINS.whisper, LITE_PINS.ast].flatMap((r) => (r ? [`${r.repo}@${r.revision.slice(0, 7)}`] : [])).join(', ')}), once: the browser keeps the files
              </dd>
            </dl>
          ) : preset.exportRequired ? (
            <p>
              How: follow <a href="/models/README.md" target="_blank" rel="noreferrer">models/README.md</a> (“Commands”):{' '}
              <code>python3 models/export/export.py --checkpoint DIR --out public{preset.url}</code>, then load it here. About {formatBytes(preset.sizeBytes)}.
            </p>
          ) : (
            <p className="muted">
              About {formatBytes(preset.sizeBytes)} · {preset.url}
              {preset.url && buildCommandFor(preset.url) ? (
                <>
                  {' '}
                  · built in the project by <code>{buildCommandFor(preset.url)}</code> (<code>npm run dev</code> runs it when it is missing)
                </>
              ) : null}
            </p>
          )}
        </div>
      ) : (
        <div className="field">
          <label htmlFor="bundle-url">Bundle URL (the folder holding bundle.json)</label>
          <input id="bundle-url" type="url" placeholder="https://example.org/bundles/my-model/" value={customUrl} onChange={(e) => update({ customUrl: e.target.value })} disabled={busy} />
        </div>
      )}
      <div className="row wrap">
        <button
          type="button"
          data-testid="load-model"
          disabled={busy || !selectedSource()}
          onClick={() => {
            const s = selectedSource();
            if (s) void loadModel(s);
          }}
        >
          Load model
        </button>
        <FilePickerButton className="secondary" disabled={busy} onFiles={(files) => void loadModel(folderSource(files))} inputLabel="Model bundle folder" directory multiple buttonTestId="load-folder" inputTestId="folder-input">
          Load a local folder…
        </FilePickerButton>
        <label className="switch">
          <input type="checkbox" checked={forceWasm} onChange={(e) => toggle({ forceWasm: e.target.checked })} disabled={busy} data-testid="force-wasm" />
          Force WASM (no WebGPU)
        </label>
        <label className="switch">
          <input type="checkbox" checked={allowSoftwareGpu} onChange={(e) => toggle({ allowSoftwareGpu: e.target.checked })} disabled={busy || forceWasm} data-testid="software-gpu" />
          Use WebGPU even on a software adapter (slow; for testing)
        </label>
        <label className="switch">
          Low-memory mode{' '}
          <select value={lowMemory} onChange={(e) => toggle({ lowMemory: e.target.value as LowMemorySetting })} disabled={busy} data-testid="low-memory">
            <option value="auto">auto (when the model would not fit at once)</option>
            <option value="on">on (encoders released before the LLM loads)</option>
            <option value="off">off (every graph stays loaded)</option>
          </select>
        </label>
      </div>

      <div className="model-status" data-testid="model-status" data-status={model.status}>
        {model.status === 'none' ? <p className="muted">No model loaded yet. It loads when you press Caption, or now with “Load model”.</p> : null}
        {model.status === 'loading' ? (
          <>
            <p>Loading {model.source?.label}…</p>
            <StageList stages={model.stages} order={['bundle', 'session']} active={null} />
            <button type="button" className="secondary" onClick={cancel} data-testid="cancel-load">
              Cancel
            </button>
            <p className="muted small">Files already downloaded stay cached: loading again later resumes with the rest.</p>
          </>
        ) : null}
        {model.status === 'ready' && ready ? (
          <dl className="facts">
            <dt>Loaded</dt>
            <dd data-testid="model-name">
              {ready.name}
              {ready.randomWeights ? <span className="badge badge-warn">random weights: meaningless text</span> : null}
            </dd>
            <dt>What it is</dt>
            <dd data-testid="model-label">{ready.label}</dd>
            <dt>From</dt>
            <dd>{model.source?.label}</dd>
            {ready.variant ? (
              <>
                <dt>Variant</dt>
                <dd data-testid="model-variant">{ready.variant.reason}</dd>
              </>
            ) : null}
            <dt>Backend</dt>
            <dd data-testid="model-backend">{backendSummary(ready.backends)}</dd>
            {ready.ortBuild ? (
              <>
                <dt>Runtime</dt>
                <dd data-testid="model-ort-build">onnxruntime-web, {ready.ortBuild} build</dd>
              </>
            ) : null}
            {ready.adapter && Object.values(ready.backends).includes('webgpu') ? (
              <>
                <dt>Adapter</dt>
                <dd data-testid="model-adapter">
                  {[ready.adapter.vendor, ready.adapter.architecture].filter(Boolean).join(' / ') || 'unknown'}
                  {ready.adapter.isFallback ? ' (software)' : ''}
                </dd>
              </>
            ) : null}
            <dt>Memory</dt>
            <dd data-testid="model-memory" data-low-memory={ready.memory.lowMemory ? 'on' : 'off'}>
              <strong>{ready.memory.lowMemory ? 'Low-memory mode' : 'All graphs loaded'}</strong> ({ready.memory.setting}): {ready.memory.reason}
            </dd>
            <dt>Per graph</dt>
            <dd>
              <ul className="plain small" data-testid="graph-backends">
                {Object.entries(ready.backends).map(([g, b]) => (
                  <li key={g}>
                    {g}: <strong>{b === 'webgpu' ? 'WebGPU' : b.toUpperCase()}</strong>
                  </li>
                ))}
              </ul>
            </dd>
            {ready.fallbackReasons.length ? (
              <>
                <dt>Fallbacks</dt>
                <dd className="small">{ready.fallbackReasons.join('; ')}</dd>
              </>
            ) : null}
          </dl>
        ) : null}
        {model.status === 'error' && model.error ? <ErrorNotice error={model.error} buildCommand={buildCommandFor(model.source?.location.kind === 'url' ? model.source.location.url : null)} /> : null}
      </div>

      <details className="cached" open={cache.bundles.length > 0 || cache.preset !== null}>
        <summary>Cached models ({cache.bundles.length + (cache.preset ? 1 : 0)})</summary>
        {cache.error ? <p role="alert">{cache.error}</p> : null}
        {cache.bundles.length === 0 && !cache.preset ? <p className="muted">None: downloaded models are kept in the browser’s cache and listed here.</p> : null}
        <ul className="plain cached-list" data-testid="cached-models">
          {cache.preset ? <CachedPresetItem preset={cache.preset} busy={busy} onDelete={() => void cache.removePreset()} /> : null}
          {cache.bundles.map((b) => (
            <li key={b.baseUrl} className="row" data-testid="cached-bundle">
              <span className="grow">
                <strong>{b.name}</strong> · {formatBytes(b.bytes)} · {b.files} files{b.complete ? '' : ' · incomplete'}
                <br />
                <span className="muted small">{b.baseUrl}</span>
              </span>
              <ConfirmDelete name={b.name} bytes={b.bytes} busy={busy} onDelete={() => void cache.remove(b.baseUrl)} testId="confirm-delete-bundle" />
            </li>
          ))}
        </ul>
      </details>
    </section>
  );
}

/** The lite preset's cached files as one model. */
function CachedPresetItem({ preset, busy, onDelete }: { preset: CachedPreset; busy: boolean; onDelete: () => void }) {
  return (
    <li className="row" data-testid="cached-preset">
      <span className="grow">
        <strong>{preset.name}</strong> · {formatBytes(preset.bytes)} · {preset.files} files
        <br />
        <span className="muted small">{preset.pins.join(', ')} (huggingface.co)</span>
      </span>
      <ConfirmDelete name={preset.name} bytes={preset.bytes} busy={busy} onDelete={onDelete} testId="confirm-delete-preset" />
    </li>
  );
}

/** Delete for a cached model: asks first (a multi-GB download is lost otherwise); Keep or Escape keeps it. */
function ConfirmDelete({ name, bytes, busy, onDelete, testId }: { name: string; bytes: number; busy: boolean; onDelete: () => void; testId: string }) {
  const [confirming, setConfirming] = useState(false);
  if (!confirming) {
    return (
      <button type="button" className="secondary" onClick={() => setConfirming(true)} aria-label={`Delete cached model ${name}`} disabled={busy}>
        Delete
      </button>
    );
  }
  return (
    <span role="group" aria-label={`Confirm deleting ${name}`} onKeyDown={(e) => e.key === 'Escape' && setConfirming(false)}>
      <span className="small">Delete {formatBytes(bytes)}? The next load downloads it again.</span>{' '}
      <button type="button" onClick={() => (setConfirming(false), onDelete())} disabled={busy} data-testid={testId}>
        Delete
      </button>{' '}
      <button type="button" className="secondary" onClick={() => setConfirming(false)} autoFocus>
        Keep
      </button>
    </span>
  );
}

export function backendSummary(backends: Record<string, string>): string {
  const set = new Set(Object.values(backends));
  if (set.has('webgpu')) return set.size > 1 ? 'WebGPU (some graphs on WASM)' : 'WebGPU';
  if (set.has('wasm')) return 'WASM';
  return [...set].join(', ') || '—';
}
