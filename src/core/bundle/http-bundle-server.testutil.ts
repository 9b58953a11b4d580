/**
 * Test helper (Node only): serves bundle files over HTTP from memory under `/b/`, with
 * Content-Length, optional cross-origin isolation headers (COOP/COEP/CORP, as a model host
 * for the app must send), and faults: answers of a given status the next n times, or a
 * connection cut after k bytes. Counts requests per path. Used by unit tests and e2e specs.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, relative } from 'node:path';

/** Every file under `root`, keyed by its '/'-separated path relative to it (a bundle folder, for the server). */
export function readTree(root: string): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(relative(root, p).split('\\').join('/'), new Uint8Array(readFileSync(p)));
    }
  };
  walk(root);
  return out;
}

export interface BundleServer {
  origin: string;
  /** `${origin}/b/` */
  base: string;
  /** Paths requested, in order (e.g. "/b/bundle.json"). */
  requests: string[];
  files: Map<string, Uint8Array>;
  /** Bundle path → [status, times]: answer that status the next `times` requests. */
  failNext: Map<string, [number, number]>;
  /** Bundle path → bytes: the next request sends that many bytes, then the connection is cut. */
  cutNext: Map<string, number>;
  /** Bytes sent per path (what the network carried). */
  sentBytes: Map<string, number>;
  /** Milliseconds between the 8 writes of each file (0: none), so that progress can be watched. */
  delayMs: number;
  /** Count of requests for one bundle path. */
  count(path: string): number;
  close(): Promise<void>;
}

export async function startBundleServer(files: Map<string, Uint8Array>, options: { isolation?: boolean; host?: string } = {}): Promise<BundleServer> {
  const state = {
    delayMs: 0,
    requests: [] as string[],
    files,
    failNext: new Map<string, [number, number]>(),
    cutNext: new Map<string, number>(),
    sentBytes: new Map<string, number>(),
  };
  const isolation: Record<string, string> = options.isolation
    ? {
        'cross-origin-opener-policy': 'same-origin',
        'cross-origin-embedder-policy': 'require-corp',
        'cross-origin-resource-policy': 'cross-origin',
        'access-control-allow-origin': '*',
      }
    : {};
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { ...isolation, 'access-control-allow-headers': '*' }).end();
      return;
    }
    state.requests.push(path);
    const rel = path.startsWith('/b/') ? path.slice(3) : '';
    const fault = state.failNext.get(rel);
    if (fault && fault[1] > 0) {
      fault[1]--;
      res.writeHead(fault[0], isolation).end('fault');
      return;
    }
    const data = state.files.get(rel);
    if (!data) {
      res.writeHead(404, isolation).end('not found');
      return;
    }
    res.writeHead(200, {
      ...isolation,
      'content-type': rel.endsWith('.json') ? 'application/json' : 'application/octet-stream',
      'content-length': String(data.byteLength),
      'cache-control': 'no-store',
    });
    const cut = state.cutNext.get(rel);
    const send = (bytes: Uint8Array) => {
      state.sentBytes.set(rel, (state.sentBytes.get(rel) ?? 0) + bytes.byteLength);
      res.write(bytes);
    };
    if (cut !== undefined) {
      state.cutNext.delete(rel);
      send(data.subarray(0, cut));
      setTimeout(() => res.destroy(), 20);
      return;
    }
    const step = Math.max(1, Math.ceil(data.byteLength / 8));
    if (!self.delayMs) {
      for (let i = 0; i < data.byteLength; i += step) send(data.subarray(i, i + step));
      res.end();
      return;
    }
    let i = 0;
    const tick = () => {
      if (res.destroyed) return;
      if (i >= data.byteLength) return void res.end();
      send(data.subarray(i, i + step));
      i += step;
      setTimeout(tick, self.delayMs);
    };
    tick();
  });
  const self = state;
  await new Promise<void>((r) => server.listen(0, options.host ?? '127.0.0.1', r));
  const origin = `http://${options.host ?? '127.0.0.1'}:${(server.address() as AddressInfo).port}`;
  return Object.assign(state, {
    origin,
    base: `${origin}/b/`,
    count: (p: string) => state.requests.filter((r) => r === `/b/${p}`).length,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  });
}
