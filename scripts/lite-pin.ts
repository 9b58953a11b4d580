/**
 * Refreshes models/lite/pins.json from the Hub (needs network): the exact size and LFS sha256
 * of every pinned graph, read from the Hub's X-Linked-Size / X-Linked-ETag headers (Node sees
 * them on the redirect, which a browser cannot), so that the app can check every download
 * even where the browser sees no header. The app needs no output of this script to run: it
 * builds bundle.json at load time (src/core/bundle/hub-preset.ts); this only pins what the
 * Hub pages did not show.
 *
 *   npx tsx scripts/lite-pin.ts [--write] [--hub-endpoint URL] [--pins FILE]
 *
 * Each variant's manifest is then built exactly as the app builds it (HubPresetSource), and
 * the run stops when a pinned sha256 disagrees with the Hub, when the app would refuse the
 * manifest, or when a variant downloads more than 1.2 GB. Without --write it only reports.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { HubPresetSource, hubFileInfo, hubFileUrl, type LitePins } from '../src/core/bundle/hub-preset';
import { validateManifest } from '../src/core/bundle/validate';

const LIMIT = 1.2e9;
const args = process.argv.slice(2);
const PINS = args.includes('--pins') ? args[args.indexOf('--pins') + 1] : 'models/lite/pins.json';
const write = args.includes('--write');
const endpoint = args.includes('--hub-endpoint') ? args[args.indexOf('--hub-endpoint') + 1] : (process.env.HF_ENDPOINT ?? undefined);
const runtime = { prefer: 'auto' as const, platform: 'node' as const, adapter: null };

async function pinGraphs(pins: LitePins): Promise<number> {
  let changed = 0;
  for (const [variant, spec] of Object.entries(pins.variants)) {
    for (const [role, g] of Object.entries(spec.graphs)) {
      const repo = pins[g.repo];
      if (!repo) throw new Error(`${variant} ${role}: pins.json does not pin the repo "${g.repo}"`);
      const url = hubFileUrl(endpoint ?? 'https://huggingface.co', repo, g.path);
      const info = await hubFileInfo(fetch, url);
      if (info.status >= 400) throw new Error(`${variant} ${role}: ${url} answered ${info.status}`);
      if (!info.sha256 || info.bytes === null) throw new Error(`${variant} ${role}: ${url} sends no X-Linked-Size / X-Linked-ETag (not an LFS file?)`);
      if (g.lfsSha256 && g.lfsSha256 !== info.sha256) throw new Error(`${variant} ${role}: the Hub gives sha256 ${info.sha256} for ${url}, pins.json has ${g.lfsSha256}`);
      if (g.lfsSha256 !== info.sha256 || g.bytes !== info.bytes) changed++;
      Object.assign(g, { lfsSha256: info.sha256, bytes: info.bytes, approxBytes: info.bytes });
    }
  }
  return changed;
}

async function main(): Promise<void> {
  const pins = JSON.parse(readFileSync(PINS, 'utf8')) as LitePins;
  const changed = await pinGraphs(pins);
  for (const variant of Object.keys(pins.variants)) {
    const manifest = validateManifest(await new HubPresetSource(pins, { endpoint, runtime, variant, cache: false }).buildManifest());
    const total = [...Object.values(manifest.graphs), ...manifest.tokenizer.files].reduce((n, f) => n + f.bytes, 0);
    if (total > LIMIT) throw new Error(`lite ${variant} downloads ${total} bytes, over the 1.2 GB limit`);
    console.log(`lite ${variant}: ${(total / 1e9).toFixed(3)} GB, manifest accepted`);
  }
  if (write) writeFileSync(PINS, `${JSON.stringify(pins, null, 2)}\n`);
  console.log(`${changed} graph pin(s) ${write ? 'written to' : 'would change in'} ${PINS}${write ? '' : ' (run with --write)'}`);
}

main().catch((e: unknown) => {
  console.error(`lite-pin failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
