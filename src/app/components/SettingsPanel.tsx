import type { InterleaveMode } from '../../core/bundle/manifest';
import type { Modality } from '../../core/options';
import { PROMPT_PRESETS, promptPresetOf } from '../lib/settings';
import { useEngine } from '../state/engine';
import { useSettings } from '../state/settings';

/** Prompt, modality, sampling, decoding. Persisted (state/settings.ts). */
export function SettingsPanel() {
  const s = useSettings();
  const busy = useEngine((st) => st.busy);
  const manifest = useEngine((st) => st.model.ready?.manifest ?? null);
  const bundlePrompt = manifest?.prompt.defaultPrompt ?? null;
  const preset = promptPresetOf(s.prompt);
  const num = (v: string) => (v.trim() === '' ? NaN : Number(v));
  /** Blank = follow the model (null); the placeholder shows the model's value. */
  const numOrBundle = (v: string) => (v.trim() === '' ? null : Number(v));
  const fromModel = (v: number | undefined) => (v === undefined ? 'Model default' : `Model default: ${v}`);

  return (
    <section className="panel" aria-labelledby="settings-h">
      <div className="row">
        <h2 id="settings-h" className="grow">
          Settings
        </h2>
        <button type="button" className="secondary small" onClick={s.reset} disabled={busy}>
          Reset
        </button>
      </div>
      <fieldset disabled={busy}>
        <div className="field">
          <label htmlFor="prompt-preset">Prompt</label>
          <select
            id="prompt-preset"
            value={preset}
            onChange={(e) => {
              const hit = PROMPT_PRESETS.find((p) => p.id === e.target.value);
              if (hit) s.update({ prompt: hit.text });
            }}
          >
            {PROMPT_PRESETS.map((p) => (
              <option key={p.id} value={p.id}>
                {p.label}
              </option>
            ))}
            <option value="custom" disabled={preset !== 'custom'}>
              Custom (edited)
            </option>
          </select>
          <textarea
            id="prompt"
            aria-label="Prompt text"
            data-testid="prompt"
            rows={4}
            value={s.prompt ?? bundlePrompt ?? ''}
            placeholder="The model’s default prompt (a detailed audio-visual caption); it shows here once a model is loaded."
            onChange={(e) => s.update({ prompt: e.target.value === bundlePrompt ? null : e.target.value })}
          />
        </div>

        <div className="field">
          <label htmlFor="modality">Modality</label>
          <select id="modality" value={s.modality} onChange={(e) => s.update({ modality: e.target.value as Modality })}>
            <option value="av">Audio + visual</option>
            <option value="v">Visual only</option>
            <option value="a">Audio only</option>
          </select>
        </div>

        <div className="field">
          <label htmlFor="sampling">Frame preset</label>
          <select id="sampling" value={s.sampling} onChange={(e) => s.update({ sampling: e.target.value as 'paper' | 'checkpoint' })}>
            <option value="paper">Paper: at most 30 frames (default)</option>
            <option value="checkpoint">Checkpoint: up to 110 s, ≤ 110 frames (as released)</option>
          </select>
        </div>

        <div className="grid2">
          <div className="field">
            <label htmlFor="fps">Frames per second</label>
            <input id="fps" type="number" min={0.05} max={30} step={0.05} value={s.fps ?? ''} placeholder={fromModel(manifest?.sampling.fps)} onChange={(e) => s.update({ fps: numOrBundle(e.target.value) })} />
          </div>
          <div className="field">
            <label htmlFor="max-frames">Max frames</label>
            <input id="max-frames" type="number" min={1} max={512} step={1} value={s.maxFrames ?? ''} placeholder={fromModel(manifest?.sampling.maxFrames)} onChange={(e) => s.update({ maxFrames: numOrBundle(e.target.value) })} />
          </div>
          <div className="field">
            <label htmlFor="interleave">Interleave</label>
            <select id="interleave" value={s.interleave ?? 'bundle'} onChange={(e) => s.update({ interleave: e.target.value === 'bundle' ? null : (e.target.value as InterleaveMode) })}>
              <option value="bundle">Model default{manifest ? ` (${manifest.interleave.default})` : ''}</option>
              <option value="spread">Spread (checkpoint)</option>
              <option value="timestamp">Timestamp (paper)</option>
            </select>
          </div>
          <div className="field">
            <label htmlFor="max-new-tokens">Max new tokens</label>
            <input id="max-new-tokens" type="number" min={1} max={8192} step={1} value={s.maxNewTokens ?? ''} placeholder={fromModel(manifest?.generation.maxNewTokens)} onChange={(e) => s.update({ maxNewTokens: numOrBundle(e.target.value) })} />
          </div>
        </div>

        <div className="field">
          <span className="label" id="decoding-l">
            Decoding
          </span>
          <div className="row wrap" role="radiogroup" aria-labelledby="decoding-l">
            <label className="switch">
              <input type="radio" name="decoding" value="greedy" checked={s.decoding === 'greedy'} onChange={() => s.update({ decoding: 'greedy' })} />
              Greedy
            </label>
            <label className="switch">
              <input type="radio" name="decoding" value="sample" checked={s.decoding === 'sample'} onChange={() => s.update({ decoding: 'sample' })} />
              Sampling
            </label>
          </div>
        </div>
        {s.decoding === 'sample' ? (
          <div className="grid3">
            <div className="field">
              <label htmlFor="temperature">Temperature</label>
              <input id="temperature" type="number" min={0.01} max={2} step={0.05} value={Number.isFinite(s.temperature) ? s.temperature : ''} onChange={(e) => s.update({ temperature: num(e.target.value) })} />
            </div>
            <div className="field">
              <label htmlFor="top-p">Top-p</label>
              <input id="top-p" type="number" min={0.01} max={1} step={0.05} value={Number.isFinite(s.topP) ? s.topP : ''} onChange={(e) => s.update({ topP: num(e.target.value) })} />
            </div>
            <div className="field">
              <label htmlFor="seed">Seed</label>
              <input id="seed" type="number" min={0} step={1} value={Number.isFinite(s.seed) ? s.seed : ''} onChange={(e) => s.update({ seed: num(e.target.value) })} />
            </div>
          </div>
        ) : null}
      </fieldset>
    </section>
  );
}
