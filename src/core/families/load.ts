/**
 * A loaded bundle → sessions, one per role of its family, created one after another on
 * the backend each graph's plan allows (runtime/backend.ts), checked against the I/O the
 * manifest declares, then warmed up once. In low-memory mode (bundle/memory.ts) only the
 * encoders are created here; the LLM's sessions are created when a prefill first needs
 * them, after the encoders are released (stages.ts).
 */
import type { LoadedBundle } from '../bundle/load';
import type { MemoryPlan, StageName } from '../bundle/memory';
import { loadTokenizer } from '../model/prompt';
import { planBackends, type RuntimeOptions } from '../runtime/backend';
import type { Backend, Ort, Session } from '../runtime/ort';
import { checkContract, createSession } from '../runtime/sessions';
import { familyById } from '.';
import { type CreateSession, StageSessions } from './stages';
import type { LoadedModel, ProgressFn } from './types';

export interface LoadModelOptions extends RuntimeOptions {
  /** Run every graph once after creating it (default true; the one-shot CLI skips it; never in low-memory mode, whose sessions are created again per stage). */
  warmUp?: boolean;
  /** Low-memory mode or not, and why (bundle/preflight.ts; default: every graph stays loaded). */
  memory?: Pick<MemoryPlan, 'lowMemory' | 'reason'>;
}

export async function loadModel(ort: Ort, bundle: LoadedBundle, runtime: LoadModelOptions, onProgress?: ProgressFn): Promise<LoadedModel> {
  const { manifest } = bundle;
  const family = familyById(manifest.family);
  const sessions: Record<string, Session> = {};
  const backends: Record<string, Backend> = {};
  const fallbackReasons: string[] = [];
  const memory = runtime.memory ?? { lowMemory: false, reason: 'Every graph stays loaded.' };
  const roles = family.graphs.filter((g) => !g.optional || manifest.graphs[g.role] !== undefined);
  const stageRoles: Record<StageName, string[]> = { encoders: roles.filter((g) => !g.llm).map((g) => g.role), llm: roles.filter((g) => g.llm).map((g) => g.role) };
  // Backends as planned until a role's session exists (low-memory mode creates the LLM later).
  for (const { role } of roles) backends[role] = planBackends(manifest.graphs[role], runtime).order[0];

  const atLoad = memory.lowMemory ? stageRoles.encoders : roles.map((g) => g.role);
  let loading = true;
  const create: CreateSession = async (role, onRead) => {
    const at = atLoad.indexOf(role);
    if (loading) onProgress?.('session', at / atLoad.length, role);
    // At load, the progress moves within the role as its weights are read (runtime/sessions.ts).
    const reads = onRead ?? (loading && onProgress ? (f: number) => onProgress('session', (at + f) / atLoad.length, role) : undefined);
    const entry = manifest.graphs[role];
    // A local file (Node) is opened by onnxruntime itself; else one graph's bytes at a
    // time: read here, dropped once its session exists.
    const graph = bundle.graphFile(role) ?? (await bundle.graph(role));
    const created = await createSession(ort, role, graph, planBackends(entry, runtime), family.gpuOutputs(role, manifest), reads);
    backends[role] = created.backend;
    const fallback = created.fallbackReason && `${role}: ${created.fallbackReason}`;
    if (fallback && !fallbackReasons.includes(fallback)) fallbackReasons.push(fallback);
    try {
      checkContract(role, entry, created.session, family.layers?.(role, manifest) ?? manifest.llm.layers);
    } catch (e) {
      await created.session.release();
      throw e;
    }
    return created.session;
  };
  const stages = new StageSessions(memory.lowMemory, stageRoles, sessions, create);
  try {
    if (memory.lowMemory) await stages.use('encoders');
    else for (const role of atLoad) sessions[role] = await create(role);
    loading = false;
    const model: LoadedModel = {
      ort,
      manifest,
      family,
      sessions,
      backends,
      fallbackReasons,
      memory,
      stages,
      tokenizer: loadTokenizer(bundle.tokenizerJson, bundle.tokenizerConfig),
      tokenizerFiles: Object.fromEntries(manifest.tokenizer.files.map((f) => [f.path, bundle.file(f.path)])),
    };
    onProgress?.('session', 1, 'warm-up');
    if (runtime.warmUp !== false && !memory.lowMemory) await family.warmUp(model);
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
