// The cache in a real browser: Chromium's IndexedDB (chunks as Blobs, key ranges), its storage
// estimate, and fetch's streaming bodies. The server is a Range-honouring fetch stand-in over an in-memory file,
// since a browser test cannot start one (the Node tests use the real HTTP Range server).
import { expect, test } from 'vitest';
import { CachedFileSource } from '../../../src/lib/cache/cached-source.ts';
import { startDownload } from '../../../src/lib/cache/downloader.ts';
import { fileHasher } from '../../../src/lib/cache/file-hasher.ts';
import { Sha256 } from '../../../src/lib/cache/sha256.ts';
import { estimateStorage } from '../../../src/lib/cache/storage-budget.ts';
import { CacheStore, idbKeyValueStore } from '../../../src/lib/cache/store.ts';

const CHUNK = 256 * 1024;
const FILE = new Uint8Array(10 * CHUNK + 99);
for (let i = 0; i < FILE.length; i++) FILE[i] = (i * 2654435761) >>> 24;
const ETAG = '"v1"';

const rangeFetch: typeof fetch = async (_input, init) => {
  const range = /bytes=(\d+)-(\d+)/.exec(new Headers(init?.headers).get('Range') ?? '');
  if (!range) return new Response(FILE.slice(), { status: 200, headers: { ETag: ETAG } });
  const start = Number(range[1]);
  const end = Math.min(FILE.length - 1, Number(range[2]));
  return new Response(FILE.slice(start, end + 1), {
    status: 206,
    headers: { ETag: ETAG, 'Content-Range': `bytes ${start}-${end}/${FILE.length}` },
  });
};

test('a download lands in real IndexedDB chunk by chunk and reads back equal, without one whole-file buffer', async () => {
  const store = new CacheStore(idbKeyValueStore(`browser-cache-${Date.now()}`));
  const estimate = await estimateStorage();
  expect(estimate.quotaBytes).toBeGreaterThan(FILE.length);

  const expected = (await Sha256.create()).update(FILE).hex();
  const result = await startDownload({ url: 'https://example.test/m.gguf', store, chunkSize: CHUNK, parallel: 3, sha256: expected, fetch: rangeFetch }).done;
  expect(result.manifest.complete).toBe(true);
  expect(await store.storedChunkIndices(result.manifest.id)).toEqual([...Array(11).keys()]);

  const source = await CachedFileSource.open(result.manifest.id, store);
  const h = await Sha256.create();
  let biggest = 0;
  for await (const { bytes } of source.chunks()) {
    biggest = Math.max(biggest, bytes.byteLength);
    h.update(bytes);
  }
  expect(h.hex()).toBe(expected);
  expect(biggest).toBe(CHUNK);
  const slice = await source.read(CHUNK - 10, 20);
  expect(Array.from(slice)).toEqual(Array.from(FILE.subarray(CHUNK - 10, CHUNK + 10)));

  const [listed] = await store.list();
  expect(listed).toMatchObject({ name: 'm.gguf', size: FILE.length, storedBytes: FILE.length, complete: true });
  await store.deleteAll();
  expect(await store.list()).toEqual([]);
});

test('chunks are stored as Blobs; a cache written by earlier versions (Uint8Array chunks) reads back the same; blob() joins the file without reading it', async () => {
  const dbName = `browser-cache-mixed-${Date.now()}`;
  const kv = idbKeyValueStore(dbName);
  const store = new CacheStore(kv);
  const result = await startDownload({ url: 'https://example.test/m.gguf', store, chunkSize: CHUNK, parallel: 3, fetch: rangeFetch }).done;
  const id = result.manifest.id;
  const key = (i: number): string => `c/${encodeURIComponent(id)}/${i}`;
  expect(await kv.get(key(0))).toBeInstanceOf(Blob);
  // What an earlier version left: the odd chunks as plain Uint8Arrays in the same database.
  for (let i = 1; i < 11; i += 2) await kv.set(key(i), FILE.slice(i * CHUNK, Math.min(FILE.length, (i + 1) * CHUNK)));
  expect(await kv.get(key(1))).toBeInstanceOf(Uint8Array);

  const source = await CachedFileSource.open(id, store);
  expect(Array.from(await source.read(CHUNK - 5, 2 * CHUNK + 10))).toEqual(Array.from(FILE.subarray(CHUNK - 5, 3 * CHUNK + 5)));
  const h = await Sha256.create();
  for await (const { bytes } of source.chunks()) h.update(bytes);
  expect(h.hex()).toBe((await Sha256.create()).update(FILE).hex());

  const whole = await source.blob();
  expect(whole.size).toBe(FILE.length);
  expect((await Sha256.create()).update(new Uint8Array(await whole.arrayBuffer())).hex()).toBe((await Sha256.create()).update(FILE).hex());

  await store.deleteChunks(id, [4]);
  await expect(source.blob()).rejects.toMatchObject({ code: 'truncated' });
  await store.deleteAll();
});

test('the whole-file hash runs in a worker in the app and equals SHA-256', async () => {
  const hasher = await fileHasher();
  expect(hasher.offThread).toBe(true);
  for (let i = 0; i < FILE.length; i += CHUNK) await hasher.update(FILE.slice(i, i + CHUNK));
  expect(await hasher.hex()).toBe((await Sha256.create()).update(FILE).hex());
});
