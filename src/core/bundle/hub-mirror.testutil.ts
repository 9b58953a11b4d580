/**
 * Test helper (Node only): answers requests in the Hub's path layout
 * (`/<repo>/resolve/<commit>/<path>`) from a mirror folder (models/lite/make_mirror.py) with
 * the headers huggingface.co sends: Content-Length, ETag, X-Repo-Commit, and for LFS files
 * (`*.onnx`, `*.onnx_data`) X-Linked-Size and X-Linked-ETag (the LFS sha256), CORS-exposed as
 * the Hub exposes them. Used by the Node tests (an HTTP server) and by Playwright's
 * `page.route` (e2e/lite.spec.ts).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, normalize } from 'node:path';

export const MIRROR_DIR = 'models/lite/mirror';

/** The headers the Hub exposes to pages (access-control-expose-headers of huggingface.co). */
export const HUB_EXPOSED = 'X-Repo-Commit,X-Request-Id,X-Error-Code,X-Error-Message,X-Total-Count,ETag,Link,Accept-Ranges,Content-Range,X-Linked-Size,X-Linked-ETag,X-Xet-Hash';

export interface HubAnswer {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array;
}

export interface MirrorOverrides {
  /** Mirror-relative path → bytes served instead of the file's (a tampered file). */
  replace?: Map<string, Uint8Array>;
  /** Mirror-relative paths answered 404 (a missing file). */
  remove?: Set<string>;
}

const isLfs = (path: string) => /\.onnx(_data(_\d+)?)?$/.test(path);
const hex = (alg: string, data: Uint8Array) => createHash(alg).update(data).digest('hex');

/** The Hub's answer for `pathname` (URL-decoded, starting with "/"). */
export function hubAnswer(root: string, pathname: string, method: string, overrides: MirrorOverrides = {}): HubAnswer {
  const cors = { 'access-control-allow-origin': '*', 'access-control-expose-headers': HUB_EXPOSED, 'cross-origin-resource-policy': 'cross-origin' };
  const rel = normalize(pathname).replace(/^\/+/, '');
  const m = /^[^/]+\/[^/]+\/resolve\/([0-9a-f]{40})\/(.+)$/.exec(rel);
  const file = join(root, rel);
  const data = overrides.replace?.get(rel) ?? (m && !overrides.remove?.has(rel) && existsSync(file) && statSync(file).isFile() ? readFileSync(file) : null);
  if (!m || !data) return { status: 404, headers: { ...cors, 'x-error-code': 'EntryNotFound', 'content-type': 'text/plain' }, body: new TextEncoder().encode('Entry not found') };
  const headers: Record<string, string> = {
    ...cors,
    'content-type': rel.endsWith('.json') ? 'application/json' : 'application/octet-stream',
    'content-length': String(data.byteLength),
    'accept-ranges': 'bytes',
    'x-repo-commit': m[1],
  };
  if (isLfs(rel)) {
    const sha = hex('sha256', data);
    Object.assign(headers, { etag: `"${sha}"`, 'x-linked-size': String(data.byteLength), 'x-linked-etag': `"${sha}"` });
  } else {
    headers.etag = `"${hex('sha1', Buffer.concat([Buffer.from(`blob ${data.byteLength}\0`), data]))}"`; // the git blob id, as the Hub's ETag of a plain file
  }
  return { status: 200, headers, body: method === 'HEAD' ? new Uint8Array(0) : data };
}

export interface HubMirrorServer {
  /** The endpoint to use instead of https://huggingface.co. */
  endpoint: string;
  /** "METHOD /path" of every request, in order. */
  requests: string[];
  overrides: Required<MirrorOverrides>;
  close(): Promise<void>;
}

export async function startHubMirror(root = MIRROR_DIR): Promise<HubMirrorServer> {
  const requests: string[] = [];
  const overrides = { replace: new Map<string, Uint8Array>(), remove: new Set<string>() };
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push(`${req.method} ${path}`);
    const a = hubAnswer(root, path, req.method ?? 'GET', overrides);
    res.writeHead(a.status, a.headers).end(Buffer.from(a.body));
  });
  server.keepAliveTimeout = 60_000; // no idle-socket close racing the client's reuse between tests
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    overrides,
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}
