import { describe, expect, it } from 'vitest';
import type { Session } from '../runtime/ort';
import { StageSessions } from './stages';

const ROLES = { encoders: ['vision_encoder', 'audio_encoder', 'audio_aligner'], llm: ['embed_tokens', 'decoder_model_merged'] };

/** Fake sessions that log create / release and keep the live set. */
function fakes(failOn?: string) {
  const log: string[] = [];
  const live = new Set<string>();
  let peak = 0;
  const create = async (role: string): Promise<Session> => {
    if (role === failOn) throw new Error(`cannot create ${role}`);
    log.push(`create ${role}`);
    live.add(role);
    peak = Math.max(peak, live.size);
    return { release: async () => void (log.push(`release ${role}`), live.delete(role)) } as unknown as Session;
  };
  return { log, live, create, peak: () => peak };
}

describe('StageSessions: one stage live at a time in low-memory mode', () => {
  it('releases every encoder before creating the first LLM session, and the LLM before the encoders again', async () => {
    const f = fakes();
    const sessions: Record<string, Session> = {};
    const stages = new StageSessions(true, ROLES, sessions, f.create);
    await stages.use('encoders');
    await stages.use('encoders'); // already live: nothing
    await stages.use('llm');
    await stages.use('encoders');
    expect(f.log).toEqual([
      'create vision_encoder', 'create audio_encoder', 'create audio_aligner',
      'release vision_encoder', 'release audio_encoder', 'release audio_aligner',
      'create embed_tokens', 'create decoder_model_merged',
      'release embed_tokens', 'release decoder_model_merged',
      'create vision_encoder', 'create audio_encoder', 'create audio_aligner',
    ]);
    expect(f.peak()).toBe(3);
    expect(Object.keys(sessions)).toEqual(ROLES.encoders);
    expect(stages.llmGeneration).toBe(1);
    expect(stages.current).toBe('encoders');
  });

  it('does nothing in the normal mode', async () => {
    const f = fakes();
    const stages = new StageSessions(false, ROLES, {}, f.create);
    await stages.use('llm');
    await stages.use('encoders');
    expect(f.log).toEqual([]);
  });

  it('releases what it created of a stage that failed half-way, and leaves no stage live', async () => {
    const f = fakes('decoder_model_merged');
    const sessions: Record<string, Session> = {};
    const stages = new StageSessions(true, ROLES, sessions, f.create);
    await stages.use('encoders');
    await expect(stages.use('llm')).rejects.toThrow('cannot create decoder_model_merged');
    expect(f.live.size).toBe(0);
    expect(sessions).toEqual({});
    expect(stages.current).toBeNull();
  });

  it('reports the creation of a stage as stage "session", role by role and within a role as its weights are read', async () => {
    const events: [string, number, string | undefined][] = [];
    const create = async (_role: string, onRead?: (f: number) => void): Promise<Session> => {
      onRead?.(0.5);
      onRead?.(1);
      return { release: async () => {} } as unknown as Session;
    };
    const stages = new StageSessions(true, ROLES, {}, create);
    await stages.use('llm', (stage, fraction, detail) => events.push([stage, fraction, detail]));
    // Two LLM roles: each is half the stage, its reads move within its half.
    expect(events).toEqual([
      ['session', 0, 'embed_tokens'], ['session', 0.25, 'embed_tokens'], ['session', 0.5, 'embed_tokens'],
      ['session', 0.5, 'decoder_model_merged'], ['session', 0.75, 'decoder_model_merged'], ['session', 1, 'decoder_model_merged'],
      ['session', 1, undefined],
    ]);
    events.length = 0;
    await stages.use('llm', (stage, fraction, detail) => events.push([stage, fraction, detail]));
    expect(events).toEqual([]); // already live: nothing created, nothing reported
  });
});
