/**
 * Test helper: a small fake bundle in memory — random-byte "graphs" (not real ONNX), tiny
 * JSON tokenizer files, golden.json — with a bundle.json whose sizes and sha256 are right.
 * Used by the unit tests and the Playwright spec; platform-neutral (no file system here).
 */
import { sha256Hex } from './hash';
import { BUNDLE_FORMAT, BUNDLE_VERSION, type BundleFile, type BundleManifest, type GraphName } from './manifest';
import { salmonnFamily } from '../families/salmonn';

const ROLES = salmonnFamily.graphs.map((g) => g.role);

export interface FakeBundle {
  manifest: BundleManifest;
  /** Every file by bundle-relative path, bundle.json included. */
  files: Map<string, Uint8Array>;
}

/** Deterministic bytes (xorshift32) so failures reproduce. */
export function pseudoRandomBytes(n: number, seed: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 0x9e3779b9;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** A manifest with every field the validator wants, but no files (sizes/hashes dummy). */
export function sampleManifest(): BundleManifest {
  const dummy = (path: string): BundleFile => ({ path, bytes: 0, sha256: '0'.repeat(64) });
  const ports = (names: readonly string[]) => Object.fromEntries(names.map((n) => [n, n.startsWith('past_') ? `${n}.{i}` : n.startsWith('present_') ? `${n}.{i}` : n]));
  const graph = (name: GraphName) => {
    const role = salmonnFamily.graphs.find((g) => g.role === name)!;
    return {
      ...dummy(`onnx/${name}.onnx`),
      externalData: [] as BundleFile[],
      inputs: ports(role.inputs),
      outputs: ports(role.outputs),
      dtype: 'fp32' as const,
      device: name === 'embed_tokens' ? ('cpu' as const) : ('gpu' as const),
    };
  };
  return {
    format: BUNDLE_FORMAT,
    version: BUNDLE_VERSION,
    family: salmonnFamily.id,
    name: 'fake',
    description: 'A fake bundle for tests.',
    randomWeights: true,
    graphs: Object.fromEntries(ROLES.map((n) => [n, graph(n)])) as BundleManifest['graphs'],
    tokenizer: { files: [dummy('tokenizer.json'), dummy('tokenizer_config.json')] },
    vision: {
      imageSize: 384,
      patchSize: 14,
      grid: 27,
      pooledGrid: 13,
      tokensPerFrame: 182,
      mean: [0.5, 0.5, 0.5],
      std: [0.5, 0.5, 0.5],
      resample: 'bicubic',
    },
    sampling: { fps: 1, maxFrames: 30, minFrames: 2 },
    audio: {
      sampleRate: 16000,
      windowSeconds: 30,
      numMels: 128,
      nFft: 400,
      hopLength: 160,
      melFrames: 3000,
      encoderFrames: 1500,
      framesPerToken: 25,
      tokensPerWindow: 60,
      encoderHidden: 1280,
    },
    llm: { hidden: 64, layers: 2, heads: 4, kvHeads: 2, headDim: 16, vocab: 151936, ropeTheta: 1e6, maxPositions: 4096, tieEmbeddings: true },
    interleave: { default: 'spread' },
    prompt: {
      chatTemplate: "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}",
      systemPrompt: 'You are a helpful assistant.',
      defaultPrompt: 'Describe the video in detail.',
    },
    generation: { stopTokenIds: [151645], maxNewTokens: 64, repetitionPenalty: 1 },
  };
}

export interface FakeBundleOptions {
  name?: string;
  seed?: number;
  /** Bytes per graph file (default 4096 · (index + 1)). */
  graphBytes?: (name: GraphName, index: number) => number;
  /** Give the decoder an external-data file of this size (default none). */
  externalDataBytes?: number;
  /** Give the decoder external-data chunks of these sizes (`.onnx_data`, `.onnx_data_1`, …). */
  externalDataChunks?: number[];
  golden?: boolean;
}

export async function makeFakeBundle(options: FakeBundleOptions = {}): Promise<FakeBundle> {
  const seed = options.seed ?? 1;
  const files = new Map<string, Uint8Array>();
  const entry = async (path: string, data: Uint8Array): Promise<BundleFile> => {
    files.set(path, data);
    return { path, bytes: data.byteLength, sha256: await sha256Hex(data) };
  };
  const text = (s: string) => new TextEncoder().encode(s);

  const m = sampleManifest();
  m.name = options.name ?? 'fake';
  for (const [i, name] of ROLES.entries()) {
    const n = options.graphBytes?.(name, i) ?? 4096 * (i + 1);
    const g = m.graphs[name];
    Object.assign(g, await entry(g.path, pseudoRandomBytes(n, seed * 1000 + i + 1)));
    if (name === 'decoder_model_merged' && options.externalDataBytes) {
      g.externalData = [await entry('onnx/decoder_model_merged.onnx_data', pseudoRandomBytes(options.externalDataBytes, seed * 1000 + 99))];
    }
    if (name === 'decoder_model_merged' && options.externalDataChunks) {
      g.externalData = [];
      for (const [k, n] of options.externalDataChunks.entries()) {
        g.externalData.push(await entry(`onnx/decoder_model_merged.onnx_data${k ? `_${k}` : ''}`, pseudoRandomBytes(n, seed * 1000 + 200 + k)));
      }
    }
  }
  m.tokenizer.files = [
    await entry('tokenizer.json', text(JSON.stringify({ version: '1.0', model: { type: 'BPE', vocab: { a: 0, b: 1 }, merges: [] } }))),
    await entry('tokenizer_config.json', text(JSON.stringify({ chat_template: m.prompt.chatTemplate, eos_token: '<|im_end|>' }))),
  ];
  if (options.golden ?? true) m.golden = await entry('golden.json', text(JSON.stringify({ caption: 'fake', tokens: [1, 2, 3] })));
  files.set('bundle.json', text(JSON.stringify(m, null, 2)));
  return { manifest: m, files };
}
