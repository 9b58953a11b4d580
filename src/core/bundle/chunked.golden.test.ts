/**
 * A bundle whose every graph keeps its weights in several external-data chunks
 * (scripts/rechunk_bundle.py over the tiny bundle) runs on onnxruntime-node, each graph
 * opened by path (ORT reads every chunk from beside the proto), and gives the same greedy
 * tokens as the single-file tiny bundle.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nodeEngineOver } from '../../cli/engine';
import { MemoryMediaSource } from '../media/memory-source';
import { goldenMedia, goldenOptions, type Golden } from '../testing/golden';
import type { BundleManifest } from './manifest';

const TINY = 'public/bundles/tiny';
const dir = mkdtempSync(join(tmpdir(), 'chunked-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!existsSync(`${TINY}/bundle.json`))('a re-chunked tiny bundle on onnxruntime-node', () => {
  it('lists several chunks per graph and captions with the tokens of the original', async () => {
    execFileSync('/usr/bin/python3', ['scripts/rechunk_bundle.py', TINY, dir, '--chunk-bytes', '16384', '--min-tensor-bytes', '256']);
    const m = JSON.parse(readFileSync(join(dir, 'bundle.json'), 'utf8')) as BundleManifest;
    expect(m.graphs.decoder_model_merged.externalData.map((e) => e.path)).toEqual([0, 1, 2, 3].map((k) => `onnx/decoder_model_merged.onnx_data${k ? `_${k}` : ''}`));
    expect(m.graphs.vision_encoder.externalData.length).toBeGreaterThan(2);

    const golden = JSON.parse(readFileSync(join(TINY, 'golden.json'), 'utf8')) as Golden;
    const c = golden.cases.find((x) => x.name === 'synthetic_4.5s')!;
    const run = c.runs.find((r) => r.modality === 'audio-video' && r.interleave === 'spread')!;
    const ids: number[][] = [];
    for (const bundle of [TINY, dir]) {
      const engine = nodeEngineOver({ warmUp: false });
      try {
        const info = await engine.load(bundle);
        const { mediaId } = await engine.open(new MemoryMediaSource(goldenMedia(c, info.manifest.audio.sampleRate)));
        ids.push((await engine.caption(mediaId, goldenOptions(golden, run, info.manifest, 37))).generatedTokenIds);
      } finally {
        await engine.dispose();
      }
    }
    expect(ids[0].length).toBeGreaterThan(8);
    expect(ids[1]).toEqual(ids[0]);
  }, 120_000);
});
