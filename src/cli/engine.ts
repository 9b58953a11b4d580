/** The in-process Engine on Node: bundles from folders, media through ffmpeg, onnxruntime-node. */
import { resolve } from 'node:path';
import { FsBundleSource } from '../core/bundle/fs-source';
import { InProcessEngine } from '../core/engine';
import { openNodeMedia } from '../core/media/node';
import type { MediaSource } from '../core/media/types';
import { ortNode } from './ort-node';

export type NodeEngine = InProcessEngine<string, string>;

/** `warmUp: false` for one-shot use (a warm-up run would only add its own time). */
export function nodeEngine(options: { warmUp?: boolean } = {}): NodeEngine {
  return new InProcessEngine<string, string>({
    ort: ortNode(),
    platform: 'node',
    source: (dir) => new FsBundleSource(resolve(dir)),
    openMedia: (path) => openNodeMedia(resolve(path)),
    adapter: async () => null,
    warmUp: options.warmUp,
  });
}

/** The same engine over already-opened media (tests: in-memory sources). */
export function nodeEngineOver(options: { warmUp?: boolean } = {}): InProcessEngine<string, MediaSource> {
  return new InProcessEngine<string, MediaSource>({
    ort: ortNode(),
    platform: 'node',
    source: (dir) => new FsBundleSource(resolve(dir)),
    openMedia: async (media) => media,
    adapter: async () => null,
    warmUp: options.warmUp,
  });
}
