/**
 * Test helper: an in-memory `CacheStorage` with the few methods the bundle code uses
 * (open, has, delete, keys; match, put, delete, keys), for Node where there is no
 * Cache API. Browsers test the real one (e2e/bundle.spec.ts).
 */
interface Entry {
  body: Uint8Array<ArrayBuffer>;
  headers: [string, string][];
  status: number;
}

const keyOf = (req: RequestInfo | URL) => (typeof req === 'string' ? req : req instanceof URL ? req.href : req.url);

export class MemoryCache {
  readonly entries = new Map<string, Entry>();
  /** Makes the next puts fail as a full disk would. */
  failPuts = false;

  async match(req: RequestInfo | URL): Promise<Response | undefined> {
    const e = this.entries.get(keyOf(req));
    return e ? new Response(e.body.slice(), { status: e.status, headers: e.headers }) : undefined;
  }

  async put(req: RequestInfo | URL, res: Response): Promise<void> {
    const body = new Uint8Array(await res.arrayBuffer());
    if (this.failPuts) throw new DOMException('Quota exceeded', 'QuotaExceededError');
    this.entries.set(keyOf(req), { body, headers: [...res.headers], status: res.status });
  }

  async delete(req: RequestInfo | URL): Promise<boolean> {
    return this.entries.delete(keyOf(req));
  }

  async keys(): Promise<Request[]> {
    return [...this.entries.keys()].map((u) => new Request(u));
  }
}

export class MemoryCacheStorage {
  readonly caches = new Map<string, MemoryCache>();

  async open(name: string): Promise<MemoryCache> {
    let c = this.caches.get(name);
    if (!c) this.caches.set(name, (c = new MemoryCache()));
    return c;
  }

  async has(name: string): Promise<boolean> {
    return this.caches.has(name);
  }

  async delete(name: string): Promise<boolean> {
    return this.caches.delete(name);
  }

  asCacheStorage(): CacheStorage {
    return this as unknown as CacheStorage;
  }
}
