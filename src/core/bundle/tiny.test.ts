import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FsBundleSource } from './fs-source';
import { type BundleProgress, loadBundle } from './load';

/** The generated tiny bundle (npm run models:tiny), when it has been built. */
const TINY = resolve('public/bundles/tiny');

describe.skipIf(!existsSync(`${TINY}/bundle.json`))('the tiny test bundle', () => {
  it('validates, loads and verifies from disk', async () => {
    const events: BundleProgress[] = [];
    const b = await loadBundle(new FsBundleSource(TINY), { onProgress: (p) => events.push(p) });
    expect(b.manifest.randomWeights).toBe(true);
    expect(events.at(-1)!.overallLoaded).toBe(b.totalBytes);
    for (const name of b.graphs) {
      const g = await b.graph(name);
      expect(g.model.byteLength).toBe(b.manifest.graphs[name].bytes);
      // an ONNX ModelProto starts with field 1 (ir_version, varint): byte 0x08
      expect(g.model[0]).toBe(0x08);
    }
    expect(b.tokenizerJson).toHaveProperty('model');
    expect(b.tokenizerConfig).toHaveProperty('chat_template');
  });
});
