// The whole-file SHA-256 is computed while the file downloads (in-order-hash.ts): no chunk is read back from the
// store when chunks arrive in order; chunks that arrive too far ahead, or were stored in an earlier session, are read
// back and still give the right hash; a chunk that changed at rest in an earlier session is found and fetched again.
import 'fake-indexeddb/auto';
import { createHash, randomBytes } from 'node:crypto';
import { afterEach, describe, expect, test } from 'vitest';
import { CachedFileSource } from '../../../src/lib/cache/cached-source.ts';
import { startDownload, type DownloadOptions } from '../../../src/lib/cache/downloader.ts';
import { CacheStore, idbKeyValueStore, type KeyValueStore } from '../../../src/lib/cache/store.ts';
import { startRangeServer, type RangeServer } from '../../support/range-server.ts';

const CHUNK = 64 * 1024;
const FILE = new Uint8Array(randomBytes(12 * CHUNK + 777)); // 13 chunks
const ID = 'hash-test';
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

let db = 0;
const servers: RangeServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** A store that counts chunk reads (what the end-of-download check used to do for every chunk). */
function countingStore(): { store: CacheStore; chunkReads: () => number } {
  const inner = idbKeyValueStore(`hash-test-${++db}`);
  let reads = 0;
  const kv: KeyValueStore = {
    ...inner,
    get: (key) => {
      if (key.startsWith('c/')) reads++;
      return inner.get(key);
    },
  };
  return { store: new CacheStore(kv), chunkReads: () => reads };
}

async function serve(): Promise<{ server: RangeServer; url: string }> {
  const server = await startRangeServer({ '/m.bin': FILE });
  servers.push(server);
  return { server, url: `${server.url}/m.bin` };
}

const options = (url: string, store: CacheStore, extra: Partial<DownloadOptions> = {}): DownloadOptions => ({
  url,
  id: ID,
  store,
  chunkSize: CHUNK,
  parallel: 3,
  retryDelayMs: 0,
  sha256: sha(FILE),
  estimate: async () => ({ freeBytes: undefined, quotaBytes: undefined, usageBytes: undefined }),
  ...extra,
});

async function cachedSha(store: CacheStore): Promise<string> {
  const h = createHash('sha256');
  for await (const { bytes } of (await CachedFileSource.open(ID, store)).chunks()) h.update(bytes);
  return h.digest('hex');
}

describe('the whole-file SHA-256 while downloading', () => {
  test('chunks arriving in order are hashed from memory: no chunk is read back from the store', async () => {
    const { url } = await serve();
    const { store, chunkReads } = countingStore();
    const result = await startDownload(options(url, store, { parallel: 1 })).done;
    expect(result.manifest.complete).toBe(true);
    expect(chunkReads()).toBe(0);
    expect(await cachedSha(store)).toBe(sha(FILE));
  });

  test('a first chunk far behind the others: chunks past the hold limit are read back, the hash is still right', async () => {
    const { url } = await serve();
    const { store, chunkReads } = countingStore();
    // Chunk 0's answer waits until six other chunks are stored, so more arrive ahead of it than are held (2).
    let others = 0;
    let release!: () => void;
    const late = new Promise<void>((r) => (release = r));
    const slowFirst: typeof fetch = async (input, init) => {
      const range = new Headers(init?.headers).get('Range');
      if (range === `bytes=0-${CHUNK - 1}`) await late;
      const res = await fetch(input, init);
      if (range !== 'bytes=0-0' && range !== `bytes=0-${CHUNK - 1}` && ++others === 6) release();
      return res;
    };
    const result = await startDownload(options(url, store, { fetch: slowFirst })).done;
    expect(result.manifest.complete).toBe(true);
    expect(chunkReads()).toBeGreaterThan(0);
    expect(chunkReads()).toBeLessThan(13);
    expect(await cachedSha(store)).toBe(sha(FILE));

    const wrong = await startDownload(options(url, countingStore().store, { fetch: slowFirst, sha256: 'cd'.repeat(32) })).done.catch((e: unknown) => e);
    expect(wrong).toMatchObject({ code: 'checksum' });
  });

  test('a resumed download hashes the chunks of the earlier session from the store, and refetches one changed at rest', async () => {
    const { server, url } = await serve();
    const { store } = countingStore();
    const first = startDownload(options(url, store, { parallel: 1, onProgress: (p) => p.chunksDone >= 5 && first.cancel() }));
    await first.done.catch(() => undefined);
    const partial = (await store.getManifest(ID))!;
    expect(partial.chunks.filter((c) => c.done).length).toBeGreaterThanOrEqual(5);
    await store.putChunk(ID, 1, new Uint8Array(CHUNK)); // the browser's storage flipped bits while the tab was closed
    const missing = partial.chunks.filter((c) => !c.done).length;

    server.resetStats();
    const result = await startDownload(options(url, store)).done;
    expect(result.manifest.complete).toBe(true);
    // The missing chunks, then chunk 1 again once the hash found it changed.
    expect(result.fetchedBytes).toBe((missing - 1) * CHUNK + 777 + CHUNK);
    expect(await cachedSha(store)).toBe(sha(FILE));
  });
});
