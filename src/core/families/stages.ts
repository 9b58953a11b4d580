/**
 * Which graphs' sessions are live. Normally every one, created at load and kept. In
 * low-memory mode (bundle/memory.ts) one stage at a time: `use('encoders')` releases the
 * LLM's sessions, then creates the encoders'; `use('llm')` releases the encoders', then
 * creates embed_tokens + decoder. The sessions record of the model is filled and emptied
 * in place, so family code reads `model.sessions[role]` as always.
 */
import type { StageName } from '../bundle/memory';
import type { Session } from '../runtime/ort';
import type { LoadedModel, ProgressFn } from './types';

/** Creates one role's session; `onRead` gets the fraction of its weights read so far. */
export type CreateSession = (role: string, onRead?: (fraction: number) => void) => Promise<Session>;

export class StageSessions {
  /** Bumped each time the LLM's sessions are created: a decoder (its KV cache) built before belongs to released sessions. */
  llmGeneration = 0;
  private live: StageName | null = null;

  constructor(
    readonly lowMemory: boolean,
    private readonly roles: Record<StageName, readonly string[]>,
    private readonly sessions: Record<string, Session>,
    private readonly create: CreateSession,
  ) {}

  /** The stage whose sessions are live (low-memory mode; null before the first use and in normal mode). */
  get current(): StageName | null {
    return this.live;
  }

  /**
   * Makes `stage`'s sessions live (nothing to do in normal mode, where all are); `progress`
   * gets stage 'session' over the stage's roles (the role as detail) while they are created.
   */
  async use(stage: StageName, progress?: ProgressFn): Promise<void> {
    if (!this.lowMemory || this.live === stage) return;
    await this.release(stage === 'llm' ? 'encoders' : 'llm');
    this.live = null;
    const roles = this.roles[stage];
    try {
      for (const [i, role] of roles.entries()) {
        progress?.('session', i / roles.length, role);
        this.sessions[role] = await this.create(role, progress && ((f) => progress('session', (i + f) / roles.length, role)));
      }
      progress?.('session', 1);
    } catch (e) {
      await this.release(stage); // what was created of it: no half stage stays live
      throw e;
    }
    if (stage === 'llm') this.llmGeneration++;
    this.live = stage;
  }

  private async release(stage: StageName): Promise<void> {
    const roles = this.roles[stage].filter((r) => this.sessions[r] !== undefined);
    await Promise.all(roles.map((r) => this.sessions[r].release()));
    for (const r of roles) delete this.sessions[r];
  }
}

/** Makes a stage's sessions live before it runs (low-memory mode; nothing otherwise), reporting their creation to `progress`. */
export async function enterStage(model: LoadedModel, stage: StageName, progress?: ProgressFn): Promise<void> {
  await model.stages?.use(stage, progress);
}
