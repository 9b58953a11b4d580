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
