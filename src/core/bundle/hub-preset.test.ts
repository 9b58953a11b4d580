/**
 * The lite preset loaded straight from files in the Hub's layout, with no bundle.json of ours:
 * the fixture mirror (npm run models:lite-fixture → models/lite/mirror/, the pinned repos,
 * commits and public file names) served over HTTP with the Hub's headers. The manifest is built
 * at load time from the repos' own JSON files; sizes and sha256 come from the pins or from
 * X-Linked-Size / X-Linked-ETag; a tampered file, a missing one and a graph with other I/O each
 * end in a message naming it. The CLI captions a real video through the mirror.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ortNode } from '../../cli/ort-node';
import { CaptionError } from '../errors';
import { loadModel } from '../families/load';
import type { CaptionReport } from '../report';
import type { GpuAdapterFacts } from '../runtime/capabilities';
import { chooseVariant, HubPresetSource, hubFileUrl, type LitePins } from './hub-preset';
import { MIRROR_DIR, startHubMirror, type HubMirrorServer } from './hub-mirror.testutil';
import { loadBundle } from './load';
import { MemoryCacheStorage } from './memory-cache.testutil';
import { preflight } from './preflight';
import { Q8_ON_WASM } from '../runtime/backend';

const VIDEO = 'e2e/fixtures/out/h264_aac.mp4'; // 12 s with speech-like audio
const mirrorPins = JSON.parse(readFileSync(`${MIRROR_DIR}/pins.json`, 'utf8')) as LitePins;
const publicPins = JSON.parse(readFileSync('models/lite/pins.json', 'utf8')) as LitePins;
const node = { prefer: 'auto' as const, platform: 'node' as const, adapter: null };
const LLAVA = 'llava-hf/llava-onevision-qwen2-0.5b-ov-hf/resolve/2c9ba3bdda7dd7bc8de92c66da6f448561ddf7c9';
const WHISPER = 'onnx-community/whisper-base/resolve/0dc963c325ab2554e6dcedbb458decbffb4dc5b1';
/** A real (not fallback) WebGPU adapter with shader-f16, changed by `f`. */
const gpu = (f: Partial<GpuAdapterFacts> = {}): GpuAdapterFacts => ({ vendor: 'v', architecture: 'a', device: '', description: '', isFallback: false, shaderF16: true, maxBufferSize: 2 ** 31, ...f });
const AST = 'Xenova/ast-finetuned-audioset-10-10-0.4593/resolve/249a1fbf0286b40e7f1ed687a8ae396997bf7dc6';

/** Pins with one graph's entry changed (null sha256/bytes: the Hub's headers must say). */
function pinsWith(role: string, patch: Record<string, unknown>): LitePins {
  const p = structuredClone(mirrorPins);
  Object.assign((p.variants.q4.graphs as Record<string, object>)[role], patch);
  return p;
}

let hub: HubMirrorServer;
beforeAll(async () => {
  hub = await startHubMirror();
});
afterAll(() => hub.close());

async function load(pins: LitePins, options: { cacheStorage?: CacheStorage } = {}) {
  const source = new HubPresetSource(pins, { endpoint: hub.endpoint, runtime: node, cache: Boolean(options.cacheStorage), cacheStorage: options.cacheStorage });
  return { source, bundle: await loadBundle(source) };
}

async function failure(p: Promise<unknown>): Promise<CaptionError> {
  const e = await p.then(() => null, (x: unknown) => x);
  expect(e).toBeInstanceOf(CaptionError);
  return e as CaptionError;
}

describe('chooseVariant: q4f16 where the adapter has shader-f16, q4 where 4-bit kernels exist (WebGPU, Node), q8 on WASM', () => {
  const noFourBit = 'its decoders would run on WASM, which has no 4-bit kernels (4-bit kernels: WebGPU or Node), as';
  it.each([
    ['a GPU with shader-f16', { prefer: 'auto', platform: 'web', adapter: gpu() }, 'q4f16', 'q4f16: this adapter has webgpu and shader-f16.'],
    ['a GPU without shader-f16', { prefer: 'auto', platform: 'web', adapter: gpu({ shaderF16: false }) }, 'q4', 'q4: its decoder runs on WebGPU, which has 4-bit kernels (passed over: q4f16, because the adapter has no shader-f16).'],
    ['no WebGPU adapter', { prefer: 'auto', platform: 'web', adapter: null }, 'q8', `q8: it needs no GPU feature (passed over: q4f16, because there is no WebGPU adapter; q4, because ${noFourBit} there is no WebGPU adapter).`],
    ['WASM chosen in the settings', { prefer: 'wasm', platform: 'web', adapter: gpu() }, 'q8', `q8: it needs no GPU feature (passed over: q4f16, because WASM was chosen in the settings; q4, because ${noFourBit} WASM was chosen in the settings).`],
    ['a software adapter (not asked for)', { prefer: 'auto', platform: 'web', adapter: gpu({ isFallback: true, shaderF16: false }) }, 'q8', `q8: it needs no GPU feature (passed over: q4f16, because the only WebGPU adapter is a software fallback; q4, because ${noFourBit} the only WebGPU adapter is a software fallback).`],
    ['a software adapter with WebGPU asked for', { prefer: 'webgpu', platform: 'web', adapter: gpu({ isFallback: true, shaderF16: false }) }, 'q4', 'q4: its decoder runs on WebGPU, which has 4-bit kernels (passed over: q4f16, because the adapter has no shader-f16).'],
    ['Node', node, 'q4', 'q4: onnxruntime-node has 4-bit kernels (passed over: q4f16, because Node runs the graphs on the CPU).'],
  ] as const)('%s → %s', (_what, runtime, id, reason) => {
    const v = chooseVariant(publicPins, runtime);
    expect(v.id).toBe(id);
    expect(v.reason).toBe(reason);
  });

  it('the q8 variant is q4 but for the two decoders, which are the int8 `_quantized` files on the CPU, sizes and sha256 left to the Hub', () => {
    const { q4, q8 } = publicPins.variants;
    expect(q8.requires).toEqual([]);
    expect(q4.requires).toEqual(['4-bit-kernels']);
    expect(Object.keys(publicPins.variants).at(-1)).toBe('q8');
    const { decoder_model_merged: llm, speech_decoder: speech, ...rest } = q8.graphs;
    expect(llm).toEqual({ repo: 'llava', path: 'onnx/decoder_model_merged_quantized.onnx', dtype: 'q8', device: 'cpu', approxBytes: null, lfsSha256: null });
    expect(speech).toEqual({ repo: 'whisper', path: 'onnx/decoder_model_merged_quantized.onnx', dtype: 'q8', device: 'cpu', approxBytes: null, lfsSha256: null });
    const { decoder_model_merged: _a, speech_decoder: _b, ...q4rest } = q4.graphs;
    expect(rest).toEqual(q4rest);
  });
});

describe('HubPresetSource on the fixture mirror in the Hub layout', () => {
  it('builds the manifest at load time from the repos\' own files, with the public file names and the facts of models/README.md', async () => {
    const { source, bundle } = await load(mirrorPins);
    expect(source.variant.id).toBe('q4');
    const m = bundle.manifest as typeof bundle.manifest & { lite: { vision: object; speech: { tokens: Record<string, unknown> } & Record<string, unknown> } };
    // files: the pinned repos, commits and public names (models/README.md "Files")
    const url = (repoPath: string, file: string) => `${hub.endpoint}/${repoPath}/${file}`;
    expect(Object.fromEntries(Object.entries(m.graphs).map(([r, g]) => [r, [g.path, g.dtype, g.device]]))).toEqual({
      vision_encoder: [url(LLAVA, 'onnx/vision_encoder_q4.onnx'), 'q4', 'gpu'],
      embed_tokens: [url(LLAVA, 'onnx/embed_tokens_quantized.onnx'), 'q8', 'cpu'],
      decoder_model_merged: [url(LLAVA, 'onnx/decoder_model_merged_q4.onnx'), 'q4', 'gpu'],
      speech_encoder: [url(WHISPER, 'onnx/encoder_model_q4.onnx'), 'q4', 'gpu'],
      speech_decoder: [url(WHISPER, 'onnx/decoder_model_merged_q4.onnx'), 'q4', 'cpu'],
      sound_tagger: [url(AST, 'onnx/model_quantized.onnx'), 'q8', 'cpu'],
    });
    expect(m.tokenizer.files.map((f) => f.path)).toEqual([url(LLAVA, 'tokenizer.json'), url(LLAVA, 'tokenizer_config.json'), url(WHISPER, 'tokenizer.json'), url(WHISPER, 'tokenizer_config.json')]);
    for (const [role, g] of Object.entries(m.graphs)) {
      const file = readFileSync(`${MIRROR_DIR}/${new URL(g.path).pathname.slice(1)}`);
      expect([g.bytes, g.sha256], role).toEqual([file.byteLength, (mirrorPins.variants.q4.graphs as Record<string, { lfsSha256: string }>)[role].lfsSha256]);
    }
    // the facts table of models/README.md (grid, pooling, token ids, Whisper specials); widths are the fixture's
    expect(m.vision).toMatchObject({ imageSize: 384, patchSize: 14, grid: 27, pooledGrid: 14, tokensPerFrame: 196, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], resample: 'bicubic' });
    expect(m.audio).toMatchObject({ sampleRate: 16000, windowSeconds: 30, numMels: 80, nFft: 400, hopLength: 160, melFrames: 3000, encoderFrames: 1500 });
    expect(m.lite.vision).toEqual({ pool: 'bilinear', imageTokenId: 151646, videoTokenId: 151647, videoToken: '<video>' });
    expect(m.lite.speech.tokens).toMatchObject({ prompt: [50258, 50259, 50359], eos: 50257, noTimestamps: 50363, timestampBegin: 50364, timeStep: 0.02 });
    expect(m.generation.stopTokenIds).toEqual([151645]);
    expect(m.prompt.chatTemplate).toContain('<video>');
    expect([m.name, m.randomWeights]).toEqual(['Lite fixture from the Hub layout (q4, random weights)', true]);
    // every file went through the URL loader and was verified; the mirror's tokenizer bytes are what the model reads
    expect(bundle.tokenizerJson).toEqual(JSON.parse(readFileSync(`${MIRROR_DIR}/${LLAVA}/tokenizer.json`, 'utf8')));
  });

  it('downloads each file once, and nothing at all on a second visit (the built manifest and the files are cached)', async () => {
    const caches = new MemoryCacheStorage() as unknown as CacheStorage;
    hub.requests.length = 0;
    await load(mirrorPins, { cacheStorage: caches });
    const gets = hub.requests.filter((r) => r.startsWith('GET '));
    expect(gets.length).toBe(new Set(gets).size); // tokenizer files fetched for the manifest are not fetched again
    expect(gets).toContain(`GET /${LLAVA}/onnx/decoder_model_merged_q4.onnx`);
    hub.requests.length = 0;
    const again = await load(mirrorPins, { cacheStorage: caches });
    expect(hub.requests).toEqual([]);
    expect(again.bundle.fromCache).toBe(true);
  });

  it('takes size and sha256 from X-Linked-Size / X-Linked-ETag where the pins have none, and checks the bytes against them', async () => {
    const pins = pinsWith('speech_encoder', { lfsSha256: null, bytes: null });
    hub.requests.length = 0;
    const { bundle } = await load(pins);
    expect(hub.requests).toContain(`HEAD /${WHISPER}/onnx/encoder_model_q4.onnx`);
    expect(bundle.manifest.graphs.speech_encoder.sha256).toBe(mirrorPins.variants.q4.graphs.speech_encoder.lfsSha256);
  });

  it('a file whose bytes differ from the pinned sha256 ends in bundle/integrity naming the file', async () => {
    const path = `${WHISPER}/onnx/encoder_model_q4.onnx`;
    const bytes = readFileSync(`${MIRROR_DIR}/${path}`);
    const tampered = new Uint8Array(bytes);
    tampered[tampered.length - 1] ^= 0xff;
    hub.overrides.replace.set(path, tampered);
    try {
      const e = await failure(load(mirrorPins));
      expect(e.code).toBe('bundle/integrity');
      expect(e.message).toContain(`The file "${hub.endpoint}/${path}"`);
      expect(e.message).toMatch(new RegExp(`is corrupt: its sha256 is [0-9a-f]{64}, but bundle.json expects ${mirrorPins.variants.q4.graphs.speech_encoder.lfsSha256}`));
      // the Hub announcing another sha256 than the pin is caught before any download
      const e2 = await failure(load(pinsWith('speech_encoder', { bytes: null })));
      expect(e2.code).toBe('bundle/integrity');
      expect(e2.message).toContain(`The graph "speech_encoder" at ${hub.endpoint}/${path} is not the pinned file`);
    } finally {
      hub.overrides.replace.clear();
    }
  });

  it('a missing graph or config file ends in a message naming it', async () => {
    const graph = `${WHISPER}/onnx/decoder_model_merged_q4.onnx`;
    hub.overrides.remove.add(graph);
    hub.overrides.remove.add(`${WHISPER}/generation_config.json`);
    try {
      const e = await failure(load(mirrorPins));
      expect(e.code).toBe('bundle/missing-file');
      expect(e.message).toContain(`"${hub.endpoint}/${WHISPER}/generation_config.json" is missing`);
      hub.overrides.remove.delete(`${WHISPER}/generation_config.json`);
      const e2 = await failure(load(pinsWith('speech_decoder', { lfsSha256: null, bytes: null })));
      expect(e2.code).toBe('bundle/missing-file');
      expect(e2.message).toBe(`The graph "speech_decoder" is missing at ${hub.endpoint}/${graph} (the server answered 404). The pinned revision no longer has it, or the mirror is incomplete.`);
      const e3 = await failure(load(mirrorPins));
      expect(e3.code).toBe('bundle/missing-file');
      expect(e3.message).toContain(`"${hub.endpoint}/${graph}" is missing`);
    } finally {
      hub.overrides.remove.clear();
    }
  });

  it('a graph whose I/O differs from the contract ends in bundle/graph-contract naming the graph', async () => {
    // the Whisper encoder's bytes where the vision encoder should be (the Hub's headers describe them)
    hub.overrides.replace.set(`${LLAVA}/onnx/vision_encoder_q4.onnx`, readFileSync(`${MIRROR_DIR}/${WHISPER}/onnx/encoder_model_q4.onnx`));
    try {
      const { bundle } = await load(pinsWith('vision_encoder', { lfsSha256: null, bytes: null }));
      const e = await failure(loadModel(ortNode(), bundle, { ...node, warmUp: false }));
      expect(e.code).toBe('bundle/graph-contract');
      expect(e.message).toMatch(/^The graph "vision_encoder" has no input "pixel_values" \(port pixel_values\), which bundle\.json declares; its inputs are input_features\./);
    } finally {
      hub.overrides.replace.clear();
    }
  });

  /** A server that sends the size but no LFS sha256 (a plain static file server, or a browser behind the Hub's redirect); counts GETs per path. */
  const noLfsHeaders = (gets: Map<string, number>): typeof fetch => async (u, init) => {
    const res = await fetch(u, init);
    const headers = new Headers(res.headers);
    headers.delete('x-linked-etag');
    const path = new URL(String(u)).pathname;
    if ((init?.method ?? 'GET') === 'GET') gets.set(path, (gets.get(path) ?? 0) + 1);
    return new Response(init?.method === 'HEAD' ? null : res.body, { status: res.status, headers });
  };

  it('a graph nobody gives a sha256 for is hashed on its one download from its commit URL, and the manifest says so', async () => {
    const pins = pinsWith('vision_encoder', { lfsSha256: null, bytes: null });
    const gets = new Map<string, number>();
    const source = new HubPresetSource(pins, { endpoint: hub.endpoint, runtime: node, cache: false, fetch: noLfsHeaders(gets) });
    const bundle = await loadBundle(source);
    expect((await bundle.graph('vision_encoder')).model.byteLength).toBe(bundle.manifest.graphs.vision_encoder.bytes);
    // the hash of the bytes on disk, computed here independently of the loader
    const onDisk = createHash('sha256').update(readFileSync(`${MIRROR_DIR}/${LLAVA}/onnx/vision_encoder_q4.onnx`)).digest('hex');
    expect(bundle.manifest.graphs.vision_encoder.sha256).toBe(onDisk);
    expect(bundle.manifest.description).toContain('Not pinned by sha256 (hashed on their first download from the commit URL): vision_encoder.');
    expect(gets.get(`/${LLAVA}/onnx/vision_encoder_q4.onnx`)).toBe(1); // handed to the loader from memory, not fetched twice
  });

  it('an unpinned graph whose bytes disagree with the size that is known ends in bundle/integrity naming it', async () => {
    const pins = pinsWith('vision_encoder', { lfsSha256: null, bytes: 12345 });
    const e = await failure(loadBundle(new HubPresetSource(pins, { endpoint: hub.endpoint, runtime: node, cache: false, fetch: noLfsHeaders(new Map()) })));
    expect(e.code).toBe('bundle/integrity');
    expect(e.message).toContain(`The graph "vision_encoder" at ${hub.endpoint}/${LLAVA}/onnx/vision_encoder_q4.onnx is not the pinned file:`);
    expect(e.message).toContain('expected 12345');
  });

  it('passes over a variant the preflight refuses (the pickVariant rule, one built manifest at a time) and says so', async () => {
    // a q4f16 variant over the same files, placed on the CPU: with a 1 MiB WASM budget it cannot run, q4 is taken
    const pins = structuredClone(mirrorPins);
    const q4f16 = { requires: ['webgpu', 'shader-f16'], graphs: structuredClone(pins.variants.q4.graphs) };
    for (const g of Object.values(q4f16.graphs)) g.device = 'cpu';
    pins.variants = { q4f16, q4: pins.variants.q4 };
    const adapter = gpu();
    const source = new HubPresetSource(pins, { endpoint: hub.endpoint, runtime: { prefer: 'auto', platform: 'web', adapter }, cache: false, wasmBudget: 2 ** 20 });
    expect(source.variant.id).toBe('q4f16'); // what the features allow, before the preflight
    const m = JSON.parse(new TextDecoder().decode(await source.read('bundle.json'))) as { name: string; graphs: Record<string, { path: string }> };
    expect(source.variant.id).toBe('q4');
    expect(source.variant.reason).toMatch(/^q4: its decoder runs on WebGPU, which has 4-bit kernels \(passed over by the preflight: q4f16, because .* of weights would run on WASM, more than the 1\.0 MiB WASM can hold/);
    expect(m.name).toBe('Lite fixture from the Hub layout (q4, random weights)');
  });

  it('the public pins point at huggingface.co by default, with commit URLs', () => {
    const s = new HubPresetSource(publicPins, { runtime: node, cache: false });
    expect(s.label).toBe(`https://huggingface.co/${LLAVA}/ (lite preset)`);
    expect(s.variant.id).toBe('q4');
    expect(hubFileUrl('https://hf-mirror.example/', publicPins.whisper, 'config.json')).toBe(`https://hf-mirror.example/${WHISPER}/config.json`);
  });
});

describe('the q8 variant on the mirror (what WASM takes): the int8 `_quantized` decoders, sizes and sha256 from the Hub', () => {
  /** The mirror's pins as the public ones have the q8 decoders: no size, no sha256 (only q8, so the CLI takes it). */
  function q8Pins(): LitePins {
    const p = structuredClone(mirrorPins);
    const q8 = p.variants.q8;
    for (const role of ['decoder_model_merged', 'speech_decoder'] as const) Object.assign(q8.graphs[role], { approxBytes: null, bytes: null, lfsSha256: null });
    p.variants = { q8 };
    return p;
  }
  const sha = (repoPath: string, file: string) => createHash('sha256').update(readFileSync(`${MIRROR_DIR}/${repoPath}/${file}`)).digest('hex');

  it('a page without WebGPU takes q8 from the mirror\'s pins; the manifest names the int8 decoders on the CPU, hashed as the Hub\'s headers say', async () => {
    expect(chooseVariant(mirrorPins, { prefer: 'auto', platform: 'web', adapter: null }).id).toBe('q8');
    hub.requests.length = 0;
    const { source, bundle } = await load(q8Pins());
    expect(source.variant.id).toBe('q8');
    const g = bundle.manifest.graphs;
    expect([g.decoder_model_merged.path, g.decoder_model_merged.dtype, g.decoder_model_merged.device]).toEqual([`${hub.endpoint}/${LLAVA}/onnx/decoder_model_merged_quantized.onnx`, 'q8', 'cpu']);
    expect([g.speech_decoder.path, g.speech_decoder.dtype, g.speech_decoder.device]).toEqual([`${hub.endpoint}/${WHISPER}/onnx/decoder_model_merged_quantized.onnx`, 'q8', 'cpu']);
    expect(g.decoder_model_merged.sha256).toBe(sha(LLAVA, 'onnx/decoder_model_merged_quantized.onnx'));
    expect(g.speech_decoder.sha256).toBe(sha(WHISPER, 'onnx/decoder_model_merged_quantized.onnx'));
    expect(g.vision_encoder.path).toBe(`${hub.endpoint}/${LLAVA}/onnx/vision_encoder_q4.onnx`);
    expect(hub.requests).toContain(`HEAD /${LLAVA}/onnx/decoder_model_merged_quantized.onnx`);
    expect(hub.requests).toContain(`HEAD /${WHISPER}/onnx/decoder_model_merged_quantized.onnx`);
    expect(bundle.manifest.name).toBe('Lite fixture from the Hub layout (q8, random weights)');
    // the preflight puts the q8 graphs on WASM even beside a real GPU (no WebGPU kernels for them); the q4 encoders go to the GPU
    const plan = preflight(bundle.manifest, { prefer: 'auto', platform: 'web', adapter: gpu() }).graphs;
    expect(Object.fromEntries(Object.entries(plan).map(([role, p]) => [role, p.backend]))).toEqual({
      vision_encoder: 'webgpu', embed_tokens: 'wasm', decoder_model_merged: 'wasm', speech_encoder: 'webgpu', speech_decoder: 'wasm', sound_tagger: 'wasm',
    });
    for (const role of ['decoder_model_merged', 'speech_decoder', 'embed_tokens', 'sound_tagger']) expect(plan[role].reason, role).toBe(Q8_ON_WASM);
  });

  it('the CLI captions a real video on the q8 variant: frames, transcript pieces in time order, a caption', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lite-q8-'));
    const file = join(dir, 'pins.json');
    writeFileSync(file, JSON.stringify(q8Pins()));
    try {
      hub.requests.length = 0;
      const { stdout } = await promisify(execFile)(
        'npx',
        ['tsx', 'src/cli/caption.ts', VIDEO, '--preset', 'lite', '--hub-endpoint', hub.endpoint, '--pins', file, '--max-new-tokens', '6', '--json'],
        { maxBuffer: 1 << 24, timeout: 300_000 },
      );
      const r = JSON.parse(stdout) as CaptionReport;
      expect(r.frames).toHaveLength(12);
      const withText = r.layout.filter((e) => (e.textTokens?.transcript ?? 0) > 0).map((e) => e.frame!);
      expect(withText.length).toBeGreaterThanOrEqual(3); // the int8 Whisper decoder transcribes as the float32 one does
      expect([...withText].sort((a, b) => a - b)).toEqual(withText);
      expect(r.generatedTokenIds.length).toBeGreaterThan(0);
      expect(r.generatedTokenIds.length).toBeLessThanOrEqual(6);
      expect(hub.requests).toContain(`GET /${LLAVA}/onnx/decoder_model_merged_quantized.onnx`);
      expect(hub.requests).toContain(`GET /${WHISPER}/onnx/decoder_model_merged_quantized.onnx`);
      expect(hub.requests.some((q) => q.endsWith('_q4.onnx') && q.includes('decoder_model_merged'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 320_000);
});

describe('scripts/lite-pin.ts', () => {
  it('pins the size and sha256 the Hub\'s headers give, with the same loader code, and writes them only with --write', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lite-pin-'));
    const file = join(dir, 'pins.json');
    const unpinned = structuredClone(mirrorPins);
    for (const g of Object.values(unpinned.variants.q4.graphs)) Object.assign(g, { lfsSha256: null, bytes: null, approxBytes: null });
    writeFileSync(file, JSON.stringify(unpinned));
    try {
      const run = (...extra: string[]) => promisify(execFile)('npx', ['tsx', 'scripts/lite-pin.ts', '--hub-endpoint', hub.endpoint, '--pins', file, ...extra], { timeout: 120_000 });
      expect((await run()).stdout).toContain(`6 graph pin(s) would change in ${file}`);
      expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(unpinned);
      const { stdout } = await run('--write');
      expect(stdout).toMatch(/lite q4: 0\.0\d\d GB, manifest accepted/);
      const pinned = JSON.parse(readFileSync(file, 'utf8')) as LitePins;
      for (const [role, g] of Object.entries(pinned.variants.q4.graphs)) {
        const want = (mirrorPins.variants.q4.graphs as Record<string, { lfsSha256: string; bytes: number }>)[role];
        expect([g.lfsSha256, g.bytes], role).toEqual([want.lfsSha256, want.bytes]);
      }
      // a pin the Hub contradicts stops the run
      writeFileSync(file, JSON.stringify(pinsWith('embed_tokens', { lfsSha256: '0'.repeat(64) })));
      const err = await run().then(() => null, (e: { stderr: string }) => e.stderr);
      expect(err).toContain(`lite-pin failed: q4 embed_tokens: the Hub gives sha256 ${mirrorPins.variants.q4.graphs.embed_tokens.lfsSha256}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);
});

describe('CLI: --preset lite --hub-endpoint', () => {
  it('captions a real video through the mirror: frames, transcript pieces in time order, a caption', async () => {
    const { stdout } = await promisify(execFile)(
      'npx',
      ['tsx', 'src/cli/caption.ts', VIDEO, '--preset', 'lite', '--hub-endpoint', hub.endpoint, '--pins', `${MIRROR_DIR}/pins.json`, '--max-new-tokens', '6', '--json'],
      { maxBuffer: 1 << 24, timeout: 300_000 },
    );
    const r = JSON.parse(stdout) as CaptionReport;
    expect(r.frames).toHaveLength(12);
    expect(r.layout.every((e) => e.visualTokens === 196 && e.audioTokens === 0)).toBe(true);
    const withText = r.layout.filter((e) => (e.textTokens?.transcript ?? 0) > 0).map((e) => e.frame!);
    expect(withText.length).toBeGreaterThanOrEqual(3);
    expect([...withText].sort((a, b) => a - b)).toEqual(withText);
    expect(r.generatedTokenIds.length).toBeGreaterThan(0);
    expect(r.generatedTokenIds.length).toBeLessThanOrEqual(6);
    expect(hub.requests).toContain(`GET /${LLAVA}/onnx/vision_encoder_q4.onnx`);
  }, 320_000);
});
