/** The model presets of models/presets.json, typed. */
import data from '../../../models/presets.json';

export interface ModelPreset {
  id: string;
  label: string;
  url: string;
  kind: 'test' | 'real';
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

/** Presets that are generated in the project, not committed: the command that builds each. */
const BUILD_COMMANDS: Record<string, string> = { tiny: 'npm run models:tiny' };

/** The command that builds the preset at `url` (a fresh clone has none), or null. */
export function buildCommandFor(url: string | null | undefined): string | null {
  const preset = PRESETS.find((p) => p.url === url);
  return preset ? (BUILD_COMMANDS[preset.id] ?? null) : null;
}
