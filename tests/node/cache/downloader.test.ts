import 'fake-indexeddb/auto';
import { createHash, randomBytes } from 'node:crypto';
import { afterEach, describe, expect, test } from 'vitest';
import { CachedFileSource } from '../../../src/lib/cache/cached-source.ts';
import { recheckCachedFile, startDownload, type DownloadOptions } from '../../../src/lib/cache/downloader.ts';
import { storedBytes } from '../../../src/lib/cache/manifest.ts';
import type { DownloadProgress } from '../../../src/lib/cache/progress.ts';
import { CacheStore, idbKeyValueStore, type KeyValueStore } from '../../../src/lib/cache/store.ts';
import { isRbeeError } from '../../../src/lib/errors.ts';
import { startRangeServer, type RangeServer } from '../../support/range-server.ts';

const KiB = 1024;
const CHUNK = 64 * KiB;
const FILE = new Uint8Array(randomBytes(16 * CHUNK + 1234)); // 17 chunks, the last one short
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
/** Byte equality without vitest's element-by-element diffing (slow on 64 KiB arrays). */
const same = (a: Uint8Array | undefined, b: Uint8Array): boolean => a !== undefined && Buffer.from(a).equals(Buffer.from(b));

let db = 0;
const servers: RangeServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(file: Uint8Array = FILE): Promise<{ server: RangeServer; url: string }> {
  const server = await startRangeServer({ '/model.gguf': file });
  servers.push(server);
  return { server, url: `${server.url}/model.gguf` };
}

const newStore = (kv?: KeyValueStore): CacheStore => new CacheStore(kv ?? idbKeyValueStore(`dl-test-${++db}`));

const base = (url: string, store: CacheStore, extra: Partial<DownloadOptions> = {}): DownloadOptions => ({
  url,
  id: 'hf:test/model@main/model.gguf',
  store,
  chunkSize: CHUNK,
  parallel: 3,
  retryDelayMs: 0,
  estimate: async () => ({ freeBytes: undefined, quotaBytes: undefined, usageBytes: undefined }),
  ...extra,
});

/** The cached file read back chunk by chunk, hashed (never assembled into one buffer). */
async function cachedSha(store: CacheStore, id = 'hf:test/model@main/model.gguf'): Promise<string> {
  const source = await CachedFileSource.open(id, store);
  const h = createHash('sha256');
  for await (const { bytes } of source.chunks()) h.update(bytes);
  return h.digest('hex');
}

async function rejection(p: Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await p;
  } catch (e) {
    return isRbeeError(e) ? e : { message: String(e) };
  }
  throw new Error('expected a rejection');
}

describe('downloading into the cache', () => {
  test('chunks with Range requests, several at once; the stored bytes hash equal to the file', async () => {
    const { server, url } = await serve();
    const store = newStore();
    const seen: DownloadProgress[] = [];
    const d = startDownload(base(url, store, { sha256: sha(FILE), onProgress: (p) => seen.push(p) }));
    const result = await d.done;
    expect(result.manifest.complete).toBe(true);
    expect(result.fetchedBytes).toBe(FILE.byteLength);
    expect(result.restarted).toBe(false);
    expect(await cachedSha(store)).toBe(sha(FILE));
    // One probe (bytes=0-0) plus one request per chunk, all ranged.
    expect(server.stats.get('/model.gguf')).toMatchObject({ requests: 1 + 17, rangeRequests: 1 + 17 });
    const last = seen[seen.length - 1]!;
    expect(last).toMatchObject({ state: 'done', bytesStored: FILE.byteLength, bytesTotal: FILE.byteLength, chunksDone: 17, chunksTotal: 17, etaSeconds: 0 });
    // Stored bytes never go down and never run ahead of received bytes.
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.bytesStored).toBeGreaterThanOrEqual(seen[i - 1]!.bytesStored);
    expect(seen.every((p) => p.bytesStored <= p.bytesReceived)).toBe(true);
    expect((await store.list())[0]).toMatchObject({ name: 'model.gguf', complete: true, storedBytes: FILE.byteLength });
  });

  test('a download cut off midway resumes from the stored chunks and fetches only what is missing', async () => {
    const { server, url } = await serve();
    const store = newStore();
    let chunkResponses = 0;
    // The server cuts every connection once 5 chunks have been answered.
    const cutting: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if ((init?.headers as Record<string, string>)?.Range !== 'bytes=0-0' && ++chunkResponses === 5) server.options.failAfterBytes = 1000;
      return res;
    };
    const first = await rejection(startDownload(base(url, store, { fetch: cutting, retries: 1 })).done);
    expect(first.code).toBe('network');
    const partial = (await store.getManifest('hf:test/model@main/model.gguf'))!;
    const kept = storedBytes(partial);
    expect(partial.complete).toBe(false);
    expect(kept).toBeGreaterThanOrEqual(2 * CHUNK);
    expect(kept).toBeLessThan(FILE.byteLength);
    // Every chunk counted is really there, with the file's bytes.
    for (const [i, c] of partial.chunks.entries()) {
      if (c.done) expect(same(await store.getChunk(partial.id, i), FILE.subarray(i * CHUNK, Math.min(FILE.byteLength, (i + 1) * CHUNK)))).toBe(true);
    }
    await expect(CachedFileSource.open(partial.id, store)).rejects.toMatchObject({ code: 'truncated' });

    server.options.failAfterBytes = undefined;
    const second = await startDownload(base(url, store)).done;
    expect(second.fetchedBytes).toBe(FILE.byteLength - kept);
    expect(await cachedSha(store)).toBe(sha(FILE));
  });

  test('a changed file (new ETag) starts over with a message', async () => {
    const { server, url } = await serve();
    const store = newStore();
    const d = startDownload(base(url, store, { parallel: 1, onProgress: (p) => p.chunksDone >= 3 && d.cancel() }));
    expect((await rejection(d.done)).code).toBe('aborted');
    expect(storedBytes((await store.getManifest('hf:test/model@main/model.gguf'))!)).toBeGreaterThanOrEqual(3 * CHUNK);

    const changed = new Uint8Array(randomBytes(5 * CHUNK));
    server.setFile('/model.gguf', changed);
    const messages: string[] = [];
    const result = await startDownload(base(url, store, { onMessage: (m) => messages.push(m) })).done;
    expect(result.restarted).toBe(true);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(/model\.gguf changed on the server since the download began \(ETag .* → .*\): starting over/);
    expect(result.fetchedBytes).toBe(changed.byteLength);
    expect(result.manifest.chunks).toHaveLength(5);
    expect(await cachedSha(store)).toBe(sha(changed));
  });

  test('a file that changes during the download (If-Range answered with 200) starts over', async () => {
    const { server, url } = await serve();
    const store = newStore();
    const changed = new Uint8Array(randomBytes(3 * CHUNK + 7));
    let n = 0;
    const changing: typeof fetch = async (input, init) => {
      if (++n === 4) server.setFile('/model.gguf', changed);
      return fetch(input, init);
    };
    const result = await startDownload(base(url, store, { fetch: changing, parallel: 1 })).done;
    expect(result.restarted).toBe(true);
    expect(await cachedSha(store)).toBe(sha(changed));
  });

  test('a full store stops with the quota message and leaves nothing half-counted', async () => {
    const { url } = await serve();
    const inner = idbKeyValueStore(`dl-test-${++db}`);
    let chunkBytes = 0;
    const limit = 5 * CHUNK + 100; // room for five chunks and part of a sixth
    const quota: KeyValueStore = {
      ...inner,
      async set(key, value) {
        if (value instanceof Uint8Array || value instanceof Blob) {
          const size = value instanceof Blob ? value.size : value.byteLength;
          if (chunkBytes + size > limit) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
          chunkBytes += size;
        }
        return inner.set(key, value);
      },
    };
    const store = newStore(quota);
    const d = startDownload(base(url, store));
    const err = await rejection(d.done);
    expect(err.code).toBe('quota');
    expect(err.message).toMatch(/^Not enough storage: this download needs .* more/);
    const m = (await store.getManifest('hf:test/model@main/model.gguf'))!;
    const doneIndices = m.chunks.flatMap((c, i) => (c.done ? [i] : []));
    // Exactly the chunks that were stored are counted; the one refused is neither stored nor counted.
    expect(doneIndices).toEqual(await store.storedChunkIndices(m.id));
    expect(storedBytes(m)).toBe(chunkBytes);
    expect(storedBytes(m)).toBe(5 * CHUNK);
    expect(d.progress).toMatchObject({ state: 'failed', bytesStored: 5 * CHUNK });
  });

  test('a chunk stored but refused its count (the manifest write hits the quota) is deleted, not left taking space', async () => {
    // Chromium checks concurrent IndexedDB writes against the space left one at a time: the chunks in flight can all
    // land past the quota and the small manifest write that would count them is the one refused.
    const { url } = await serve();
    const inner = idbKeyValueStore(`dl-test-${++db}`);
    let manifestWrites = 0;
    const quota: KeyValueStore = {
      ...inner,
      async set(key, value) {
        if (!(value instanceof Uint8Array || value instanceof Blob) && ++manifestWrites > 3) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
        return inner.set(key, value);
      },
    };
    const store = newStore(quota);
    const err = await rejection(startDownload(base(url, store)).done);
    expect(err.code).toBe('quota');
    const m = (await store.getManifest('hf:test/model@main/model.gguf'))!;
    const doneIndices = m.chunks.flatMap((c, i) => (c.done ? [i] : []));
    expect(doneIndices.length).toBeGreaterThan(0);
    expect(await store.storedChunkIndices(m.id)).toEqual(doneIndices);
  });

  test('too little free space is reported before any chunk is fetched', async () => {
    const { server, url } = await serve();
    const store = newStore();
    const err = await rejection(startDownload(base(url, store, { estimate: async () => ({ freeBytes: 100 * KiB, quotaBytes: 10 * 1024 * KiB, usageBytes: 0 }) })).done);
    expect(err.code).toBe('quota');
    expect(err.message).toBe('Not enough storage: this download needs 1 MiB more and 100 KiB is free.');
    expect(server.stats.get('/model.gguf')!.requests).toBe(1); // the probe only
  });

  test('pause stops fetching; resume continues to a complete, correct file', async () => {
    const { server, url } = await serve();
    const store = newStore();
    let paused = false;
    const d = startDownload(base(url, store, { parallel: 1, onProgress: (p) => { if (!paused && p.chunksDone >= 2) { paused = true; d.pause(); } } }));
    await new Promise((r) => setTimeout(r, 300));
    expect(d.progress.state).toBe('paused');
    const requestsWhilePaused = server.stats.get('/model.gguf')!.requests;
    await new Promise((r) => setTimeout(r, 200));
    expect(server.stats.get('/model.gguf')!.requests).toBe(requestsWhilePaused);
    d.resume();
    const result = await d.done;
    expect(result.manifest.complete).toBe(true);
    expect(await cachedSha(store)).toBe(sha(FILE));
  });

  test('a wrong SHA-256 deletes the file with a checksum error; a chunk corrupted at rest is fetched again', async () => {
    const { url } = await serve();
    const store = newStore();
    const err = await rejection(startDownload(base(url, store, { sha256: 'ab'.repeat(32) })).done);
    expect(err.code).toBe('checksum');
    expect(await store.list()).toEqual([]);

    await startDownload(base(url, store, { sha256: sha(FILE) })).done;
    const id = 'hf:test/model@main/model.gguf';
    await store.putChunk(id, 2, new Uint8Array(CHUNK)); // the browser's storage flipped bits
    const check = await recheckCachedFile(store, id);
    expect(check).toMatchObject({ ok: false, badChunks: [2] });
    await expect(CachedFileSource.open(id, store)).rejects.toMatchObject({ code: 'truncated' });
    const again = await startDownload(base(url, store, { sha256: sha(FILE) })).done;
    expect(again.fetchedBytes).toBe(CHUNK);
    expect(await cachedSha(store)).toBe(sha(FILE));
  });

  test('starting the same file twice while it downloads joins the running download', async () => {
    const { server, url } = await serve();
    const store = newStore();
    const a = startDownload(base(url, store));
    const b = startDownload(base(url, store));
    expect(b).toBe(a);
    await a.done;
    expect(server.stats.get('/model.gguf')!.requests).toBe(1 + 17);
    // Once finished, a new start is a new (instant: already complete) download.
    const c = startDownload(base(url, store));
    expect(c).not.toBe(a);
    expect((await c.done).fetchedBytes).toBe(0);
  });

  test('HTTP failures are typed: 404 not-found, 403 gated, no Range support no-range', async () => {
    const server = await startRangeServer({ '/m.gguf': FILE }, { status: { '/gated.gguf': 403 } });
    servers.push(server);
    const store = newStore();
    expect((await rejection(startDownload(base(`${server.url}/missing.gguf`, store, { id: 'a' })).done)).code).toBe('not-found');
    expect((await rejection(startDownload(base(`${server.url}/gated.gguf`, store, { id: 'b' })).done)).code).toBe('gated');
    server.options.noRange = true;
    expect((await rejection(startDownload(base(`${server.url}/m.gguf`, store, { id: 'c' })).done)).code).toBe('no-range');
  });
});

describe('a cached file as a ByteSource', () => {
  test('reads across chunk boundaries equal the file; only whole files open', async () => {
    const { url } = await serve();
    const store = newStore();
    await startDownload(base(url, store)).done;
    const source = await CachedFileSource.open('hf:test/model@main/model.gguf', store);
    expect(await source.size()).toBe(FILE.byteLength);
    for (const [offset, length] of [[0, 8], [CHUNK - 3, 10], [CHUNK * 2 - 1, CHUNK * 3 + 2], [FILE.byteLength - 5, 100]] as const) {
      const got = await source.read(offset, length);
      expect(got.byteLength).toBe(Math.min(FILE.byteLength, offset + length) - offset);
      expect(same(got, FILE.subarray(offset, offset + got.byteLength))).toBe(true);
    }
    expect(await source.read(FILE.byteLength, 10)).toEqual(new Uint8Array(0));
    await expect(source.read(-1, 1)).rejects.toMatchObject({ code: 'bad-offset' });
    await expect(CachedFileSource.open('nope', store)).rejects.toMatchObject({ code: 'not-found' });
  });
});
