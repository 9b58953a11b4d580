/**
 * `validateManifest`: checks a parsed bundle.json field by field and returns it typed.
 * The first bad field is named in a `bundle/bad-manifest` error. Unknown extra fields are
 * allowed (a newer exporter may add some); cross-field arithmetic is not checked here —
 * the pipeline takes every number from the manifest as it is (ARCHITECTURE "One truth").
 */
import { CaptionError } from '../errors';
import { FAMILIES, familyById } from '../families';
import { BUNDLE_FORMAT, BUNDLE_VERSION, type BundleFile, type BundleManifest, type GraphEntry, type GraphName } from './manifest';
import { isPlainRelativePath } from './source';

const DTYPES: readonly GraphEntry['dtype'][] = ['fp32', 'fp16', 'q4', 'q4f16', 'q8'];
const DEVICES: readonly GraphEntry['device'][] = ['gpu', 'cpu'];
const INTERLEAVE = ['spread', 'timestamp'] as const;
const FIX = 'The bundle is damaged or was made by an incompatible exporter: re-export it (or download it again).';

type Obj = Record<string, unknown>;

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

function fail(field: string, want: string, got: unknown, extra = ''): never {
  throw new CaptionError(
    'bundle/bad-manifest',
    `bundle.json: "${field}" must be ${want} (found ${describe(got)}).${extra ? ` ${extra}` : ''} ${FIX}`,
    { file: 'bundle.json', field },
  );
}

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function obj(v: unknown, field: string): Obj {
  if (!isObj(v)) fail(field, 'an object', v);
  return v;
}

function str(o: Obj, key: string, at: string, nonEmpty = true): string {
  const v = o[key];
  if (typeof v !== 'string' || (nonEmpty && v.trim() === '')) fail(`${at}${key}`, nonEmpty ? 'a non-empty string' : 'a string', v);
  return v;
}

function bool(o: Obj, key: string, at: string): boolean {
  const v = o[key];
  if (typeof v !== 'boolean') fail(`${at}${key}`, 'true or false', v);
  return v;
}

function int(o: Obj, key: string, at: string, min = 1): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) fail(`${at}${key}`, `an integer ≥ ${min}`, v);
  return v;
}

function pos(o: Obj, key: string, at: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) fail(`${at}${key}`, 'a positive number', v);
  return v;
}

function oneOf<T extends string>(o: Obj, key: string, at: string, allowed: readonly T[]): T {
  const v = o[key];
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) fail(`${at}${key}`, `one of ${allowed.join(', ')}`, v);
  return v as T;
}

/** Logical port → I/O name, every value a non-empty string. */
function ports(o: Obj, key: string, at: string): Record<string, string> {
  const v = obj(o[key], `${at}${key}`);
  for (const [port, name] of Object.entries(v)) {
    if (typeof name !== 'string' || name === '') fail(`${at}${key}.${port}`, 'a non-empty I/O name', name);
  }
  return v as Record<string, string>;
}

function triple(o: Obj, key: string, at: string, positive: boolean): [number, number, number] {
  const v = o[key];
  if (!Array.isArray(v) || v.length !== 3) fail(`${at}${key}`, 'an array of 3 numbers', v);
  v.forEach((x, i) => {
    if (typeof x !== 'number' || !Number.isFinite(x) || (positive && x <= 0)) {
      fail(`${at}${key}[${i}]`, positive ? 'a positive number' : 'a finite number', x);
    }
  });
  return v as [number, number, number];
}

/** A path inside the bundle, or an absolute http(s) URL (presets over public files). */
function location(o: Obj, key: string, at: string): string {
  const v = str(o, key, at);
  if (!isPlainRelativePath(v) && !/^https?:\/\/[^/]+\//.test(v)) fail(`${at}${key}`, 'a relative path inside the bundle (with "/" separators) or an absolute http(s) URL', v);
  return v;
}

function file(v: unknown, at: string): BundleFile {
  const o = obj(v, at);
  const p = `${at}.`;
  location(o, 'path', p);
  int(o, 'bytes', p, 0);
  const sha = o.sha256;
  if (typeof sha !== 'string' || !/^[0-9a-f]{64}$/.test(sha)) fail(`${p}sha256`, 'a SHA-256 as 64 lower-case hex digits', sha);
  return o as unknown as BundleFile;
}

function files(o: Obj, key: string, at: string, nonEmpty: boolean): BundleFile[] {
  const v = o[key];
  if (!Array.isArray(v) || (nonEmpty && v.length === 0)) fail(`${at}${key}`, nonEmpty ? 'a non-empty array of files' : 'an array of files', v);
  return v.map((f, i) => file(f, `${at}${key}[${i}]`));
}

/** Checks a parsed bundle.json and returns it typed; throws `bundle/bad-manifest`. */
export function validateManifest(json: unknown): BundleManifest {
  const m = obj(json, '(root)');

  if (m.format !== BUNDLE_FORMAT) fail('format', `"${BUNDLE_FORMAT}"`, m.format, 'This is not a SALMONN model bundle.');
  if (typeof m.version === 'number' && Number.isInteger(m.version) && m.version > BUNDLE_VERSION) {
    throw new CaptionError(
      'bundle/bad-manifest',
      `bundle.json: "version" is ${m.version}, but this app reads bundle version ${BUNDLE_VERSION}. Update the app, or use a bundle exported for version ${BUNDLE_VERSION}.`,
      { file: 'bundle.json', field: 'version', version: m.version },
    );
  }
  if (m.version !== BUNDLE_VERSION) fail('version', String(BUNDLE_VERSION), m.version);

  const family = familyById(str(m, 'family', ''));
  str(m, 'name', '');
  str(m, 'description', '', false);
  bool(m, 'randomWeights', '');

  const graphs = obj(m.graphs, 'graphs');
  for (const role of family.graphs) {
    if (role.optional && graphs[role.role] === undefined) continue;
    const at = `graphs.${role.role}`;
    file(graphs[role.role], at);
    const g = graphs[role.role] as Obj;
    files(g, 'externalData', `${at}.`, false);
    const ins = ports(g, 'inputs', `${at}.`);
    const outs = ports(g, 'outputs', `${at}.`);
    for (const [side, need, have, optional] of [
      ['inputs', role.inputs, ins, role.optionalInputs ?? []],
      ['outputs', role.outputs, outs, []],
    ] as const) {
      const missing = need.find((p) => !(p in have) && !(optional as readonly string[]).includes(p));
      if (missing) fail(`${at}.${side}.${missing}`, `the I/O name of the ${role.role} port "${missing}" (family ${family.id})`, undefined);
    }
    oneOf(g, 'dtype', `${at}.`, DTYPES);
    oneOf(g, 'device', `${at}.`, DEVICES);
    if (g.largestTensorBytes !== undefined) int(g, 'largestTensorBytes', `${at}.`, 0);
    if (g.kvCache !== undefined) {
      const kv = obj(g.kvCache, `${at}.kvCache`);
      oneOf(kv, 'dtype', `${at}.kvCache.`, ['float32', 'float16'] as const);
      oneOf(kv, 'layout', `${at}.kvCache.`, ['batch,kv_heads,sequence,head_dim'] as const);
    }
    if (g.logits !== undefined) oneOf(g, 'logits', `${at}.`, ['all', 'last'] as const);
  }

  const tok = obj(m.tokenizer, 'tokenizer');
  const tokFiles = files(tok, 'files', 'tokenizer.', true);
  for (const needed of ['tokenizer.json', 'tokenizer_config.json']) {
    if (!tokFiles.some((f) => basename(f.path) === needed)) {
      fail('tokenizer.files', `a list that includes ${needed}`, tok.files);
    }
  }

  const vision = obj(m.vision, 'vision');
  for (const k of ['imageSize', 'patchSize', 'grid', 'pooledGrid', 'tokensPerFrame']) int(vision, k, 'vision.');
  triple(vision, 'mean', 'vision.', false);
  triple(vision, 'std', 'vision.', true);
  oneOf(vision, 'resample', 'vision.', ['bicubic'] as const);

  const sampling = obj(m.sampling, 'sampling');
  pos(sampling, 'fps', 'sampling.');
  const maxFrames = int(sampling, 'maxFrames', 'sampling.');
  const minFrames = int(sampling, 'minFrames', 'sampling.');
  if (minFrames > maxFrames) fail('sampling.minFrames', `at most sampling.maxFrames (${maxFrames})`, minFrames);

  const audio = obj(m.audio, 'audio');
  for (const k of [
    'sampleRate',
    'numMels',
    'nFft',
    'hopLength',
    'melFrames',
    'encoderFrames',
    'framesPerToken',
    'tokensPerWindow',
    'encoderHidden',
  ]) {
    int(audio, k, 'audio.');
  }
  pos(audio, 'windowSeconds', 'audio.');

  const llm = obj(m.llm, 'llm');
  for (const k of ['hidden', 'layers', 'heads', 'kvHeads', 'headDim', 'vocab', 'maxPositions']) int(llm, k, 'llm.');
  pos(llm, 'ropeTheta', 'llm.');
  bool(llm, 'tieEmbeddings', 'llm.');
  if ((llm.heads as number) % (llm.kvHeads as number) !== 0) {
    fail('llm.kvHeads', `a divisor of llm.heads (${String(llm.heads)})`, llm.kvHeads);
  }

  const inter = obj(m.interleave, 'interleave');
  oneOf(inter, 'default', 'interleave.', INTERLEAVE);

  const prompt = obj(m.prompt, 'prompt');
  str(prompt, 'chatTemplate', 'prompt.');
  str(prompt, 'systemPrompt', 'prompt.', false);
  str(prompt, 'defaultPrompt', 'prompt.');
  if (prompt.variants !== undefined) {
    const variants = obj(prompt.variants, 'prompt.variants');
    for (const v of ['official', 'training']) {
      const drop = obj(variants[v], `prompt.variants.${v}`).dropTokenIds;
      if (!Array.isArray(drop) || drop.some((id) => !Number.isSafeInteger(id) || (id as number) < 0)) fail(`prompt.variants.${v}.dropTokenIds`, 'an array of token ids', drop);
    }
  }
  if (prompt.defaultVariant !== undefined) oneOf(prompt, 'defaultVariant', 'prompt.', ['official', 'training'] as const);

  const gen = obj(m.generation, 'generation');
  const stops = gen.stopTokenIds;
  if (!Array.isArray(stops) || stops.length === 0) fail('generation.stopTokenIds', 'a non-empty array of token ids', stops);
  stops.forEach((id, i) => {
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) fail(`generation.stopTokenIds[${i}]`, 'an integer ≥ 0', id);
  });
  int(gen, 'maxNewTokens', 'generation.');
  pos(gen, 'repetitionPenalty', 'generation.');

  if (m.golden !== undefined) file(m.golden, 'golden');

  // Two entries for one path with different hashes cannot both be right.
  const seen = new Map<string, string>();
  const typed = m as unknown as BundleManifest;
  const all = [
    ...typed.tokenizer.files,
    ...(typed.golden ? [typed.golden] : []),
    ...graphRoles(typed).flatMap((role) => [typed.graphs[role], ...typed.graphs[role].externalData]),
  ];
  for (const f of all) {
    const prev = seen.get(f.path);
    if (prev !== undefined && prev !== f.sha256) fail('files', 'listed once per path', f.path, `"${f.path}" appears with two different sha256 values.`);
    seen.set(f.path, f.sha256);
  }

  family.checkManifest?.(typed);
  return typed;
}

export function basename(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? path : path.slice(i + 1);
}

/** The graph roles of a manifest, in its family's order (optional roles only when the manifest has them). */
export function graphRoles(m: Pick<BundleManifest, 'family' | 'graphs'>): GraphName[] {
  return (FAMILIES[m.family]?.graphs ?? []).filter((g) => !g.optional || m.graphs?.[g.role] !== undefined).map((g) => g.role);
}

/**
 * Every file of the manifest (graphs with their external data, tokenizer, golden) once,
 * in load order. `graphs` limits the graphs (default: all of the family's).
 */
export function manifestFiles(m: BundleManifest, graphs: readonly GraphName[] = graphRoles(m)): BundleFile[] {
  const out: BundleFile[] = [];
  const seen = new Set<string>();
  const add = (f: BundleFile) => {
    if (seen.has(f.path)) return;
    seen.add(f.path);
    out.push({ path: f.path, bytes: f.bytes, sha256: f.sha256 });
  };
  m.tokenizer.files.forEach(add);
  if (m.golden) add(m.golden);
  for (const name of graphs) {
    const g = m.graphs[name];
    add(g);
    g.externalData.forEach(add);
  }
  return out;
}
