import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FsBundleSource } from '../bundle/fs-source';
import { loadBundle } from '../bundle/load';
import type { BundleSource } from '../bundle/source';
import { expandPort } from '../runtime/sessions';
import type { Ort, Session, SessionOptions } from '../runtime/ort';
import type { LoadedBundle } from '../bundle/load';
import { disposeModel, loadModel } from './load';

const TINY = 'public/bundles/tiny';

/** The tiny bundle through `read` only: no local paths, as from a URL or picked files. */
function bytesOnly(dir: string): BundleSource {
  const fs = new FsBundleSource(dir);
  return { label: fs.label, read: (p, onProgress, signal) => fs.read(p, onProgress, signal) };
}

/** A fake session declaring exactly the ports the manifest gives the graph (the contract check passes). */
function declaredSession(bundle: LoadedBundle, role: string): Session {
  const entry = bundle.manifest.graphs[role];
  const names = (ports: Record<string, string>) => Object.values(ports).flatMap((p) => expandPort(p, bundle.manifest.llm.layers));
  return { inputNames: names(entry.inputs), outputNames: names(entry.outputs), release: async () => {} } as unknown as Session;
}

describe('loadModel reads one graph at a time', () => {
  it('asks the bundle for a graph only after the previous session exists, never creating two at once', async () => {
    const bundle = await loadBundle(bytesOnly(TINY));
    const log: string[] = [];
    const handedOut = new WeakSet<Uint8Array>();
    const graph = bundle.graph.bind(bundle);
    bundle.graph = async (role) => {
      log.push(`read ${role}`);
      const g = await graph(role);
      handedOut.add(g.model);
      return g;
    };
    let creating = 0;
    const create = async (model: Uint8Array) => {
      expect(creating).toBe(0); // never two at once
      creating++;
      expect(handedOut.has(model)).toBe(true);
      const role = Object.entries(bundle.manifest.graphs).find(([, e]) => e.bytes === model.byteLength)![0];
      await new Promise((r) => setTimeout(r, 5));
      log.push(`created ${role}`);
      creating--;
      return declaredSession(bundle, role);
    };
    const ort = { InferenceSession: { create } } as unknown as Ort;
    const model = await loadModel(ort, bundle, { prefer: 'auto', platform: 'node', adapter: null, warmUp: false });
    const roles = Object.keys(model.sessions);
    expect(log).toEqual(roles.flatMap((r) => [`read ${r}`, `created ${r}`]));
    await disposeModel(model);
  });
});

describe('loadModel on a bundle folder on disk (Node)', () => {
  it('hands onnxruntime each graph proto by path, with no external data in memory, one session at a time', async () => {
    const dir = 'public/bundles/tiny-q4'; // every graph has an external-data file
    const bundle = await loadBundle(new FsBundleSource(dir));
    bundle.graph = async (role) => {
      throw new Error(`graph(${role}) read into memory`);
    };
    const got: { path: string; externalData: unknown }[] = [];
    let creating = 0;
    const create = async (path: string, options: SessionOptions) => {
      expect(creating).toBe(0);
      creating++;
      got.push({ path, externalData: options.externalData });
      const role = Object.entries(bundle.manifest.graphs).find(([, e]) => resolve(dir, e.path) === path)![0];
      await new Promise((r) => setTimeout(r, 5));
      creating--;
      return declaredSession(bundle, role);
    };
    const ort = { InferenceSession: { create } } as unknown as Ort;
    const model = await loadModel(ort, bundle, { prefer: 'auto', platform: 'node', adapter: null, warmUp: false });
    const roles = Object.keys(model.sessions);
    expect(roles).toHaveLength(5);
    expect(got).toEqual(roles.map((r) => ({ path: resolve(dir, bundle.manifest.graphs[r].path), externalData: undefined })));
    for (const r of roles) expect(bundle.manifest.graphs[r].externalData).toHaveLength(1);
    await disposeModel(model);
  });
});
