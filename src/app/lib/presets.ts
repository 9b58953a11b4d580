/** The model presets of models/presets.json, typed; the lite preset's pins from models/lite/pins.json. */
import type { LitePins } from '../../core/bundle/hub-preset';
import data from '../../../models/presets.json';
import litePins from '../../../models/lite/pins.json';

export interface ModelPreset {
  id: string;
  label: string;
  /** A bundle folder; absent for a preset loaded straight from the Hub (`source: 'hub'`). */
  url?: string;
  /** 'hub': the pinned public files of models/lite/pins.json, bundle.json built at load time. */
  source?: 'hub';
  kind: 'test' | 'real' | 'public';
  licence?: string;
  /** What the model cannot hear or see, in words. */
  misses?: string;
  sizeBytes: number;
  description: string;
  /** No public ONNX export exists: the user exports the checkpoint and hosts the folder. */
  exportRequired: boolean;
  instructions?: string;
  readme?: string;
}

export const PRESETS: ModelPreset[] = (data as { presets: ModelPreset[] }).presets;

export function presetById(id: string): ModelPreset | undefined {
  return PRESETS.find((p) => p.id === id);
}

/** The pinned record a Hub preset loads (one truth: models/lite/pins.json). */
export const LITE_PINS = litePins as unknown as LitePins;

/** Presets that are generated in the project, not committed: the command that builds each. */
const BUILD_COMMANDS: Record<string, string> = { tiny: 'npm run models:tiny' };

/** The command that builds the preset at `url` (a fresh clone has none), or null. */
export function buildCommandFor(url: string | null | undefined): string | null {
  const preset = PRESETS.find((p) => p.url === url);
  return preset ? (BUILD_COMMANDS[preset.id] ?? null) : null;
}
