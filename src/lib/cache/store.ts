/**
 * The cache's storage: manifests and chunks in IndexedDB through idb-keyval, one key per chunk (so no value is ever
 * the whole file, and a chunk is written — or not — as one unit). Keys:
 *   m/<id>          the file's CacheManifest
 *   c/<id>/<index>  the bytes of chunk <index>: a Blob (caches written before Blobs were used hold a Uint8Array,
 *                   and both read back the same way, so older caches keep working without a migration)
 * with <id> URI-encoded so no id is a prefix of another's chunk keys.
 *
 * Why Blobs: Chromium writes a Blob value straight to a file beside the database, while a Uint8Array value is
 * serialised (and compressed) into the database itself — measured in Chromium here (bench/cache-browser.ts), a
 * 32 MiB chunk is stored ~8× faster and read back ~4× faster as a Blob. A Blob read back is also a handle, not a
 * copy: a whole cached file joins into one Blob (`fileBlob`) without reading its bytes (what llama.cpp's wasm build
 * loads from).
 *
 * CacheStore talks to a small KeyValueStore so tests can put a wrapper between (a quota that runs out).
 */
import { createStore, del, delMany, get, set, type UseStore } from 'idb-keyval';
import { RbeeError, toRbeeError } from '../errors.ts';
import { storedBytes, type CacheManifest } from './manifest.ts';

export interface KeyValueStore {
  get<T>(key: string): Promise<T | undefined>;
  /** Throws DOMException QuotaExceededError when storage is full (IndexedDB does). */
  set(key: string, value: unknown): Promise<void>;
  del(key: string): Promise<void>;
  delMany(keys: string[]): Promise<void>;
  /** Every key that starts with `prefix`. */
  keysWithPrefix(prefix: string): Promise<string[]>;
}

export const DEFAULT_DB_NAME = 'rbee-cache';
const STORE_NAME = 'files';

/** The real store: one IndexedDB database with one object store. */
export function idbKeyValueStore(dbName = DEFAULT_DB_NAME): KeyValueStore {
  let db: UseStore | undefined;
  // Opened on first use: importing this module must not touch IndexedDB (SSR, Node without fake-indexeddb).
  const store = (): UseStore => (db ??= createStore(dbName, STORE_NAME));
  return {
    get: <T>(key: string) => get<T>(key, store()),
    set: (key, value) => set(key, value, store()),
    del: (key) => del(key, store()),
    delMany: (keys) => delMany(keys, store()),
    keysWithPrefix: (prefix) =>
      store()('readonly', (s) => {
        // '\uffff' sorts after every character an encoded id or index uses.
        const request = s.getAllKeys(IDBKeyRange.bound(prefix, `${prefix}\uffff`));
        return new Promise<string[]>((resolve, reject) => {
          request.onsuccess = () => resolve(request.result as string[]);
          request.onerror = () => reject(request.error);
        });
      }),
  };
}

/** What a chunk key holds: a Blob, or (caches written by earlier versions) a Uint8Array. */
type StoredChunk = Blob | Uint8Array;

const manifestKey = (id: string): string => `m/${encodeURIComponent(id)}`;
const chunkPrefix = (id: string): string => `c/${encodeURIComponent(id)}/`;
const chunkKey = (id: string, index: number): string => `${chunkPrefix(id)}${index}`;

/** What the library page lists per file. */
export interface CachedFileSummary {
  id: string;
  name: string;
  url: string;
  size: number;
  storedBytes: number;
  complete: boolean;
  createdAt: number;
  lastUsedAt: number;
  meta?: Record<string, unknown>;
}

function quotaError(cause: unknown): RbeeError {
  return new RbeeError('quota', 'The browser refused to store more data: storage is full.', {
    hint: 'Free space in the library (delete a model) or in the browser settings, then try again.',
    cause,
  });
}

export class CacheStore {
  constructor(readonly kv: KeyValueStore = idbKeyValueStore()) {}

  getManifest(id: string): Promise<CacheManifest | undefined> {
    return this.wrap(() => this.kv.get<CacheManifest>(manifestKey(id)));
  }

  putManifest(m: CacheManifest): Promise<void> {
    return this.wrap(() => this.kv.set(manifestKey(m.id), m));
  }

  /** Stores a chunk's bytes (as a Blob). The caller marks it done in the manifest only after this resolves. */
  putChunk(id: string, index: number, bytes: Uint8Array): Promise<void> {
    return this.wrap(() => this.kv.set(chunkKey(id, index), new Blob([bytes as Uint8Array<ArrayBuffer>])));
  }

  async getChunk(id: string, index: number): Promise<Uint8Array | undefined> {
    const v = await this.wrap(() => this.kv.get<StoredChunk>(chunkKey(id, index)));
    if (v === undefined) return undefined;
    if (v instanceof Blob) return new Uint8Array(await this.wrap(() => v.arrayBuffer()));
    // Structured clone may hand back a Uint8Array from another realm; normalise for instanceof checks downstream.
    return v instanceof Uint8Array ? v : new Uint8Array(v as ArrayLike<number>);
  }

  /** A chunk as a Blob without reading its bytes (older caches' Uint8Array chunks are wrapped). */
  async getChunkBlob(id: string, index: number): Promise<Blob | undefined> {
    const v = await this.wrap(() => this.kv.get<StoredChunk>(chunkKey(id, index)));
    if (v === undefined || v instanceof Blob) return v;
    return new Blob([v instanceof Uint8Array ? (v as Uint8Array<ArrayBuffer>) : new Uint8Array(v as ArrayLike<number>)]);
  }

  /** Chunk indices actually present (a chunk stored but not yet marked done is here and not in the manifest). */
  async storedChunkIndices(id: string): Promise<number[]> {
    const prefix = chunkPrefix(id);
    const keys = await this.wrap(() => this.kv.keysWithPrefix(prefix));
    return keys.map((k) => Number(k.slice(prefix.length))).filter((n) => Number.isSafeInteger(n)).sort((a, b) => a - b);
  }

  async deleteChunks(id: string, indices?: number[]): Promise<void> {
    const keys = indices ? indices.map((i) => chunkKey(id, i)) : await this.wrap(() => this.kv.keysWithPrefix(chunkPrefix(id)));
    if (keys.length > 0) await this.wrap(() => this.kv.delMany(keys));
  }

  /** Removes a file: its chunks first, then its manifest (a manifest without chunks would claim bytes that are gone). */
  async delete(id: string): Promise<void> {
    await this.deleteChunks(id);
    await this.wrap(() => this.kv.del(manifestKey(id)));
  }

  async list(): Promise<CachedFileSummary[]> {
    const keys = await this.wrap(() => this.kv.keysWithPrefix('m/'));
    const manifests = await Promise.all(keys.map((k) => this.wrap(() => this.kv.get<CacheManifest>(k))));
    return manifests
      .filter((m): m is CacheManifest => m !== undefined)
      .map((m) => ({
        id: m.id,
        name: m.name,
        url: m.url,
        size: m.size,
        storedBytes: storedBytes(m),
        complete: m.complete,
        createdAt: m.createdAt,
        lastUsedAt: m.lastUsedAt,
        ...(m.meta ? { meta: m.meta } : {}),
      }))
      .sort((a, b) => b.lastUsedAt - a.lastUsedAt);
  }

  async deleteAll(): Promise<void> {
    const chunkKeys = await this.wrap(() => this.kv.keysWithPrefix('c/'));
    if (chunkKeys.length > 0) await this.wrap(() => this.kv.delMany(chunkKeys));
    const manifestKeys = await this.wrap(() => this.kv.keysWithPrefix('m/'));
    if (manifestKeys.length > 0) await this.wrap(() => this.kv.delMany(manifestKeys));
  }

  /** Records that the file was opened (the library sorts by it). */
  async touch(id: string): Promise<void> {
    const m = await this.getManifest(id);
    if (m) await this.putManifest({ ...m, lastUsedAt: Date.now() });
  }

  /** IndexedDB errors reach users as RbeeErrors (QuotaExceededError → 'quota'). */
  private async wrap<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (e) {
      if (e instanceof RbeeError) throw e;
      // Firefox has reported a full disk under its own name.
      const name = (e as { name?: unknown } | null)?.name;
      if (name === 'QuotaExceededError' || name === 'NS_ERROR_DOM_QUOTA_REACHED') throw quotaError(e);
      const err = toRbeeError(e);
      if (err.code === 'internal') {
        throw new RbeeError('internal', `The browser's storage (IndexedDB) failed: ${err.message.replace(/^Unexpected error: /, '')}`, {
          hint: 'Private windows and some browser settings block storage; try a normal window.',
          cause: e,
        });
      }
      throw err;
    }
  }
}
