/**
 * A small promise wrapper over IndexedDB: one database, object stores keyed by `id`.
 * Storage-full errors surface as `StorageFullError` so the UI can say so.
 */

export class StorageFullError extends Error {
  constructor(cause?: unknown) {
    super('The browser’s storage for this site is full, so the run could not be saved to the history. Delete old runs (or cached models) and try again.');
    this.name = 'StorageFullError';
    this.cause = cause;
  }
}

/** QuotaExceededError (DOMException name or legacy code 22), as IndexedDB and the Cache API report it. */
export function isQuotaError(e: unknown): boolean {
  if (!e || typeof e !== 'object') return false;
  const { name, code } = e as { name?: unknown; code?: unknown };
  return name === 'QuotaExceededError' || name === 'NS_ERROR_DOM_QUOTA_REACHED' || code === 22;
}

function promisify<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = () => reject(isQuotaError(tx.error) ? new StorageFullError(tx.error) : (tx.error ?? new Error('IndexedDB transaction aborted')));
    tx.onerror = () => undefined; // onabort follows
  });
}

export class KeyValueDb {
  private db: Promise<IDBDatabase> | null = null;

  constructor(
    private readonly name: string,
    private readonly version: number,
    private readonly stores: string[],
    private readonly factory: IDBFactory | undefined = globalThis.indexedDB,
  ) {}

  get available(): boolean {
    return this.factory !== undefined;
  }

  private open(): Promise<IDBDatabase> {
    if (!this.factory) return Promise.reject(new Error('IndexedDB is not available in this browser (private mode?), so the history cannot be kept.'));
    this.db ??= new Promise<IDBDatabase>((resolve, reject) => {
      const req = this.factory!.open(this.name, this.version);
      req.onupgradeneeded = () => {
        for (const s of this.stores) if (!req.result.objectStoreNames.contains(s)) req.result.createObjectStore(s, { keyPath: 'id' });
      };
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
      req.onblocked = () => reject(new Error('The history database is blocked by another tab of this app: close it and reload.'));
    }).catch((e) => {
      this.db = null;
      throw e;
    });
    return this.db;
  }

  async getAll<T>(store: string): Promise<T[]> {
    const db = await this.open();
    return promisify(db.transaction(store, 'readonly').objectStore(store).getAll()) as Promise<T[]>;
  }

  async put<T extends { id: string }>(store: string, value: T): Promise<void> {
    const db = await this.open();
    let tx: IDBTransaction;
    try {
      tx = db.transaction(store, 'readwrite');
      tx.objectStore(store).put(value);
    } catch (e) {
      throw isQuotaError(e) ? new StorageFullError(e) : e;
    }
    return done(tx);
  }

  async delete(store: string, id: string): Promise<void> {
    const db = await this.open();
    const tx = db.transaction(store, 'readwrite');
    tx.objectStore(store).delete(id);
    return done(tx);
  }

  async clear(store: string): Promise<void> {
    const db = await this.open();
    const tx = db.transaction(store, 'readwrite');
    tx.objectStore(store).clear();
    return done(tx);
  }
}
