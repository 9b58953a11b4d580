/**
 * SHA-256 with WebCrypto (`crypto.subtle`), present in browsers, workers and Node 20.
 * Bytes verified once are remembered (by identity) so that a source that verifies before
 * caching and `loadBundle`, which verifies before use, do not hash the same buffer twice.
 */

const verified = new WeakMap<Uint8Array, string>();

function subtle(): SubtleCrypto {
  const s = globalThis.crypto?.subtle;
  if (!s) {
    // Only insecure (http, non-localhost) browser contexts lack it.
    throw new Error('WebCrypto (crypto.subtle) is not available: serve the app over https or from localhost.');
  }
  return s;
}

/** Lower-case hex SHA-256 of the bytes. */
export async function sha256Hex(data: Uint8Array): Promise<string> {
  const digest = await subtle().digest('SHA-256', data as Uint8Array<ArrayBuffer>);
  const bytes = new Uint8Array(digest);
  let hex = '';
  for (const b of bytes) hex += b.toString(16).padStart(2, '0');
  return hex;
}

/** The sha256 of `data`, reusing a digest computed earlier for the same buffer. */
export async function sha256Cached(data: Uint8Array): Promise<string> {
  const known = verified.get(data);
  if (known !== undefined) return known;
  const hex = await sha256Hex(data);
  verified.set(data, hex);
  return hex;
}
