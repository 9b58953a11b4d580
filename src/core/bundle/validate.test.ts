import { describe, expect, it } from 'vitest';
import { CaptionError } from '../errors';
import { sampleManifest } from './fake-bundle.testutil';
import { validateManifest } from './validate';

type Json = Record<string, unknown>;

function badManifest(f: () => unknown): CaptionError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(CaptionError);
    expect((e as CaptionError).code).toBe('bundle/bad-manifest');
    return e as CaptionError;
  }
  throw new Error('expected bundle/bad-manifest');
}

/** Every object key path of the sample manifest (array elements not included). */
function fieldPaths(o: unknown, prefix = ''): string[] {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return [];
  return Object.entries(o).flatMap(([k, v]) => [`${prefix}${k}`, ...fieldPaths(v, `${prefix}${k}.`)]);
}

function without(path: string): Json {
  const m = structuredClone(sampleManifest()) as unknown as Json;
  const keys = path.split('.');
  let o = m;
  for (const k of keys.slice(0, -1)) o = o[k] as Json;
  delete o[keys[keys.length - 1]];
  return m;
}

function withField(path: string, value: unknown): Json {
  const m = structuredClone(sampleManifest()) as unknown as Json;
  const keys = path.split('.');
  let o = m;
  for (const k of keys.slice(0, -1)) o = o[k] as Json;
  o[keys[keys.length - 1]] = value;
  return m;
}

describe('validateManifest', () => {
  it('accepts a complete manifest and returns it', () => {
    const m = sampleManifest();
    expect(validateManifest(m)).toBe(m);
  });

  it('accepts unknown extra fields and an absent golden', () => {
    const m = withField('extra', { anything: 1 });
    delete m.golden;
    expect(() => validateManifest(m)).not.toThrow();
  });

  it('rejects what is not an object', () => {
    for (const v of [null, 3, 'x', [], undefined]) badManifest(() => validateManifest(v));
  });

  // position_ids is the one optional port (decoders with GroupQueryAttention derive positions from the mask).
  const required = fieldPaths(sampleManifest()).filter((f) => f !== 'graphs.decoder_model_merged.inputs.position_ids');
  it('knows every field of the sample manifest', () => {
    expect(required.length).toBeGreaterThan(60);
  });

  it.each(required)('names the missing field %s', (path) => {
    const err = badManifest(() => validateManifest(without(path)));
    expect(err.details.field).toBe(path);
    expect(err.message).toContain(`"${path}"`);
    expect(err.message).toMatch(/re-export|download/i);
  });

  it.each([
    ['format', 'onnx-bundle'],
    ['version', 0],
    ['version', '1'],
    ['name', ''],
    ['randomWeights', 'yes'],
    ['graphs.vision_encoder.sha256', 'ABC'],
    ['graphs.vision_encoder.sha256', 'A'.repeat(64)],
    ['graphs.vision_encoder.bytes', -1],
    ['graphs.vision_encoder.bytes', 1.5],
    ['graphs.vision_encoder.path', '../etc/passwd'],
    ['graphs.vision_encoder.path', '/abs.onnx'],
    ['graphs.vision_encoder.path', 'onnx\\x.onnx'],
    ['graphs.audio_encoder.dtype', 'int8'],
    ['graphs.vision_encoder.path', 'ftp://host/x.onnx'],
    ['graphs.audio_encoder.inputs', []],
    ['graphs.audio_encoder.inputs', { input_features: '' }],
    ['graphs.audio_encoder.outputs', [1]],
    ['graphs.audio_encoder.device', 'tpu'],
    ['graphs.decoder_model_merged.kvCache', { dtype: 'int8', layout: 'batch,kv_heads,sequence,head_dim' }],
    ['graphs.decoder_model_merged.kvCache', { dtype: 'float16', layout: 'batch,sequence,kv_heads,head_dim' }],
    ['graphs.decoder_model_merged.logits', 'first'],
    ['graphs.decoder_model_merged.largestTensorBytes', -5],
    ['graphs.embed_tokens.externalData', {}],
    ['vision.mean', [0.5, 0.5]],
    ['vision.std', [0.5, 0, 0.5]],
    ['vision.resample', 'bilinear'],
    ['vision.grid', 0],
    ['sampling.fps', 0],
    ['sampling.minFrames', 31],
    ['audio.windowSeconds', -30],
    ['audio.hopLength', 160.5],
    ['llm.kvHeads', 3],
    ['llm.tieEmbeddings', 1],
    ['interleave.default', 'random'],
    ['generation.stopTokenIds', []],
    ['generation.maxNewTokens', 0],
    ['generation.repetitionPenalty', 0],
    ['golden', { path: 'golden.json', bytes: 1 }],
  ])('rejects %s = %j', (path, value) => {
    const err = badManifest(() => validateManifest(withField(path, value)));
    expect(String(err.details.field)).toContain(path.split('.')[0]);
  });

  it('names the exact element of a bad list entry', () => {
    const m = withField('generation.stopTokenIds', [151645, -1]);
    expect(badManifest(() => validateManifest(m)).details.field).toBe('generation.stopTokenIds[1]');
    const ext = withField('graphs.decoder_model_merged.externalData', [{ path: 'd.onnx_data', bytes: 3 }]);
    expect(badManifest(() => validateManifest(ext)).details.field).toBe('graphs.decoder_model_merged.externalData[0].sha256');
  });

  it('requires tokenizer.json and tokenizer_config.json', () => {
    const m = sampleManifest();
    m.tokenizer.files = m.tokenizer.files.filter((f) => f.path !== 'tokenizer_config.json');
    const err = badManifest(() => validateManifest(m));
    expect(err.details.field).toBe('tokenizer.files');
    expect(err.message).toContain('tokenizer_config.json');
  });

  it('says a newer bundle version needs a newer app', () => {
    const err = badManifest(() => validateManifest(withField('version', 3)));
    expect(err.details.field).toBe('version');
    expect(err.message).toMatch(/update the app/i);
  });

  it('accepts absolute https URLs for files (presets over public exports) and an omitted position_ids port', () => {
    const m = withField('graphs.vision_encoder.path', 'https://huggingface.co/org/model/resolve/0123abc/onnx/vision_encoder.onnx');
    delete ((m.graphs as Json).decoder_model_merged as { inputs: Json }).inputs.position_ids;
    expect(() => validateManifest(m)).not.toThrow();
  });

  it('names a family it does not know, and the port a family needs', () => {
    let err: unknown;
    try {
      validateManifest(withField('family', 'gpt-9'));
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'bundle/unknown-family', details: { family: 'gpt-9' } });
    expect((err as Error).message).toContain('video-salmonn-2');
    const noLogits = without('graphs.decoder_model_merged.outputs.logits');
    expect(badManifest(() => validateManifest(noLogits)).message).toMatch(/decoder_model_merged port "logits"/);
  });

  it('rejects one path listed with two hashes', () => {
    const m = sampleManifest();
    m.graphs.audio_aligner.path = m.graphs.audio_encoder.path;
    m.graphs.audio_aligner.sha256 = '1'.repeat(64);
    expect(badManifest(() => validateManifest(m)).message).toContain(m.graphs.audio_encoder.path);
  });
});
