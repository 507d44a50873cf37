// Two tabs on one cache (issue 13, item 4), with fake-indexeddb and a real Range server on loopback: a delete while a
// download runs ends that download instead of bringing the file back with chunks it lacks, and a manifest that claims
// chunks the store lacks is found (on load, on resume, before completion) and repaired so Resume fetches them.
// (The same in the real browser, two pages in one context, with Web Locks: tests/e2e/cache-two-tabs.spec.ts.)
import 'fake-indexeddb/auto';
import { createHash, randomBytes } from 'node:crypto';
import { afterEach, describe, expect, test } from 'vitest';
import { CachedFileSource } from '../../../src/lib/cache/cached-source.ts';
import { startDownload, type DownloadOptions } from '../../../src/lib/cache/downloader.ts';
import { withFileLock } from '../../../src/lib/cache/file-lock.ts';
import { CacheStore, idbKeyValueStore } from '../../../src/lib/cache/store.ts';
import { isRbeeError } from '../../../src/lib/errors.ts';
import { startRangeServer, type RangeServer } from '../../support/range-server.ts';

const KiB = 1024;
const CHUNK = 64 * KiB;
const FILE = new Uint8Array(randomBytes(16 * CHUNK)); // 16 chunks
const ID = 'hf:test/two-tabs@main/model.gguf';
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

let db = 0;
const servers: RangeServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(latencyMs = 0): Promise<{ server: RangeServer; url: string }> {
  const server = await startRangeServer({ '/model.gguf': FILE }, { latencyMs });
  servers.push(server);
  return { server, url: `${server.url}/model.gguf` };
}

const options = (url: string, store: CacheStore, extra: Partial<DownloadOptions> = {}): DownloadOptions => ({
  url,
  id: ID,
  store,
  chunkSize: CHUNK,
  parallel: 2,
  retryDelayMs: 0,
  estimate: async () => ({ freeBytes: undefined, quotaBytes: undefined, usageBytes: undefined }),
  ...extra,
});

async function cachedSha(store: CacheStore): Promise<string> {
  const source = await CachedFileSource.open(ID, store);
  const h = createHash('sha256');
  for await (const { bytes } of source.chunks()) h.update(bytes);
  return h.digest('hex');
}

async function rejection(p: Promise<unknown>): Promise<{ code?: string; message: string; hint?: string }> {
  try {
    await p;
  } catch (e) {
    return isRbeeError(e) ? e : { message: String(e) };
  }
  throw new Error('expected a rejection');
}

describe('a manifest that claims chunks the store lacks', () => {
  test('is refused on load, repaired to partial, and Resume fetches exactly the missing chunks', async () => {
    const { server, url } = await serve();
    const store = new CacheStore(idbKeyValueStore(`two-tabs-${++db}`));
    await startDownload(options(url, store)).done;
    // What the issue saw: a "complete" manifest whose chunks 3, 7, 8 and 15 are gone.
    await store.deleteChunks(ID, [3, 7, 8, 15]);
    expect((await store.getManifest(ID))!.complete).toBe(true);

    const refused = await rejection(CachedFileSource.open(ID, store));
    expect(refused).toMatchObject({ code: 'truncated', message: expect.stringMatching(/4 of 16 chunks are missing/) });
    expect(refused.hint).toMatch(/Resume/);
    const repaired = (await store.getManifest(ID))!;
    expect(repaired.complete).toBe(false);
    expect(repaired.chunks.flatMap((c, i) => (c.done ? [] : [i]))).toEqual([3, 7, 8, 15]);

    server.resetStats();
    const resumed = await startDownload(options(url, store)).done;
    // The missing chunks and a 1-byte probe travel again; nothing else.
    expect(resumed.fetchedBytes).toBe(4 * CHUNK);
    expect(server.stats.get('/model.gguf')!.bytesSent).toBe(4 * CHUNK + 1);
    expect(await cachedSha(store)).toBe(sha(FILE));
  });

  test('a resume of a "complete" file that lacks chunks fetches them (it used to fetch nothing)', async () => {
    const { url } = await serve();
    const store = new CacheStore(idbKeyValueStore(`two-tabs-${++db}`));
    await startDownload(options(url, store)).done;
    await store.deleteChunks(ID, [0, 9]);
    const messages: string[] = [];
    const resumed = await startDownload(options(url, store, { onMessage: (m) => messages.push(m) })).done;
    expect(resumed.fetchedBytes).toBe(2 * CHUNK);
    expect(messages.join('\n')).toMatch(/2 of 16 chunks were missing/);
    expect(await cachedSha(store)).toBe(sha(FILE));
  });
});

describe('a delete while the file downloads', () => {
  test('stops the download with a typed error and leaves nothing behind: no manifest, no chunks', async () => {
    const { url } = await serve(40); // 40 ms per response: the download is still running when the delete comes
    const store = new CacheStore(idbKeyValueStore(`two-tabs-${++db}`));
    let stored = 0;
    const download = startDownload(options(url, store, { onProgress: (p) => (stored = p.chunksDone) }));
    while (stored < 3) await new Promise((r) => setTimeout(r, 5));
    // The other tab: the library's delete (the same lock and store the app uses).
    await withFileLock(ID, () => store.delete(ID));

    const stopped = await rejection(download.done);
    expect(stopped).toMatchObject({ code: 'not-found', message: expect.stringMatching(/deleted from this device .*while it downloaded/) });
    expect(await store.getManifest(ID)).toBeUndefined();
    expect(await store.storedChunkIndices(ID)).toEqual([]);
    // And the model can be downloaded again from scratch.
    await startDownload(options(url, store)).done;
    expect(await cachedSha(store)).toBe(sha(FILE));
  });
});
