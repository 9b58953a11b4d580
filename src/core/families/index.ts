/** The model families this app can run, by the manifest's `family` name. */
import { CaptionError } from '../errors';
import { liteFamily } from './lite';
import { salmonnFamily } from './salmonn';
import type { ModelFamily } from './types';

export const FAMILIES: Readonly<Record<string, ModelFamily>> = {
  [salmonnFamily.id]: salmonnFamily,
  [liteFamily.id]: liteFamily,
};

export function familyById(id: string): ModelFamily {
  const f = FAMILIES[id];
  if (!f) {
    throw new CaptionError(
      'bundle/unknown-family',
      `bundle.json names the model family "${id}", which this app cannot run (it knows ${Object.keys(FAMILIES).join(', ')}). Update the app, or load a bundle of a known family.`,
      { family: id },
    );
  }
  return f;
}
