import { describe, expect, it } from 'vitest';
import { makeFakeBundle } from './fake-bundle.testutil';
import { FileListBundleSource } from './filelist-source';
import { type BundleProgress, loadBundle } from './load';
import { rejection } from './rejection.testutil';

/** Files as `<input type=file webkitdirectory>` gives them. */
function picked(files: Map<string, Uint8Array>, prefix: string): File[] {
  return [...files].map(([path, data]) => {
    const rel = `${prefix}${path}`;
    const f = new File([data as Uint8Array<ArrayBuffer>], rel.split('/').pop()!);
    Object.defineProperty(f, 'webkitRelativePath', { value: rel });
    return f;
  });
}

describe('FileListBundleSource', () => {
  it('strips the picked folder and loads the bundle with progress', async () => {
    const fake = await makeFakeBundle({ externalDataBytes: 300_000 });
    const src = new FileListBundleSource(picked(fake.files, 'tiny/'));
    expect(src.label).toBe('the folder "tiny"');
    expect(src.paths()).toContain('onnx/vision_encoder.onnx');
    const events: BundleProgress[] = [];
    const b = await loadBundle(src, { onProgress: (p) => events.push(p) });
    expect((await b.graph('embed_tokens')).model).toEqual(fake.files.get('onnx/embed_tokens.onnx'));
    expect(events.at(-1)!.overallLoaded).toBe(b.totalBytes);
  });

  it('verifies every picked file and hands chunks to onnxruntime as the picked File itself', async () => {
    const fake = await makeFakeBundle({ externalDataChunks: [200_000, 100_000] });
    const files = picked(fake.files, 'm/');
    const b = await loadBundle(new FileListBundleSource(files));
    const dec = await b.graph('decoder_model_merged');
    expect(dec.externalData.map((e) => e.path)).toEqual(['decoder_model_merged.onnx_data', 'decoder_model_merged.onnx_data_1']);
    expect(dec.externalData[0].data).toBe(files.find((f) => f.webkitRelativePath === 'm/onnx/decoder_model_merged.onnx_data'));
    expect(dec.externalData[1].data).toBe(files.find((f) => f.webkitRelativePath === 'm/onnx/decoder_model_merged.onnx_data_1'));

    const bad = new Map(fake.files);
    const chunk = bad.get('onnx/decoder_model_merged.onnx_data_1')!.slice();
    chunk[5] ^= 1;
    bad.set('onnx/decoder_model_merged.onnx_data_1', chunk);
    const err = await rejection(loadBundle(new FileListBundleSource(picked(bad, 'm/'))));
    expect(err.code).toBe('bundle/integrity');
    expect(err.details.file).toBe('onnx/decoder_model_merged.onnx_data_1');
  });

  it('finds the bundle when the parent folder was picked', async () => {
    const fake = await makeFakeBundle();
    const files = [...picked(fake.files, 'bundles/tiny/'), ...picked(new Map([['notes.txt', new Uint8Array(3)]]), 'bundles/')];
    const b = await loadBundle(new FileListBundleSource(files));
    expect(b.manifest.name).toBe('fake');
  });

  it('accepts files without a relative path (dropped loose files)', async () => {
    const fake = await makeFakeBundle();
    // dropped loose (no webkitRelativePath): the graphs under onnx/ cannot be placed
    const loose = [...fake.files].map(([p, d]) => new File([d as Uint8Array<ArrayBuffer>], p.split('/').pop()!));
    const src = new FileListBundleSource(loose);
    expect(src.label).toBe('the chosen files');
    const err = await rejection(loadBundle(src));
    expect(err.code).toBe('bundle/missing-file');
    expect(err.message).toContain('onnx/');
  });

  it('says bundle.json is missing when the wrong folder was picked', async () => {
    const err = await rejection(loadBundle(new FileListBundleSource(picked(new Map([['a.txt', new Uint8Array(1)]]), 'photos/'))));
    expect(err.code).toBe('bundle/not-found');
    expect(err.message).toContain('photos');
    expect(err.message).toMatch(/holds bundle\.json/);
  });

  it('names a missing or corrupt file', async () => {
    const fake = await makeFakeBundle();
    const missing = new Map(fake.files);
    missing.delete('tokenizer_config.json');
    const err = await rejection(loadBundle(new FileListBundleSource(picked(missing, 'tiny/'))));
    expect(err.code).toBe('bundle/missing-file');
    expect(err.message).toContain('tokenizer_config.json');

    const corrupt = new Map(fake.files);
    const bytes = corrupt.get('onnx/audio_encoder.onnx')!.slice();
    bytes[0] ^= 1;
    corrupt.set('onnx/audio_encoder.onnx', bytes);
    const bad = await rejection(loadBundle(new FileListBundleSource(picked(corrupt, 'tiny/'))));
    expect(bad.code).toBe('bundle/integrity');
    expect(bad.details.file).toBe('onnx/audio_encoder.onnx');
  });
});
