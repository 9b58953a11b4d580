/**
 * The lite preset straight from the public Hub files (models/README.md, "The lite family"):
 * no bundle.json of ours. `HubPresetSource` takes the pinned record (models/lite/pins.json),
 * picks the dtype variant the adapter can run, reads the pinned repos' own JSON files from
 * their `resolve/<commit>/` URLs, builds the manifest with `buildLiteManifest` at load time
 * and hands every file to the URL loader (Cache API, per-file sha256, resume, progress).
 *
 * Sizes and sha256 of the LFS files (the graphs): pins.json's `bytes` / `lfsSha256` where it
 * has them, else the Hub's `X-Linked-Size` / `X-Linked-ETag` headers (the LFS sha256; the Hub
 * exposes them through CORS, but a browser only sees them where the answer is not a
 * cross-origin redirect: a mirror, or Node with `redirect: 'manual'`). A header that
 * disagrees with the pin ends the load (`bundle/integrity`, naming the file); a graph whose
 * sha256 nobody gives is hashed on its one download from the commit URL (trust on first use;
 * pin it with scripts/lite-pin.ts). Small files (config,
 * tokenizer) are downloaded once, hashed, and handed on from memory.
 *
 * The endpoint (`https://huggingface.co`, like huggingface_hub's HF_ENDPOINT) can be replaced
 * by any server with the Hub's path layout `<repo>/resolve/<commit>/<path>` (a local mirror).
 * The built manifest is cached beside the files (the URLs name commits: it cannot change),
 * so a second visit downloads nothing.
 */
import { CaptionError } from '../errors';
import { buildLiteManifest, type LiteFiles, type LiteGraphFile, type LiteSources } from '../families/lite-preset';
import type { RuntimeOptions } from '../runtime/backend';
import { sha256Hex } from './hash';
import { parseManifest } from './load';
import { variantProblem } from './preflight';
import type { BundleFile, GraphDtype } from './manifest';
import { type BundleSource, type ExpectedFile, type ReadProgress, type StoredFile, MANIFEST_FILE } from './source';
import { BUNDLE_CACHE_NAME, UrlBundleSource, type UrlBundleSourceOptions } from './url-source';

export const HUB_ENDPOINT = 'https://huggingface.co';

export type HubRepoKey = 'llava' | 'whisper' | 'ast';

export interface HubRepoPin {
  repo: string;
  revision: string;
  licence: string;
  configFiles: string[];
  tokenizerFiles: string[];
}

export interface HubGraphPin {
  repo: HubRepoKey;
  path: string;
  dtype: GraphDtype;
  device: 'gpu' | 'cpu';
  approxBytes: number | null;
  lfsSha256: string | null;
  /** Exact size (scripts/lite-pin.ts writes it); null/absent: from the Hub's headers. */
  bytes?: number | null;
}

export interface HubVariantPin {
  /** Features the variant needs ("webgpu", "shader-f16", FOUR_BIT_KERNELS); [] runs anywhere, WASM included. */
  requires: string[];
  graphs: Record<keyof LiteFiles['graphs'], HubGraphPin>;
}

/** models/lite/pins.json. */
export interface LitePins {
  llava: HubRepoPin;
  whisper: HubRepoPin;
  /** The optional AudioSet sound tagger's repo (graph role `sound_tagger`). */
  ast?: HubRepoPin;
  /** Best first (q4f16, then q4, then q8 for WASM). */
  variants: Record<string, HubVariantPin>;
  /** A test mirror's pins (models/lite/make_mirror.py) name themselves (`{variant}`: the variant taken) and say their weights are random. */
  name?: string;
  randomWeights?: boolean;
}

export interface VariantChoice {
  id: string;
  /** Why this variant, in words for the page and the report. */
  reason: string;
}

/** An endpoint without its trailing slash; `bundle/not-found` for one that is no http(s) URL. */
export function normalizeEndpoint(endpoint: string = HUB_ENDPOINT): string {
  if (!/^https?:\/\/[^/]+/.test(endpoint)) {
    throw new CaptionError('bundle/not-found', `The Hub endpoint "${endpoint}" is not an http(s) URL. Give the base of a server in the Hub's layout (<repo>/resolve/<commit>/<path>), e.g. ${HUB_ENDPOINT}.`, { endpoint });
  }
  return endpoint.replace(/\/+$/, '');
}

/** `<endpoint>/<repo>/resolve/<commit>/<path>`. */
export function hubFileUrl(endpoint: string, pin: Pick<HubRepoPin, 'repo' | 'revision'>, path: string): string {
  return `${normalizeEndpoint(endpoint)}/${pin.repo}/resolve/${pin.revision}/${path}`;
}

/**
 * `requires` feature of the q4 variant: kernels that compute with 4-bit weights (MatMulNBits).
 * onnxruntime-node and the WebGPU EP have them; onnxruntime-web 1.30's WASM build dequantises
 * the whole weight to fp32 on every run instead (bench/README.md, "MatMulNBits on WASM": the
 * 0.5B's linears ≈ 743 ms per decode step against ≈ 65 ms as int8), so WASM takes q8.
 */
export const FOUR_BIT_KERNELS = '4-bit-kernels';

/** What a feature of `requires` needs of the runtime, and whether it has it (null: it has). */
function missingFeature(feature: string, rt: RuntimeOptions): string | null {
  const gpu = rt.platform === 'web' && rt.prefer !== 'wasm' ? rt.adapter : null;
  if (feature === 'webgpu') {
    if (rt.platform !== 'web') return 'Node runs the graphs on the CPU';
    if (rt.prefer === 'wasm') return 'WASM was chosen in the settings';
    if (!gpu) return 'there is no WebGPU adapter';
    if (gpu.isFallback && rt.prefer !== 'webgpu') return 'the only WebGPU adapter is a software fallback';
    return null;
  }
  if (feature === 'shader-f16') return gpu?.shaderF16 ? null : 'the adapter has no shader-f16';
  if (feature === FOUR_BIT_KERNELS) {
    if (rt.platform === 'node') return null;
    const noGpu = missingFeature('webgpu', rt);
    return noGpu && `its decoders would run on WASM, which has no 4-bit kernels (4-bit kernels: WebGPU or Node), as ${noGpu}`;
  }
  return `"${feature}" is not a feature this app knows`;
}

/** Why a variant whose `requires` the runtime has is taken, in words. */
function featuresPresent(requires: readonly string[], rt: RuntimeOptions): string {
  const adapter = requires.filter((f) => f !== FOUR_BIT_KERNELS);
  const parts = adapter.length ? [`this adapter has ${adapter.join(' and ')}`] : [];
  if (requires.includes(FOUR_BIT_KERNELS)) parts.push(rt.platform === 'node' ? 'onnxruntime-node has 4-bit kernels' : 'its decoder runs on WebGPU, which has 4-bit kernels');
  return parts.join(', and ') || 'it needs no GPU feature';
}

/**
 * The variants whose `requires` the runtime has, best first (q4f16 with shader-f16, q4 on
 * other WebGPU adapters and on Node, q8 on WASM), each saying why, and why the earlier ones
 * were passed over.
 */
export function variantCandidates(pins: Pick<LitePins, 'variants'>, runtime: RuntimeOptions): VariantChoice[] {
  const skipped: string[] = [];
  const out: VariantChoice[] = [];
  for (const [id, v] of Object.entries(pins.variants)) {
    const missing = v.requires.map((f) => missingFeature(f, runtime)).filter((m): m is string => m !== null);
    if (missing.length) {
      skipped.push(`${id}, because ${missing[0]}`);
      continue;
    }
    const why = featuresPresent(v.requires, runtime);
    out.push({ id, reason: `${id}: ${why}${skipped.length ? ` (passed over: ${skipped.join('; ')})` : ''}.` });
  }
  if (!out.length) throw new CaptionError('bundle/unsupported', `No variant of the lite preset can run here, so nothing was downloaded: ${skipped.join('; ')}.`, { skipped });
  return out;
}

/** The best variant the runtime's features allow (the preflight may still pass it over: HubPresetSource). */
export function chooseVariant(pins: Pick<LitePins, 'variants'>, runtime: RuntimeOptions): VariantChoice {
  return variantCandidates(pins, runtime)[0];
}

const SHA256 = /^[0-9a-f]{64}$/;

/** Size and LFS sha256 the Hub announces for a file (either null where it does not say). */
export async function hubFileInfo(fetchFn: typeof fetch, url: string, signal?: AbortSignal): Promise<{ bytes: number | null; sha256: string | null; status: number }> {
  const read = (res: Response) => {
    const size = Number(res.headers.get('x-linked-size') ?? NaN);
    const etag = (res.headers.get('x-linked-etag') ?? '').replace(/^W\//, '').replaceAll('"', '').toLowerCase();
    return { bytes: Number.isSafeInteger(size) && size >= 0 ? size : null, sha256: SHA256.test(etag) ? etag : null, status: res.status };
  };
  // The Hub answers an LFS file with a redirect that carries X-Linked-*; follow it only when it says nothing.
  const first = await fetchFn(url, { method: 'HEAD', redirect: 'manual', signal });
  const info = first.type === 'opaqueredirect' ? { bytes: null, sha256: null, status: 0 } : read(first);
  if (info.sha256 && info.bytes !== null) return info;
  const followed = await fetchFn(url, { method: 'HEAD', signal });
  const again = read(followed);
  const length = Number(followed.headers.get('content-length') ?? NaN);
  return { bytes: again.bytes ?? info.bytes ?? (followed.ok && Number.isSafeInteger(length) ? length : null), sha256: again.sha256 ?? info.sha256, status: followed.status };
}

export interface HubPresetSourceOptions extends Omit<UrlBundleSourceOptions, 'fetch'> {
  /** Default https://huggingface.co. */
  endpoint?: string;
  /** The runtime the variant is chosen for. */
  runtime: RuntimeOptions;
  /** Force a variant (tests, the pin script) instead of choosing by adapter. */
  variant?: string;
  /** The WASM weight budget of the preflight (default preflight.ts WASM_WEIGHT_BUDGET; tests). */
  wasmBudget?: number;
  fetch?: typeof fetch;
  /** Manifest name and description (default: the lite preset's). */
  name?: string;
  randomWeights?: boolean;
}

/**
 * A BundleSource over the pinned public files: bundle.json is built here, every other file
 * goes through a `UrlBundleSource` at its absolute Hub URL.
 */
export class HubPresetSource implements BundleSource {
  readonly label: string;
  readonly endpoint: string;
  /** Variants the runtime's features allow, best first; the first the preflight accepts is used. */
  private readonly candidates: VariantChoice[];
  private chosen: VariantChoice;
  private readonly inner: UrlBundleSource;
  private readonly fetchFn: typeof fetch;
  /** Small files this load already downloaded (served to the URL loader from memory). */
  private readonly small = new Map<string, Uint8Array>();
  /** Graphs of this build whose sha256 was computed on their first download (not pinned). */
  private readonly unpinned: string[] = [];
  private readonly cacheStorage?: CacheStorage;
  private readonly useCache: boolean;

  constructor(
    private readonly pins: LitePins,
    private readonly options: HubPresetSourceOptions,
  ) {
    this.endpoint = normalizeEndpoint(options.endpoint);
    this.candidates = options.variant ? [{ id: options.variant, reason: `${options.variant}: chosen explicitly.` }] : variantCandidates(pins, options.runtime);
    this.chosen = this.candidates[0];
    if (!pins.variants[this.chosen.id]) throw new CaptionError('bundle/not-found', `The lite preset has no variant "${this.chosen.id}" (it has ${Object.keys(pins.variants).join(', ')}).`, { variant: this.chosen.id });
    const base = hubFileUrl(this.endpoint, pins.llava, '');
    this.label = `${base} (lite preset)`;
    const realFetch = (options.fetch ?? globalThis.fetch).bind(globalThis);
    this.fetchFn = realFetch;
    const memoryFetch: typeof fetch = async (input, init) => {
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      const held = this.small.get(url);
      if (held && (init?.method ?? 'GET') === 'GET') return new Response(held as Uint8Array<ArrayBuffer>, { status: 200, headers: { 'content-length': String(held.byteLength), 'content-type': 'application/octet-stream' } });
      return realFetch(input, init);
    };
    this.useCache = options.cache ?? true;
    this.cacheStorage = options.cacheStorage ?? (globalThis as { caches?: CacheStorage }).caches;
    this.inner = new UrlBundleSource(base, { ...options, fetch: memoryFetch });
  }

  private url(k: HubRepoKey, path: string): string {
    const repo = this.pins[k];
    if (!repo) throw new CaptionError('bundle/bad-manifest', `The pinned record names the repo key "${k}" but does not pin it (${this.label}).`, { source: this.label });
    return hubFileUrl(this.endpoint, repo, path);
  }

  /** Where the built manifest is cached: beside the LLaVA files, named for the variant. */
  private manifestKey(): string {
    return this.url('llava', `salmonn-lite-${this.chosen.id}.${MANIFEST_FILE}`);
  }

  /** The variant this load uses (final once bundle.json is read), and why. */
  get variant(): VariantChoice {
    return this.chosen;
  }

  /**
   * bundle.json of the first candidate variant the preflight accepts (the same rule as
   * `pickVariant`, asked of one built manifest at a time; the last candidate is returned
   * anyway, and the engine's preflight then says why it cannot run).
   */
  async read(path: string, onProgress?: ReadProgress, signal?: AbortSignal, expected?: ExpectedFile): Promise<Uint8Array> {
    if (path !== MANIFEST_FILE) return this.inner.read(path, onProgress, signal, expected);
    const passed: string[] = [];
    for (const [i, c] of this.candidates.entries()) {
      this.chosen = passed.length ? { id: c.id, reason: `${c.reason.replace(/\.$/, '')} (passed over by the preflight: ${passed.join('; ')}).` } : c;
      const cached = await this.cachedManifest();
      const bytes = cached ?? new TextEncoder().encode(JSON.stringify(await this.buildManifest(signal)));
      const last = i === this.candidates.length - 1;
      const { problem } = variantProblem(parseManifest(bytes, this.label), this.options.runtime, last, this.options.wasmBudget);
      if (problem !== null && !last) {
        passed.push(`${c.id}, because ${problem}`);
        continue;
      }
      if (!cached) await this.storeManifest(bytes);
      return bytes;
    }
    throw new CaptionError('runtime/internal', 'The lite preset has no candidate variant.');
  }

  prepare(files: readonly BundleFile[], signal?: AbortSignal): Promise<void> {
    return this.inner.prepare(files, signal);
  }

  fetchFile(file: BundleFile, onProgress?: ReadProgress, signal?: AbortSignal): Promise<StoredFile> {
    return this.inner.fetchFile(file, onProgress, signal);
  }

  private async cache(): Promise<Cache | null> {
    if (!this.useCache || !this.cacheStorage) return null;
    return this.cacheStorage.open(BUNDLE_CACHE_NAME).catch(() => null);
  }

  private async cachedManifest(): Promise<Uint8Array | null> {
    const cache = await this.cache();
    const hit = await cache?.match(this.manifestKey()).catch(() => undefined);
    if (!hit) return null;
    const bytes = new Uint8Array(await hit.arrayBuffer());
    try {
      parseManifest(bytes, this.label);
      return bytes;
    } catch {
      await cache!.delete(this.manifestKey()).catch(() => false);
      return null; // an outdated copy: built again
    }
  }

  private async storeManifest(bytes: Uint8Array): Promise<void> {
    const cache = await this.cache();
    await cache?.put(this.manifestKey(), new Response(bytes as Uint8Array<ArrayBuffer>, { headers: { 'content-type': 'application/json' } })).catch(() => undefined);
  }

  /** A small file, downloaded once, hashed, and kept for the URL loader. */
  private async smallFile(k: HubRepoKey, path: string, signal?: AbortSignal): Promise<{ entry: BundleFile; data: Uint8Array }> {
    const url = this.url(k, path);
    const data = this.small.get(url) ?? (await this.readRetrying(url, signal));
    this.small.set(url, data);
    return { entry: { path: url, bytes: data.byteLength, sha256: await sha256Hex(data) }, data };
  }

  /** A small file, tried again (up to 3 times) after a dropped connection or a 5xx answer. */
  private async readRetrying(url: string, signal?: AbortSignal): Promise<Uint8Array> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.inner.read(url, undefined, signal);
      } catch (e) {
        const status = e instanceof CaptionError ? e.details.status : undefined;
        const transient = e instanceof CaptionError && e.code === 'bundle/download-failed' && (typeof status !== 'number' || status >= 500);
        if (!transient || attempt >= 3 || signal?.aborted) throw e;
      }
    }
  }

  private async json(k: HubRepoKey, path: string, signal?: AbortSignal): Promise<Record<string, unknown>> {
    const { data } = await this.smallFile(k, path, signal);
    try {
      return JSON.parse(new TextDecoder().decode(data)) as Record<string, unknown>;
    } catch (e) {
      throw new CaptionError('bundle/bad-manifest', `The pinned file ${this.url(k, path)} is not valid JSON (${e instanceof Error ? e.message : String(e)}).`, { file: this.url(k, path) });
    }
  }

  /** A graph's size and sha256: pinned, else from the Hub's headers, checked against each other. */
  private async graphFile(role: string, g: HubGraphPin, signal?: AbortSignal): Promise<LiteGraphFile> {
    const url = this.url(g.repo, g.path);
    const pinned = g.lfsSha256 && typeof g.bytes === 'number';
    const info = pinned ? null : await hubFileInfo(this.fetchFn, url, signal).catch((e: unknown) => {
      throw new CaptionError('bundle/download-failed', `Could not ask ${this.endpoint} about the graph "${role}" (${url}): ${e instanceof Error ? e.message : String(e)}. Check your connection, then try again.`, { graph: role, file: url });
    });
    if (info && (info.status === 404 || info.status === 410)) {
      throw new CaptionError('bundle/missing-file', `The graph "${role}" is missing at ${url} (the server answered ${info.status}). The pinned revision no longer has it, or the mirror is incomplete.`, { graph: role, file: url, status: info.status });
    }
    if (info?.sha256 && g.lfsSha256 && info.sha256 !== g.lfsSha256) {
      throw new CaptionError('bundle/integrity', `The graph "${role}" at ${url} is not the pinned file: the Hub gives its sha256 as ${info.sha256}, models/lite/pins.json pins ${g.lfsSha256}.`, { graph: role, file: url, expected: g.lfsSha256, actual: info.sha256 });
    }
    const sha256 = g.lfsSha256 ?? info?.sha256 ?? null;
    const bytes = typeof g.bytes === 'number' ? g.bytes : (info?.bytes ?? null);
    if (!sha256 || bytes === null) return this.hashedOnFirstDownload(role, url, g, sha256, bytes, signal);
    return { path: url, bytes, sha256, dtype: g.dtype, device: g.device };
  }

  /**
   * A graph whose sha256 (or size) neither the pins nor the server's headers give — in a
   * browser the Hub's X-Linked-* headers sit on a cross-origin redirect and cannot be read:
   * it is downloaded once at its commit URL (a Hub revision's files cannot change), checked
   * against whatever is known (size, sha256), hashed, and handed to the URL loader from
   * memory; the manifest, cached for later visits, records that hash (trust on first use).
   * `scripts/lite-pin.ts --write` pins it for good.
   */
  private async hashedOnFirstDownload(role: string, url: string, g: HubGraphPin, sha256: string | null, bytes: number | null, signal?: AbortSignal): Promise<LiteGraphFile> {
    const data = this.small.get(url) ?? (await this.readRetrying(url, signal));
    const actual = await sha256Hex(data);
    if ((bytes !== null && data.byteLength !== bytes) || (sha256 !== null && actual !== sha256)) {
      throw new CaptionError('bundle/integrity', `The graph "${role}" at ${url} is not the pinned file: ${data.byteLength} bytes with sha256 ${actual}, expected ${bytes ?? 'any size'}${sha256 ? ` with sha256 ${sha256}` : ''}.`, { graph: role, file: url, expected: sha256 ?? bytes, actual });
    }
    this.small.set(url, data);
    this.unpinned.push(role);
    return { path: url, bytes: data.byteLength, sha256: actual, dtype: g.dtype, device: g.device };
  }

  /** bundle.json from the pinned repos' own files (lite-preset.ts reads the numbers). */
  async buildManifest(signal?: AbortSignal): Promise<Record<string, unknown>> {
    const { llava, whisper } = this.pins;
    const sources: LiteSources = {
      config: await this.json('llava', 'config.json', signal),
      addedTokens: (await this.json('llava', 'added_tokens.json', signal)) as Record<string, number>,
      chatTemplate: (await this.json('llava', 'chat_template.json', signal)).chat_template as string,
      videoProcessor: await this.json('llava', 'video_processor/preprocessor_config.json', signal),
      generation: await this.json('llava', 'generation_config.json', signal),
      whisperConfig: await this.json('whisper', 'config.json', signal),
      whisperGeneration: await this.json('whisper', 'generation_config.json', signal),
      whisperPreprocessor: await this.json('whisper', 'preprocessor_config.json', signal),
    };
    if (this.pins.variants[this.chosen.id].graphs.sound_tagger) {
      sources.astConfig = await this.json('ast', 'config.json', signal);
      sources.astPreprocessor = await this.json('ast', 'preprocessor_config.json', signal);
    }
    const tokenizer: BundleFile[] = [];
    for (const k of ['llava', 'whisper'] as const) for (const f of this.pins[k].tokenizerFiles) tokenizer.push((await this.smallFile(k, f, signal)).entry);
    const graphs = {} as LiteFiles['graphs'];
    for (const [role, g] of Object.entries(this.pins.variants[this.chosen.id].graphs)) (graphs as Record<string, LiteGraphFile>)[role] = await this.graphFile(role, g, signal);
    const total = [...Object.values(graphs), ...tokenizer].reduce((n, f) => n + f.bytes, 0);
    const v = this.chosen.id;
    try {
      return buildLiteManifest(sources, {
        graphs,
        tokenizer,
        randomWeights: this.options.randomWeights ?? this.pins.randomWeights ?? false,
        name: this.options.name ?? this.pins.name?.replaceAll('{variant}', v) ?? `Lite: LLaVA-OneVision-Qwen2-0.5B + Whisper-base (${v})`,
        description: `Public exports at pinned revisions (${llava.repo}@${llava.revision.slice(0, 7)}, ${whisper.repo}@${whisper.revision.slice(0, 7)}) from ${this.endpoint}; ${(total / 1e9).toFixed(2)} GB. Not video-SALMONN 2: speech reaches the LLM as a timestamped transcript${graphs.sound_tagger ? ' and other sound only as AudioSet labels per 10 s' : ', other sounds are missed'}. Licences: ${llava.licence}, ${whisper.licence}${graphs.sound_tagger && this.pins.ast ? `, ${this.pins.ast.licence}` : ''}. Variant ${this.chosen.reason}${this.unpinned.length ? ` Not pinned by sha256 (hashed on their first download from the commit URL): ${this.unpinned.join(', ')}.` : ''}`,
      });
    } catch (e) {
      if (e instanceof CaptionError) throw e;
      throw new CaptionError('bundle/bad-manifest', `${e instanceof Error ? e.message : String(e)} (${this.label}).`, { source: this.label });
    }
  }
}
