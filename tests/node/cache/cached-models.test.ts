import 'fake-indexeddb/auto';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, test } from 'vitest';
import { cachedModelFileSet, cachedSetFor } from '../../../src/lib/model/cached-model-set.ts';
import { CachedModels, hfFileId, type CachedModel } from '../../../src/lib/cache/cached-models.ts';
import { checkStorage, startModelDownload, type ModelDownloadProgress } from '../../../src/lib/cache/model-download.ts';
import { CacheStore, idbKeyValueStore } from '../../../src/lib/cache/store.ts';
import { isRbeeError } from '../../../src/lib/errors.ts';
import { prepareModel } from '../../../src/lib/engine/model-opening.ts';
import { inspect } from '../../../src/lib/model/inspect.ts';
import { fixture, HAS_FIXTURES } from '../../support/fixtures.ts';
import { startRangeServer, type RangeServer } from '../../support/range-server.ts';

const KiB = 1024;
const HUB = 'http://hub.test';
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
let db = 0;
const newStore = (): CacheStore => new CacheStore(idbKeyValueStore(`models-test-${++db}`));
const servers: RangeServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
const noEstimate = async () => ({ freeBytes: undefined, quotaBytes: undefined, usageBytes: undefined });

function hfModel(server: string, files: { path: string; size: number; sha256?: string }[], repo = 'o/r'): CachedModel {
  return {
    id: hfFileId(server, repo, 'main', files[0]!.path),
    name: repo,
    format: 'gguf',
    origin: { kind: 'hf', hubBase: server, repo, revision: 'main' },
    primary: files[0]!.path,
    files: files.map((f) => ({ ...f, fileId: hfFileId(server, repo, 'main', f.path), url: `${server}/${repo}/resolve/main/${f.path}` })),
    verdict: { runs: true, confidence: 'verified' },
    createdAt: Date.now(),
  };
}

describe('a model download: every file, one storage check, progress in total', () => {
  test('split parts download into the cache; the model is listed complete, found by its reference, and deleted cleanly', async () => {
    const partA = new Uint8Array(randomBytes(5 * 64 * KiB + 7));
    const partB = new Uint8Array(randomBytes(2 * 64 * KiB));
    const server = await startRangeServer({ '/o/r/resolve/main/m-00001-of-00002.gguf': partA, '/o/r/resolve/main/m-00002-of-00002.gguf': partB });
    servers.push(server);
    const store = newStore();
    const model = hfModel(server.url, [
      { path: 'm-00001-of-00002.gguf', size: partA.byteLength, sha256: sha(partA) },
      { path: 'm-00002-of-00002.gguf', size: partB.byteLength, sha256: sha(partB) },
    ]);
    const seen: ModelDownloadProgress[] = [];
    const d = startModelDownload(model, { store, chunkSize: 64 * KiB, retryDelayMs: 0, estimate: noEstimate, onProgress: (p) => seen.push(p) });
    await d.done;
    const last = seen[seen.length - 1]!;
    expect(last).toMatchObject({ state: 'done', bytesTotal: partA.byteLength + partB.byteLength, bytesStored: partA.byteLength + partB.byteLength });
    expect(last.files.map((f) => f.bytesStored)).toEqual([partA.byteLength, partB.byteLength]);
    // Progress in total never goes backwards while bytes arrive.
    const totals = seen.map((p) => p.bytesStored);
    expect(totals).toEqual([...totals].sort((a, b) => a - b));

    const models = new CachedModels(store);
    const [listed] = await models.list();
    expect(listed).toMatchObject({ id: model.id, complete: true, size: partA.byteLength + partB.byteLength, storedBytes: partA.byteLength + partB.byteLength, verdict: { runs: true } });
    expect((await models.find({ source: 'o/r' }, server.url))?.id).toBe(model.id);
    expect((await models.find({ source: 'o/r/m-00002-of-00002.gguf' }, server.url))?.id).toBe(model.id);
    expect(await models.find({ source: 'o/r@dev' }, server.url)).toBeUndefined();
    expect(await models.find({ source: 'o/r' }, HUB)).toBeUndefined();

    // The file set reads the stored bytes, in order, exactly.
    const set = cachedModelFileSet(listed!, store);
    const source = (await set.open('m-00002-of-00002.gguf'))!;
    expect(source.name).toBe('m-00002-of-00002.gguf');
    expect(Buffer.from(await source.read(0, partB.byteLength)).equals(Buffer.from(partB))).toBe(true);
    expect(await set.open('other.gguf')).toBeUndefined();

    await models.delete(model.id);
    expect(await models.list()).toEqual([]);
    expect(await store.list()).toEqual([]);
  });

  test('a model that does not fit fails before anything is written, with the needed and free sizes', async () => {
    const store = newStore();
    const model = hfModel(HUB, [{ path: 'big.gguf', size: 3 * 1024 ** 3 }]);
    const d = startModelDownload(model, { store, estimate: async () => ({ freeBytes: 1024 ** 3, quotaBytes: 2 * 1024 ** 3, usageBytes: 1024 ** 3 }) });
    const err = await d.done.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isRbeeError(err) && err.code).toBe('quota');
    expect((err as Error).message).toMatch(/needs 3(\.0)? GiB more and 1(\.0)? GiB is free/);
    expect(d.progress.state).toBe('failed');
    expect(await new CachedModels(store).list()).toEqual([]);
    expect(await store.list()).toEqual([]);
    const check = await checkStorage(model, store, async () => ({ freeBytes: 5 * 1024 ** 3, quotaBytes: 6 * 1024 ** 3, usageBytes: 1024 ** 3 }));
    expect(check).toMatchObject({ neededBytes: 3 * 1024 ** 3, fits: true });
  });

  test('a lost connection leaves a listed partial model; the next start fetches only what is missing', async () => {
    const file = new Uint8Array(randomBytes(4 * 64 * KiB + 100)); // chunks of 64 KiB ×4 and a 100-byte tail
    const server = await startRangeServer({ '/o/r/resolve/main/m.gguf': file });
    servers.push(server);
    const store = newStore();
    const model = hfModel(server.url, [{ path: 'm.gguf', size: file.byteLength }]);
    // The connection goes after the probe and two chunks (one chunk at a time, so which two is fixed).
    let requests = 0;
    const flaky: typeof fetch = (input, init) => (++requests > 3 ? Promise.reject(new TypeError('Failed to fetch')) : fetch(input, init));
    const opts = { store, chunkSize: 64 * KiB, parallel: 1, retries: 0, retryDelayMs: 0, estimate: noEstimate };
    const err = await startModelDownload(model, { ...opts, fetch: flaky }).done.then(() => undefined, (e: unknown) => e);
    expect(isRbeeError(err) && err.code).toBe('network');
    const models = new CachedModels(store);
    const [partial] = await models.list();
    expect(partial).toMatchObject({ complete: false, storedBytes: 128 * KiB });
    // Nothing partial is ever offered as a model.
    expect(await models.find({ source: 'o/r/m.gguf' }, server.url)).toBeUndefined();

    server.resetStats();
    await startModelDownload(model, opts).done;
    expect(server.totals().bytesSent).toBe(file.byteLength - 128 * KiB + 1); // the missing chunks and the 1-byte probe
    const source = (await (await cachedSetFor({ kind: 'remote', source: 'o/r/m.gguf' }, server.url, store))!.open('m.gguf'))!;
    expect(sha(await source.read(0, file.byteLength))).toBe(sha(file));
  });

  test('pause holds the download, resume finishes it; cancel keeps what is stored', async () => {
    const file = new Uint8Array(randomBytes(8 * 64 * KiB));
    const server = await startRangeServer({ '/o/r/resolve/main/m.gguf': file }, { latencyMs: 20 });
    servers.push(server);
    const store = newStore();
    const model = hfModel(server.url, [{ path: 'm.gguf', size: file.byteLength }]);
    const d = startModelDownload(model, { store, chunkSize: 64 * KiB, parallel: 1, estimate: noEstimate });
    d.pause();
    expect(d.progress.state).toBe('paused');
    await new Promise((r) => setTimeout(r, 150));
    const whilePaused = server.totals().requests;
    await new Promise((r) => setTimeout(r, 150));
    expect(server.totals().requests).toBe(whilePaused);
    d.resume();
    await d.done;
    expect(d.progress).toMatchObject({ state: 'done', bytesStored: file.byteLength });

    const other = hfModel(server.url, [{ path: 'm.gguf', size: file.byteLength }], 'o/r');
    await new CachedModels(store).deleteAll();
    expect(await store.list()).toEqual([]);
    const c = startModelDownload(other, { store, chunkSize: 64 * KiB, parallel: 1, estimate: noEstimate });
    await new Promise((r) => setTimeout(r, 100));
    c.cancel();
    const err = await c.done.then(() => undefined, (e: unknown) => e);
    expect(isRbeeError(err) && err.code).toBe('aborted');
    const [kept] = await new CachedModels(store).list();
    expect(kept).toMatchObject({ complete: false });
  });
});

describe('a cached model opens like the repository it came from, with the server gone', () => {
  test.skipIf(!HAS_FIXTURES)('stories260K: inspect() and the worker\'s model opening read it from the cache', async () => {
    const bytes = new Uint8Array(readFileSync(fixture('models/stories260K.gguf')));
    const server = await startRangeServer({ '/o/stories/resolve/main/stories260K.gguf': bytes });
    servers.push(server);
    // The default store (the one the app and the worker open), here in fake-indexeddb.
    const store = new CacheStore();
    const model = hfModel(server.url, [{ path: 'stories260K.gguf', size: bytes.byteLength, sha256: sha(bytes) }], 'o/stories');
    await startModelDownload(model, { store, chunkSize: 256 * KiB, retryDelayMs: 0, estimate: noEstimate }).done;
    await server.close();
    servers.length = 0;

    const result = await inspect((await cachedSetFor({ kind: 'remote', source: 'o/stories', file: 'stories260K.gguf' }, server.url, store))!);
    expect(result.descriptor.architecture).toBe('llama');
    expect(result.descriptor.tensors).toHaveLength(48);
    expect(result.hf?.repo).toBe('o/stories');
    expect(result.descriptor.files[0]!.size).toBe(bytes.byteLength);

    const opened = await prepareModel({ kind: 'remote', source: 'o/stories/stories260K.gguf' }, { reach: { hubBase: server.url } });
    expect(opened.descriptor.tensors).toHaveLength(48);
    const tensor = opened.descriptor.tensors.find((t) => t.name === 'output_norm.weight')!;
    const weights = await opened.sources[tensor.file]!.read(tensor.offset, tensor.size!);
    expect(Buffer.from(weights).equals(Buffer.from(bytes.subarray(tensor.offset, tensor.offset + tensor.size!)))).toBe(true);
    expect(opened.text.encode('Once upon a time', true)).toEqual([1, 403, 407, 261, 378]);
    // Not in the cache and no server: the network path, and its error.
    const err = await prepareModel({ kind: 'remote', source: 'o/other/x.gguf' }, { reach: { hubBase: server.url } }).then(() => undefined, (e: unknown) => e);
    expect(isRbeeError(err) && err.code).toBe('network');
    await new CachedModels(store).deleteAll();
  });
});
