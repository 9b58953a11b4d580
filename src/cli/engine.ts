/** The in-process Engine on Node: bundles from folders, media through ffmpeg, onnxruntime-node. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { FsBundleSource } from '../core/bundle/fs-source';
import { HubPresetSource, type LitePins } from '../core/bundle/hub-preset';
import type { BundleSource } from '../core/bundle/source';
import { CaptionError } from '../core/errors';
import type { RuntimeOptions } from '../core/runtime/backend';
import { InProcessEngine } from '../core/engine';
import { openNodeMedia } from '../core/media/node';
import type { MediaSource } from '../core/media/types';
import { ortNode } from './ort-node';

/** A bundle folder, or the lite preset's pinned public files at a Hub endpoint. */
export type NodeLocation = string | { kind: 'hub'; pins: LitePins; endpoint?: string };

export type NodeEngine = InProcessEngine<NodeLocation, string>;

/** The pinned record in `pinsFile` at `endpoint` (null: huggingface.co). */
export function hubLocation(pinsFile: string, endpoint: string | null): NodeLocation {
  let pins: LitePins;
  try {
    pins = JSON.parse(readFileSync(resolve(pinsFile), 'utf8')) as LitePins;
  } catch (e) {
    throw new CaptionError('bundle/not-found', `Could not read the pinned record ${pinsFile}: ${e instanceof Error ? e.message : String(e)}.`, { file: pinsFile });
  }
  return { kind: 'hub', pins, ...(endpoint ? { endpoint } : {}) };
}

function nodeSource(location: NodeLocation, runtime: RuntimeOptions): BundleSource {
  if (typeof location === 'string') return new FsBundleSource(resolve(location));
  return new HubPresetSource(location.pins, { endpoint: location.endpoint, runtime, cache: false });
}

/** `warmUp: false` for one-shot use (a warm-up run would only add its own time). */
export function nodeEngine(options: { warmUp?: boolean } = {}): NodeEngine {
  return new InProcessEngine<NodeLocation, string>({
    ort: ortNode(),
    platform: 'node',
    source: nodeSource,
    openMedia: (path) => openNodeMedia(resolve(path)),
    adapter: async () => null,
    warmUp: options.warmUp,
  });
}

/** The same engine over already-opened media (tests: in-memory sources). */
export function nodeEngineOver(options: { warmUp?: boolean } = {}): InProcessEngine<NodeLocation, MediaSource> {
  return new InProcessEngine<NodeLocation, MediaSource>({
    ort: ortNode(),
    platform: 'node',
    source: nodeSource,
    openMedia: async (media) => media,
    adapter: async () => null,
    warmUp: options.warmUp,
  });
}
