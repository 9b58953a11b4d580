import { expect } from 'vitest';
import { CaptionError } from '../errors';

/** The CaptionError a promise rejects with (fails the test when it resolves or throws another error). */
export async function rejection(p: Promise<unknown>): Promise<CaptionError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(CaptionError);
    return e as CaptionError;
  }
  throw new Error('expected the promise to reject');
}
