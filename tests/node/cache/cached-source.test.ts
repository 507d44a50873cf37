// A cached file as a ByteSource: reads cut across chunks equal the file; small reads within a chunk (a header parse)
// cost one store read; chunks() streams each chunk once, in order; a chunk evicted while the file is open is a typed
// error when it is reached, after the chunks before it were handed over.
import 'fake-indexeddb/auto';
import { randomBytes } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { CachedFileSource } from '../../../src/lib/cache/cached-source.ts';
import { newManifest } from '../../../src/lib/cache/manifest.ts';
import { CacheStore, idbKeyValueStore, type KeyValueStore } from '../../../src/lib/cache/store.ts';

const CHUNK = 1000;
const FILE = new Uint8Array(randomBytes(5 * CHUNK + 321)); // 6 chunks
const ID = 'source-test';
let db = 0;

/** A cached copy of FILE in a store that logs which chunks were asked for. */
async function cached(): Promise<{ store: CacheStore; asked: number[] }> {
  const inner = idbKeyValueStore(`source-test-${++db}`);
  const asked: number[] = [];
  const kv: KeyValueStore = {
    ...inner,
    get: (key) => {
      if (key.startsWith('c/')) asked.push(Number(key.split('/').pop()));
      return inner.get(key);
    },
  };
  const store = new CacheStore(kv);
  const m = newManifest({ id: ID, url: 'https://example.test/f.bin', name: 'f.bin', size: FILE.byteLength, chunkSize: CHUNK });
  for (let i = 0; i < m.chunks.length; i++) {
    await store.putChunk(ID, i, FILE.slice(i * CHUNK, (i + 1) * CHUNK));
    m.chunks[i] = { done: true };
  }
  await store.putManifest({ ...m, complete: true });
  return { store, asked };
}

describe('CachedFileSource', () => {
  test('reads across chunk edges equal the file', async () => {
    const { store } = await cached();
    const source = await CachedFileSource.open(ID, store);
    for (const [offset, length] of [[0, 10], [990, 20], [1500, 2700], [5300, 100], [0, FILE.byteLength]] as const) {
      const got = await source.read(offset, length);
      expect(Buffer.from(got).equals(Buffer.from(FILE.subarray(offset, offset + length)))).toBe(true);
    }
  });

  test('small reads in one chunk (a header parse) ask the store once; chunks() asks for each chunk once, in order', async () => {
    const { store, asked } = await cached();
    const header = await CachedFileSource.open(ID, store);
    await header.read(0, 100);
    await header.read(100, 200);
    expect(asked).toEqual([0]);

    asked.length = 0;
    const source = await CachedFileSource.open(ID, store);
    const offsets: number[] = [];
    for await (const { offset, bytes } of source.chunks()) {
      offsets.push(offset);
      expect(Buffer.from(bytes).equals(Buffer.from(FILE.subarray(offset, offset + CHUNK)))).toBe(true);
    }
    expect(offsets).toEqual([0, 1000, 2000, 3000, 4000, 5000]);
    expect(asked).toEqual([0, 1, 2, 3, 4, 5]);
  });

  test('a chunk gone from the store after opening (evicted) is a truncated error when it is reached, not before', async () => {
    // (Gone before opening: open() refuses and repairs the manifest — tests/node/cache/two-tabs.test.ts.)
    const { store } = await cached();
    const source = await CachedFileSource.open(ID, store);
    await store.deleteChunks(ID, [3]);
    const offsets: number[] = [];
    const reading = (async () => {
      for await (const { offset } of source.chunks()) offsets.push(offset);
    })();
    await expect(reading).rejects.toMatchObject({ code: 'truncated' });
    expect(offsets).toEqual([0, 1000, 2000]);
  });
});
