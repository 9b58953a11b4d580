import { describe, expect, it } from 'vitest';
import { FsBundleSource } from '../bundle/fs-source';
import { loadBundle } from '../bundle/load';
import { expandPort } from '../runtime/sessions';
import type { Ort, Session } from '../runtime/ort';
import { disposeModel, loadModel } from './load';

describe('loadModel reads one graph at a time', () => {
  it('asks the bundle for a graph only after the previous session exists, never creating two at once', async () => {
    const bundle = await loadBundle(new FsBundleSource('public/bundles/tiny'));
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
    const layers = bundle.manifest.llm.layers;
    const create = async (model: Uint8Array) => {
      expect(creating).toBe(0); // never two at once
      creating++;
      expect(handedOut.has(model)).toBe(true);
      const role = Object.entries(bundle.manifest.graphs).find(([, e]) => e.bytes === model.byteLength)![0];
      const entry = bundle.manifest.graphs[role];
      await new Promise((r) => setTimeout(r, 5));
      log.push(`created ${role}`);
      creating--;
      const names = (ports: Record<string, string>) => Object.values(ports).flatMap((p) => expandPort(p, layers));
      return { inputNames: names(entry.inputs), outputNames: names(entry.outputs), release: async () => {} } as unknown as Session;
    };
    const ort = { InferenceSession: { create } } as unknown as Ort;
    const model = await loadModel(ort, bundle, { prefer: 'auto', platform: 'node', adapter: null, warmUp: false });
    const roles = Object.keys(model.sessions);
    expect(log).toEqual(roles.flatMap((r) => [`read ${r}`, `created ${r}`]));
    await disposeModel(model);
  });
});
