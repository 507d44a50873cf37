// The CPU engine's files as Blobs (model-blobs.ts): a cached file becomes its stored chunks joined into one Blob (each
// chunk fetched once as a Blob, in order, never the whole file as one read), a local File is handed over as it is (no read at all),
// a remote file is read in ranges through Range requests; progress counts bytes over all files; a source that ends
// early is a typed error; Stop (an aborted signal) ends it. And the threads the engine asks for.
import 'fake-indexeddb/auto';
import { randomBytes } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { CachedFileSource } from '../../../src/lib/cache/cached-source.ts';
import { newManifest } from '../../../src/lib/cache/manifest.ts';
import { CacheStore, idbKeyValueStore, type KeyValueStore } from '../../../src/lib/cache/store.ts';
import { REMOTE_READ_BYTES, sourcesAsBlobs, type BlobsProgress } from '../../../src/lib/runtime/model-blobs.ts';
import { wasmThreads } from '../../../src/lib/runtime/wasm-runtime.ts';
import { isRbeeError } from '../../../src/lib/errors.ts';
import { BlobByteSource } from '../../../src/lib/formats/blob-source.ts';
import { HttpByteSource } from '../../../src/lib/formats/http-source.ts';
import { MemoryByteSource } from '../../../src/lib/formats/memory-source.ts';
import { startRangeServer } from '../../support/range-server.ts';

const CHUNK = 1000;
const FILE = new Uint8Array(randomBytes(5 * CHUNK + 321));

async function cachedSource(): Promise<{ source: CachedFileSource; asked: number[] }> {
  const inner = idbKeyValueStore(`blobs-test-${Math.random()}`);
  const asked: number[] = [];
  const kv: KeyValueStore = { ...inner, get: (key) => (key.startsWith('c/') && asked.push(Number(key.split('/').pop())), inner.get(key)) };
  const store = new CacheStore(kv);
  const m = newManifest({ id: 'f', url: 'https://example.test/f.gguf', name: 'f.gguf', size: FILE.byteLength, chunkSize: CHUNK });
  for (let i = 0; i < m.chunks.length; i++) {
    await store.putChunk('f', i, FILE.slice(i * CHUNK, (i + 1) * CHUNK));
    m.chunks[i] = { done: true };
  }
  await store.putManifest({ ...m, complete: true });
  return { source: await CachedFileSource.open('f', store), asked };
}

const bytesOf = async (b: Blob): Promise<Buffer> => Buffer.from(await b.arrayBuffer());

describe('sourcesAsBlobs', () => {
  test('a cached file: its chunks joined, each fetched once in order; a File as it is; progress over both', async () => {
    const { source, asked } = await cachedSource();
    const file = new File([FILE.subarray(0, 777)], 'part2.gguf');
    const progress: BlobsProgress[] = [];
    const [a, b] = await sourcesAsBlobs([source, new BlobByteSource(file)], (p) => progress.push(p));
    expect((await bytesOf(a!)).equals(Buffer.from(FILE))).toBe(true);
    expect(asked).toEqual([0, 1, 2, 3, 4, 5]);
    expect(b).toBe(file);
    expect(progress.map((p) => p.from)).toEqual(['device', 'device']);
    expect(progress.at(-1)).toMatchObject({ loadedBytes: FILE.byteLength + 777, totalBytes: FILE.byteLength + 777, file: 'part2.gguf' });
  });

  test('a remote file: read in Range requests into Blob parts, with network progress', async () => {
    const big = new Uint8Array(randomBytes(REMOTE_READ_BYTES + 12345));
    const server = await startRangeServer({ '/m.gguf': big });
    try {
      const progress: BlobsProgress[] = [];
      const [blob] = await sourcesAsBlobs([new HttpByteSource(`${server.url}/m.gguf`)], (p) => progress.push(p));
      expect((await bytesOf(blob!)).equals(Buffer.from(big))).toBe(true);
      expect(server.stats.get('/m.gguf')!.rangeRequests).toBeGreaterThanOrEqual(2);
      expect(progress.every((p) => p.from === 'network')).toBe(true);
      expect(progress.at(-1)!.loadedBytes).toBe(big.byteLength);
    } finally {
      await server.close();
    }
  });

  test('a source that ends early is a typed error; an aborted signal stops it', async () => {
    const short = new MemoryByteSource(FILE.subarray(0, 100), 'short.gguf');
    short.size = () => Promise.resolve(5000);
    const err = await sourcesAsBlobs([short]).catch((e: unknown) => e);
    expect(isRbeeError(err) && err.code).toBe('truncated');
    const abort = new AbortController();
    abort.abort();
    const stopped = await sourcesAsBlobs([(await cachedSource()).source], undefined, abort.signal).catch((e: unknown) => e);
    expect(isRbeeError(stopped) && stopped.code).toBe('aborted');
  });
});

describe('wasmThreads', () => {
  test('every core when cross-origin isolated; one, with the sentence the chat shows, when not', () => {
    expect(wasmThreads({ crossOriginIsolated: true, hardwareConcurrency: 8 })).toEqual({ threads: 8 });
    const one = wasmThreads({ crossOriginIsolated: false, hardwareConcurrency: 8 });
    expect(one.threads).toBe(1);
    expect(one.note).toMatch(/1 CPU thread: this page is not cross-origin isolated/);
  });
});
