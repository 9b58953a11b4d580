/**
 * Writes the lite preset's bundle.json files (one per dtype variant of models/lite/pins.json)
 * from the pinned repos' own files. Needs network access to huggingface.co:
 *
 *   npx tsx scripts/lite-pin.ts [--out public/bundles] [--download]
 *
 * Numbers: src/core/families/lite-preset.ts reads them from the repos' config files. Sizes and
 * sha256: LFS files from the Hub's X-Linked-Size / X-Linked-Etag headers (or, with --download,
 * by hashing the bytes), small files by hashing them. A pins.json lfsSha256 that disagrees, a
 * manifest the app would refuse (validateManifest) or a variant over 1.2 GB stops the run.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateManifest } from '../src/core/bundle/validate';
import type { BundleFile, GraphDtype } from '../src/core/bundle/manifest';
import { buildLiteManifest, type LiteFiles, type LiteGraphFile } from '../src/core/families/lite-preset';

type Repo = 'llava' | 'whisper' | 'ast';

interface Pins {
  llava: { repo: string; revision: string; licence: string; tokenizerFiles: string[] };
  whisper: { repo: string; revision: string; licence: string; tokenizerFiles: string[] };
  ast: { repo: string; revision: string; licence: string };
  variants: Record<string, { graphs: Record<string, { repo: Repo; path: string; dtype: GraphDtype; device: 'gpu' | 'cpu'; lfsSha256: string | null }> }>;
}

const pins = JSON.parse(readFileSync('models/lite/pins.json', 'utf8')) as Pins;
const args = process.argv.slice(2);
const outDir = args.includes('--out') ? args[args.indexOf('--out') + 1] : 'public/bundles';
const download = args.includes('--download');
const url = (k: Repo, path: string) => `https://huggingface.co/${pins[k].repo}/resolve/${pins[k].revision}/${path}`;

async function bytesOf(u: string): Promise<Uint8Array> {
  const res = await fetch(u);
  if (!res.ok) throw new Error(`${u}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}
const json = async (k: Repo, path: string) => JSON.parse(new TextDecoder().decode(await bytesOf(url(k, path))));

async function entry(k: Repo, path: string, expectSha: string | null = null): Promise<BundleFile> {
  const u = url(k, path);
  let bytes: number | undefined;
  let sha256: string | undefined;
  if (!download) {
    const head = await fetch(u, { method: 'HEAD', redirect: 'manual' });
    const size = head.headers.get('x-linked-size');
    const etag = head.headers.get('x-linked-etag')?.replaceAll('"', '');
    if (size && etag && /^[0-9a-f]{64}$/.test(etag)) [bytes, sha256] = [Number(size), etag];
  }
  if (sha256 === undefined) {
    const data = await bytesOf(u);
    [bytes, sha256] = [data.length, createHash('sha256').update(data).digest('hex')];
  }
  if (expectSha && expectSha !== sha256) throw new Error(`${u}: sha256 ${sha256}, but pins.json (from the Hub page) says ${expectSha}`);
  return { path: u, bytes: bytes!, sha256 };
}

async function main(): Promise<void> {
  const sources = {
    config: await json('llava', 'config.json'),
    addedTokens: await json('llava', 'added_tokens.json'),
    chatTemplate: (await json('llava', 'chat_template.json')).chat_template as string,
    videoProcessor: await json('llava', 'video_processor/preprocessor_config.json'),
    generation: await json('llava', 'generation_config.json'),
    whisperConfig: await json('whisper', 'config.json'),
    whisperGeneration: await json('whisper', 'generation_config.json'),
    whisperPreprocessor: await json('whisper', 'preprocessor_config.json'),
    astConfig: await json('ast', 'config.json'),
    astPreprocessor: await json('ast', 'preprocessor_config.json'),
  };
  const tokenizer: BundleFile[] = [];
  for (const k of ['llava', 'whisper'] as const) for (const f of pins[k].tokenizerFiles) tokenizer.push(await entry(k, f));
  for (const [variant, spec] of Object.entries(pins.variants)) {
    const graphs = {} as LiteFiles['graphs'];
    for (const [role, g] of Object.entries(spec.graphs)) {
      (graphs as Record<string, LiteGraphFile>)[role] = { ...(await entry(g.repo, g.path, g.lfsSha256)), dtype: g.dtype, device: g.device };
    }
    const total = [...Object.values(graphs), ...tokenizer].reduce((n, f) => n + f.bytes, 0);
    const manifest = buildLiteManifest(sources, {
      graphs,
      tokenizer,
      randomWeights: false,
      name: `Lite: LLaVA-OneVision-Qwen2-0.5B + Whisper-base + AST AudioSet tags (${variant})`,
      description: `Public exports at pinned revisions (${pins.llava.repo}@${pins.llava.revision.slice(0, 7)}, ${pins.whisper.repo}@${pins.whisper.revision.slice(0, 7)}, ${pins.ast.repo}@${pins.ast.revision.slice(0, 7)}); ${(total / 1e9).toFixed(2)} GB. Not video-SALMONN 2: speech reaches the LLM as a timestamped transcript and other sound only as AudioSet labels per 10 s. Licences: ${pins.llava.licence}, ${pins.whisper.licence}, ${pins.ast.licence}.`,
    });
    validateManifest(manifest);
    if (total > 1.2e9) throw new Error(`lite-${variant} downloads ${total} bytes, over the 1.2 GB limit`);
    const dir = join(outDir, `lite-${variant}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'bundle.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    console.log(`${dir}/bundle.json: ${(total / 1e9).toFixed(3)} GB`);
  }
}

main().catch((e: unknown) => {
  console.error(`lite-pin failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
