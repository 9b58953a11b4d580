/**
 * A loaded bundle → sessions, one per role of its family, created one after another on
 * the backend each graph's plan allows (runtime/backend.ts), checked against the I/O the
 * manifest declares, then warmed up once.
 */
import type { LoadedBundle } from '../bundle/load';
import { loadTokenizer } from '../model/prompt';
import { planBackends, type RuntimeOptions } from '../runtime/backend';
import type { Backend, Ort, Session } from '../runtime/ort';
import { checkContract, createSession } from '../runtime/sessions';
import { familyById } from '.';
import type { LoadedModel, ProgressFn } from './types';

export interface LoadModelOptions extends RuntimeOptions {
  /** Run every graph once after creating it (default true; the one-shot CLI skips it). */
  warmUp?: boolean;
}

export async function loadModel(ort: Ort, bundle: LoadedBundle, runtime: LoadModelOptions, onProgress?: ProgressFn): Promise<LoadedModel> {
  const { manifest } = bundle;
  const family = familyById(manifest.family);
  const sessions: Record<string, Session> = {};
  const backends: Record<string, Backend> = {};
  const fallbackReasons: string[] = [];
  try {
    const roles = family.graphs.filter((g) => !g.optional || manifest.graphs[g.role] !== undefined);
    for (const [i, { role }] of roles.entries()) {
      onProgress?.('session', i / roles.length, role);
      const entry = manifest.graphs[role];
      // A local file (Node) is opened by onnxruntime itself; else one graph's bytes at a
      // time: read here, dropped once its session exists.
      const graph = bundle.graphFile(role) ?? (await bundle.graph(role));
      const created = await createSession(ort, role, graph, planBackends(entry, runtime), family.gpuOutputs(role, manifest));
      sessions[role] = created.session;
      backends[role] = created.backend;
      if (created.fallbackReason) fallbackReasons.push(`${role}: ${created.fallbackReason}`);
      checkContract(role, entry, created.session, family.layers?.(role, manifest) ?? manifest.llm.layers);
    }
    const model: LoadedModel = { ort, manifest, family, sessions, backends, fallbackReasons, tokenizer: loadTokenizer(bundle.tokenizerJson, bundle.tokenizerConfig), tokenizerFiles: Object.fromEntries(manifest.tokenizer.files.map((f) => [f.path, bundle.file(f.path)])) };
    onProgress?.('session', 1, 'warm-up');
    if (runtime.warmUp !== false) await family.warmUp(model);
    onProgress?.('session', 1);
    return model;
  } catch (e) {
    await Promise.all(Object.values(sessions).map((s) => s.release()));
    throw e;
  }
}

export async function disposeModel(model: LoadedModel): Promise<void> {
  await Promise.all(Object.values(model.sessions).map((s) => s.release()));
}
