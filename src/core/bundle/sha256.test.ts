import { describe, expect, it } from 'vitest';
import { pseudoRandomBytes } from './fake-bundle.testutil';
import { sha256Hex } from './hash';
import { Sha256 } from './sha256';

describe('incremental Sha256', () => {
  it('matches the known vectors', () => {
    expect(new Sha256().hex()).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(new Sha256().update(new TextEncoder().encode('abc')).hex()).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('matches WebCrypto for every length around the block and padding edges, fed in uneven pieces', async () => {
    const data = pseudoRandomBytes(300_001, 5);
    for (const n of [1, 55, 56, 63, 64, 65, 119, 120, 127, 128, 1000, 300_001]) {
      const bytes = data.subarray(0, n);
      const h = new Sha256();
      for (let i = 0, step = 1; i < n; i += step, step = (step * 7 + 3) % 97 || 1) h.update(bytes.subarray(i, Math.min(n, i + step)));
      expect(h.hex(), `length ${n}`).toBe(await sha256Hex(bytes));
    }
  });

  it('refuses updates after the digest', () => {
    const h = new Sha256();
    h.hex();
    expect(() => h.update(new Uint8Array(1))).toThrow(/after digest/);
  });
});
