import 'fake-indexeddb/auto';
import { describe, expect, test } from 'vitest';
import { newManifest, storedBytes } from '../../../src/lib/cache/manifest.ts';
import { CacheStore, idbKeyValueStore } from '../../../src/lib/cache/store.ts';

let db = 0;
const freshStore = (): CacheStore => new CacheStore(idbKeyValueStore(`store-test-${++db}`));

describe('CacheStore over IndexedDB (fake-indexeddb)', () => {
  test('manifests and chunks round-trip; chunks are separate keys; the list reports stored bytes', async () => {
    const store = freshStore();
    const m = newManifest({ id: 'hf:o/r@main/m.gguf', url: 'https://x/m.gguf', name: 'm.gguf', size: 250, chunkSize: 100 });
    expect(m.chunks).toHaveLength(3);
    await store.putManifest(m);
    await store.putChunk(m.id, 0, new Uint8Array(100).fill(1));
    await store.putChunk(m.id, 2, new Uint8Array(50).fill(3));
    m.chunks[0] = { done: true };
    m.chunks[2] = { done: true };
    await store.putManifest(m);
    expect(await store.getChunk(m.id, 2)).toEqual(new Uint8Array(50).fill(3));
    expect(await store.getChunk(m.id, 1)).toBeUndefined();
    expect(await store.storedChunkIndices(m.id)).toEqual([0, 2]);
    const [summary] = await store.list();
    expect(summary).toMatchObject({ id: m.id, name: 'm.gguf', size: 250, storedBytes: 150, complete: false });
    expect(storedBytes((await store.getManifest(m.id))!)).toBe(150);
  });

  test('ids that are prefixes of each other keep their chunks apart; delete and delete-all remove everything', async () => {
    const store = freshStore();
    const a = newManifest({ id: 'a', url: 'u', name: 'a', size: 10, chunkSize: 10 });
    const b = newManifest({ id: 'a/1', url: 'u', name: 'b', size: 10, chunkSize: 10 });
    for (const m of [a, b]) {
      await store.putManifest(m);
      await store.putChunk(m.id, 0, new Uint8Array(10));
    }
    expect(await store.storedChunkIndices('a')).toEqual([0]);
    await store.delete('a');
    expect(await store.getManifest('a')).toBeUndefined();
    expect(await store.storedChunkIndices('a')).toEqual([]);
    expect(await store.storedChunkIndices('a/1')).toEqual([0]);
    expect((await store.list()).map((s) => s.id)).toEqual(['a/1']);
    await store.deleteAll();
    expect(await store.list()).toEqual([]);
    expect(await store.storedChunkIndices('a/1')).toEqual([]);
  });

  test('a QuotaExceededError from storage becomes RbeeError quota', async () => {
    const inner = idbKeyValueStore(`store-test-${++db}`);
    const store = new CacheStore({
      ...inner,
      set: () => Promise.reject(new DOMException('full', 'QuotaExceededError')),
    });
    await expect(store.putChunk('x', 0, new Uint8Array(1))).rejects.toMatchObject({ name: 'RbeeError', code: 'quota' });
  });
});
