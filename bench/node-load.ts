/**
 * Node load memory (not CI; `npx tsx bench/node-load.ts BUNDLE [--in-memory] [--tokens N]`):
 * loads a bundle folder through the app's own Node path (FsBundleSource → loadBundle →
 * families/loadModel on onnxruntime-node, no warm-up), then generates N greedy tokens after
 * the 14-token system turn that bench/export-7b.sh also uses (so the ids compare with its
 * ort_greedy.mjs run). Prints one JSON object: peak RSS (VmHWM, file-backed mapped pages
 * included), RSS after load split into file-backed (ORT's mapped external data) and anonymous
 * memory, load and per-token times, the ids.
 *
 * --in-memory: the route before graphFile() — every chunk read into a JS buffer and handed
 * over as `externalData` — for the ratio against the default (ORT opens the proto by path).
 */
import { readFileSync } from 'node:fs';
import { FsBundleSource } from '../src/core/bundle/fs-source';
import { loadBundle } from '../src/core/bundle/load';
import type { BundleSource } from '../src/core/bundle/source';
import { decoderOf } from '../src/core/families/salmonn';
import { disposeModel, loadModel } from '../src/core/families/load';
import { argmax } from '../src/core/model/sampling';
import { ortNode } from '../src/cli/ort-node';

const PROMPT = [151644, 8948, 198, 2610, 525, 264, 10950, 17847, 13, 151645, 198, 151644, 872, 198];

function statusKiB(field: 'VmHWM' | 'VmRSS' | 'RssAnon' | 'RssFile'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) : NaN;
}
const gib = (kib: number) => Math.round((kib / 2 ** 20) * 100) / 100;

/** FsBundleSource without file paths: graphs come as bytes, chunks as JS buffers. */
function inMemory(fs: FsBundleSource): BundleSource {
  return {
    label: fs.label,
    read: fs.read.bind(fs),
    fetchFile: async (f, onProgress, signal) => {
      const h = await fs.fetchFile(f, onProgress, signal);
      return { bytes: h.bytes, data: h.data };
    },
  };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const dir = args.find((a) => !a.startsWith('--'));
  if (!dir) throw new Error('usage: npx tsx bench/node-load.ts BUNDLE_DIR [--in-memory] [--tokens N]');
  const tokens = Number(args[args.indexOf('--tokens') + 1] ?? 8) || 8;
  const mode = args.includes('--in-memory') ? 'in-memory buffers' : 'proto path (ORT maps the chunks)';
  const fs = new FsBundleSource(dir);
  const t0 = performance.now();
  const bundle = await loadBundle(args.includes('--in-memory') ? inMemory(fs) : fs);
  const verifiedS = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  const model = await loadModel(ortNode(), bundle, { prefer: 'auto', platform: 'node', adapter: null, warmUp: false });
  const sessionsS = (performance.now() - t1) / 1000;
  const afterLoad = { hwm: statusKiB('VmHWM'), rss: statusKiB('VmRSS'), anon: statusKiB('RssAnon'), file: statusKiB('RssFile') };
  const decoder = decoderOf(model);
  const res = await decoder.generate(await decoder.embed(PROMPT), { maxNewTokens: tokens, stopTokenIds: [], pickToken: (l) => argmax(l), prefillChunk: 256 });
  decoder.dispose();
  const out = {
    bundle: bundle.manifest.name,
    mode,
    bundleBytes: bundle.totalBytes,
    verifySeconds: Math.round(verifiedS * 10) / 10,
    sessionSeconds: Math.round(sessionsS * 10) / 10,
    backends: model.backends,
    peakRssAfterLoadGiB: gib(afterLoad.hwm),
    rssAfterLoadGiB: gib(afterLoad.rss),
    // file-backed pages (ORT's memory-mapped external data: page cache, reclaimable) vs anonymous memory
    rssFileAfterLoadGiB: gib(afterLoad.file),
    rssAnonAfterLoadGiB: gib(afterLoad.anon),
    peakRssGiB: gib(statusKiB('VmHWM')),
    prefillMs: Math.round(res.prefillMs),
    msPerToken: tokens > 1 ? Math.round(res.decodeMs / (tokens - 1)) : null,
    ids: res.tokenIds,
  };
  await disposeModel(model);
  console.log(JSON.stringify(out, null, 1));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
