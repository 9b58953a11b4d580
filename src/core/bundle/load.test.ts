import { mkdtemp, readFile, rm, truncate, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FakeBundle, makeFakeBundle } from './fake-bundle.testutil';
import { writeFakeBundle } from './fake-bundle-fs.testutil';
import { sha256Hex } from './hash';
import { FsBundleSource } from './fs-source';
import { type BundleProgress, loadBundle } from './load';
import type { BundleSource } from './source';
import { rejection } from './rejection.testutil';

let dir: string;
let fake: FakeBundle;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bundle-test-'));
  fake = await makeFakeBundle({ externalDataBytes: 50_000 });
  await writeFakeBundle(dir, fake);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('loadBundle + FsBundleSource', () => {
  it('loads a good bundle with every file verified', async () => {
    const b = await loadBundle(new FsBundleSource(dir));
    expect(b.manifest.name).toBe('fake');
    expect(b.source).toBe(dir);
    const vision = await b.graph('vision_encoder');
    expect(vision.model).toEqual(fake.files.get('onnx/vision_encoder.onnx'));
    expect(vision.externalData).toEqual([]);
    const dec = await b.graph('decoder_model_merged');
    expect(dec.externalData).toHaveLength(1);
    // relative to the graph's folder, as ONNX external-data locations are
    expect(dec.externalData[0].path).toBe('decoder_model_merged.onnx_data');
    expect(dec.externalData[0].data).toEqual(fake.files.get('onnx/decoder_model_merged.onnx_data'));
    expect(b.tokenizerJson).toMatchObject({ model: { type: 'BPE' } });
    expect(b.tokenizerConfig).toHaveProperty('chat_template');
    expect(b.golden).toMatchObject({ caption: 'fake' });
    const sum = [...fake.files].filter(([p]) => p !== 'bundle.json').reduce((s, [, d]) => s + d.byteLength, 0);
    expect(b.totalBytes).toBe(sum);
    expect(b.fromCache).toBe(false);
  });

  it('gives a graph\'s proto path when the proto and its chunks are files side by side, else null', async () => {
    const fs = new FsBundleSource(dir);
    const b = await loadBundle(fs);
    expect(b.graphFile('decoder_model_merged')).toBe(join(dir, 'onnx', 'decoder_model_merged.onnx'));
    expect(b.graphFile('vision_encoder')).toBe(join(dir, 'onnx', 'vision_encoder.onnx'));
    // no local files (URL, picked folder): null, the bytes are read instead
    const readOnly: BundleSource = { label: fs.label, read: (p, onProgress, signal) => fs.read(p, onProgress, signal) };
    expect((await loadBundle(readOnly)).graphFile('decoder_model_merged')).toBeNull();
    // a chunk kept anywhere but beside its proto: ORT would not find it there, so null
    const moved: BundleSource = {
      label: fs.label,
      read: fs.read.bind(fs),
      fetchFile: async (f, onProgress, signal) => {
        const h = await fs.fetchFile(f, onProgress, signal);
        return f.path.endsWith('.onnx_data') ? { ...h, path: join(dir, 'elsewhere', 'decoder_model_merged.onnx_data') } : h;
      },
    };
    const m = await loadBundle(moved);
    expect(m.graphFile('decoder_model_merged')).toBeNull();
    expect(m.graphFile('embed_tokens')).toBe(join(dir, 'onnx', 'embed_tokens.onnx'));
    await expect(async () => (await loadBundle(fs, { graphs: ['embed_tokens'] })).graphFile('vision_encoder')).rejects.toThrow(/not loaded/);
  });

  it('loads only the graphs asked for', async () => {
    const read: string[] = [];
    const fs = new FsBundleSource(dir);
    const spy: BundleSource = { label: fs.label, read: (p, onProgress, signal) => (read.push(p), fs.read(p, onProgress, signal)) };
    const b = await loadBundle(spy, { graphs: ['embed_tokens'] });
    expect(read).toEqual(['bundle.json', 'tokenizer.json', 'tokenizer_config.json', 'golden.json', 'onnx/embed_tokens.onnx']);
    expect((await b.graph('embed_tokens')).model.byteLength).toBe(fake.manifest.graphs.embed_tokens.bytes);
    await expect(b.graph('vision_encoder')).rejects.toThrow(/not loaded/);
  });

  it('reports a missing file by name', async () => {
    await unlink(join(dir, 'onnx', 'audio_encoder.onnx'));
    const err = await rejection(loadBundle(new FsBundleSource(dir)));
    expect(err.code).toBe('bundle/missing-file');
    expect(err.message).toContain('onnx/audio_encoder.onnx');
    expect(err.details.file).toBe('onnx/audio_encoder.onnx');
  });

  it('reports a folder without bundle.json (or no folder) as not found', async () => {
    await unlink(join(dir, 'bundle.json'));
    const err = await rejection(loadBundle(new FsBundleSource(dir)));
    expect(err.code).toBe('bundle/not-found');
    expect(err.message).toContain('bundle.json');
    expect((await rejection(loadBundle(new FsBundleSource(join(dir, 'nope'))))).code).toBe('bundle/not-found');
  });

  it('detects one corrupted byte and names the file with both hashes', async () => {
    const path = join(dir, 'onnx', 'audio_aligner.onnx');
    const bytes = await readFile(path);
    bytes[100] ^= 0xff;
    await writeFile(path, bytes);
    const err = await rejection(loadBundle(new FsBundleSource(dir)));
    expect(err.code).toBe('bundle/integrity');
    expect(err.details.file).toBe('onnx/audio_aligner.onnx');
    expect(err.message).toContain('onnx/audio_aligner.onnx');
    expect(err.message).toContain(fake.manifest.graphs.audio_aligner.sha256);
    expect(err.details.actual).toMatch(/^[0-9a-f]{64}$/);
    expect(err.message).toContain(String(err.details.actual));
    expect(err.message).toMatch(/again/);
  });

  it('detects a truncated file', async () => {
    await truncate(join(dir, 'onnx', 'decoder_model_merged.onnx_data'), 1000);
    const err = await rejection(loadBundle(new FsBundleSource(dir)));
    expect(err.code).toBe('bundle/integrity');
    expect(err.details.file).toBe('onnx/decoder_model_merged.onnx_data');
    expect(err.message).toMatch(/truncated: 1000 bytes instead of 50000/);
  });

  it('rejects a manifest that is not JSON', async () => {
    await writeFile(join(dir, 'bundle.json'), '{"format": "salmonn-bundle", ');
    const err = await rejection(loadBundle(new FsBundleSource(dir)));
    expect(err.code).toBe('bundle/bad-manifest');
    expect(err.message).toMatch(/bundle\.json .*not valid JSON/);
  });

  it('rejects a manifest with a bad field, naming it', async () => {
    const m = structuredClone(fake.manifest) as unknown as { llm: Record<string, unknown> };
    delete m.llm.layers;
    await writeFile(join(dir, 'bundle.json'), JSON.stringify(m));
    const err = await rejection(loadBundle(new FsBundleSource(dir)));
    expect(err.code).toBe('bundle/bad-manifest');
    expect(err.details.field).toBe('llm.layers');
  });

  it('rejects a tokenizer file that is not JSON even when its hash matches', async () => {
    const other = await makeFakeBundle();
    // replace tokenizer.json by non-JSON bytes and fix up the manifest's hash
    const junk = new TextEncoder().encode('not json');
    const tok = other.manifest.tokenizer.files.find((f) => f.path === 'tokenizer.json')!;
    Object.assign(tok, { bytes: junk.byteLength, sha256: await sha256Hex(junk) });
    other.files.set('tokenizer.json', junk);
    other.files.set('bundle.json', new TextEncoder().encode(JSON.stringify(other.manifest)));
    await writeFakeBundle(dir, other);
    const err = await rejection(loadBundle(new FsBundleSource(dir)));
    expect(err.code).toBe('bundle/bad-manifest');
    expect(err.details.file).toBe('tokenizer.json');
  });

  it('reports progress that adds up to the total, file by file', async () => {
    const big = await makeFakeBundle({ graphBytes: (_n, i) => (i + 1) * 3_000_000 + 17, externalDataBytes: 9_000_001 });
    await writeFakeBundle(dir, big);
    const events: BundleProgress[] = [];
    const b = await loadBundle(new FsBundleSource(dir), { onProgress: (p) => events.push(p) });
    const total = b.totalBytes;
    expect(total).toBeGreaterThan(50_000_000);
    expect(events.every((e) => e.overallTotal === total && !e.fromCache)).toBe(true);
    // overall progress never goes back and ends exactly at the total
    for (let i = 1; i < events.length; i++) expect(events[i].overallLoaded).toBeGreaterThanOrEqual(events[i - 1].overallLoaded);
    expect(events.at(-1)!.overallLoaded).toBe(total);
    // each file ends with a complete event, and the completed sizes add up
    const ends = new Map<string, number>();
    for (const e of events) if (e.loaded === e.total) ends.set(e.file, e.total);
    expect([...ends.values()].reduce((a, n) => a + n, 0)).toBe(total);
    expect(ends.size).toBe(big.files.size - 1);
    // big files report several times as they are read (4 MiB chunks)
    expect(events.filter((e) => e.file === 'onnx/decoder_model_merged.onnx').length).toBeGreaterThan(3);
  });

  it('stops when aborted, before or during the load', async () => {
    const pre = new AbortController();
    pre.abort();
    expect((await rejection(loadBundle(new FsBundleSource(dir), { signal: pre.signal }))).code).toBe('runtime/interrupted');

    const ctl = new AbortController();
    const seen: string[] = [];
    const err = await rejection(
      loadBundle(new FsBundleSource(dir), {
        signal: ctl.signal,
        onProgress: (p) => {
          seen.push(p.file);
          if (p.file === 'onnx/vision_encoder.onnx' && p.loaded === p.total) ctl.abort();
        },
      }),
    );
    expect(err.code).toBe('runtime/interrupted');
    expect(seen).not.toContain('onnx/audio_encoder.onnx');
  });

  it('refuses manifest paths that leave the bundle folder', async () => {
    const m = structuredClone(fake.manifest);
    m.graphs.vision_encoder.path = '../outside.onnx';
    await writeFile(join(dir, 'bundle.json'), JSON.stringify(m));
    const err = await rejection(loadBundle(new FsBundleSource(dir)));
    expect(err.code).toBe('bundle/bad-manifest');
    expect(err.details.field).toBe('graphs.vision_encoder.path');
    const direct = await rejection(new FsBundleSource(dir).read('../x'));
    expect(direct.code).toBe('bundle/bad-manifest');
  });
});
