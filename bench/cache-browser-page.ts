/**
 * The measurements of bench/cache-browser.ts, run inside Chromium (bundled with esbuild and loaded into a page from
 * the same origin as the file). Every path runs the app's own code on Chromium's real disk-backed IndexedDB and real
 * WebGPU device:
 *   plainFetch     fetch the whole body and discard it (the baseline: what the network path alone costs);
 *   downloadToCache  startDownload (Range chunks in parallel, SHA-256 per chunk, idb-keyval writes, and with a hub
 *                  SHA-256 the whole-file check at the end) into a fresh database;
 *   cacheRead      CachedFileSource.chunks(), the file in order one stored chunk at a time;
 *   cacheCheck     verifyStoredFile: every chunk read back and hashed (whole file + per chunk) — a library recheck, and
 *                  what every hub-checked download did at its end before the hash moved into the download;
 *   cacheToGpu     the engine's WeightUploader (8 MiB reads, queue.writeBuffer, split at the binding limit) from a
 *                  CachedFileSource, until queue.onSubmittedWorkDone();
 *   fetchToGpu     the same upload fed by one plain fetch of the file (its baseline);
 *   rangeToGpu     the same upload from HttpByteSource (an 8 MiB Range request per read: running a URL uncached).
 * Also imported by tests/browser/cache/cache-bench.test.ts, which checks these on a small file.
 */
import { CachedFileSource } from '../src/lib/cache/cached-source.ts';
import { DEFAULT_CHUNK_SIZE, DEFAULT_PARALLEL, startDownload, verifyStoredFile } from '../src/lib/cache/downloader.ts';
import { fileHasher } from '../src/lib/cache/file-hasher.ts';
import { CacheStore, idbKeyValueStore } from '../src/lib/cache/store.ts';
import { RbeeError } from '../src/lib/errors.ts';
import type { ByteSource, ByteSourceStats } from '../src/lib/formats/byte-source.ts';
import type { TensorInfo } from '../src/lib/formats/descriptor.ts';
import { HttpByteSource } from '../src/lib/formats/http-source.ts';
import { GpuContext } from '../src/lib/engine/device.ts';
import { WeightUploader } from '../src/lib/engine/weights.ts';

export interface Timing {
  bytes: number;
  ms: number;
}

export interface CachedCopy {
  dbName: string;
  id: string;
}

async function timed(run: () => Promise<number>): Promise<Timing> {
  const t = performance.now();
  const bytes = await run();
  return { bytes, ms: performance.now() - t };
}

/** The baseline: the whole body through fetch's stream, each piece dropped as it arrives. */
export function plainFetch(url: string): Promise<Timing> {
  return timed(async () => {
    // no-store: a 200 MB body must not come from Chromium's HTTP cache on the next repetition.
    const res = await fetch(url, { cache: 'no-store' });
    const reader = res.body!.getReader();
    let n = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return n;
      n += value.byteLength;
    }
  });
}

export interface DownloadSettings {
  dbName: string;
  chunkSize?: number;
  parallel?: number;
  /** The whole-file SHA-256 a hub gives (then the downloader checks the stored file against it at the end). */
  sha256?: string;
}

/** The app's downloader into a fresh IndexedDB database, with the storage check against navigator.storage. */
export async function downloadToCache(url: string, s: DownloadSettings): Promise<Timing & CachedCopy> {
  const store = new CacheStore(idbKeyValueStore(s.dbName));
  const id = 'bench';
  const t = await timed(async () => {
    const r = await startDownload({
      url,
      id,
      store,
      chunkSize: s.chunkSize ?? DEFAULT_CHUNK_SIZE,
      parallel: s.parallel ?? DEFAULT_PARALLEL,
      ...(s.sha256 ? { sha256: s.sha256 } : {}),
    }).done;
    return r.manifest.size;
  });
  return { ...t, dbName: s.dbName, id };
}

/** Whether the download's whole-file hash runs in a worker here (it should: the bench serves the worker). */
export async function hashOffThread(): Promise<boolean> {
  const h = await fileHasher();
  h.close();
  return h.offThread;
}

export function cacheRead(c: CachedCopy): Promise<Timing> {
  return timed(async () => {
    const source = await CachedFileSource.open(c.id, new CacheStore(idbKeyValueStore(c.dbName)));
    let n = 0;
    for await (const { bytes } of source.chunks()) n += bytes.byteLength;
    return n;
  });
}

export function cacheCheck(c: CachedCopy): Promise<Timing> {
  return timed(async () => {
    const store = new CacheStore(idbKeyValueStore(c.dbName));
    const m = (await store.getManifest(c.id))!;
    const check = await verifyStoredFile(store, m);
    if (!check.ok) throw new RbeeError('checksum', `The cached bench file does not verify (bad chunks: ${check.badChunks.join(', ')}).`);
    return m.size;
  });
}

/** Deletes the cached file the app's way (its chunks, then its manifest). */
export async function clearCache(c: CachedCopy): Promise<void> {
  await new CacheStore(idbKeyValueStore(c.dbName)).deleteAll();
}

let gpu: Promise<GpuContext> | undefined;
const gpuContext = (): Promise<GpuContext> => (gpu ??= GpuContext.open());

/** Row length of the stand-in F32 tensor: 16-byte rows, so any file of a multiple of 16 bytes is whole rows. */
const BENCH_ROW = 4;

/**
 * Uploads the whole source as one F32 weight matrix through the engine's WeightUploader (split by rows at the
 * device's binding limit, as the engine does) and waits until the GPU has taken it; the buffers are freed after.
 */
async function uploadAll(source: ByteSource): Promise<number> {
  const { device, caps } = await gpuContext();
  const size = await source.size();
  const rowBytes = BENCH_ROW * 4;
  if (size % rowBytes !== 0) throw new RbeeError('bad-value', `The bench file must be a multiple of ${rowBytes} bytes, not ${size}.`);
  const tensor: TensorInfo = { name: 'bench.weight', dims: [BENCH_ROW, size / rowBytes], type: 0, typeName: 'F32', offset: 0, size, file: 0 };
  const counter = { bytes: 0, tensors: 0, report: () => undefined };
  const uploader = new WeightUploader(device, [source], Math.min(caps.limits.maxStorageBufferBindingSize, caps.limits.maxBufferSize), counter);
  try {
    await uploader.matrix(tensor);
    await device.queue.onSubmittedWorkDone();
  } finally {
    for (const b of uploader.buffers) b.destroy();
  }
  return counter.bytes;
}

export function cacheToGpu(c: CachedCopy): Promise<Timing> {
  return timed(async () => uploadAll(await CachedFileSource.open(c.id, new CacheStore(idbKeyValueStore(c.dbName)))));
}

export async function fetchToGpu(url: string): Promise<Timing> {
  await gpuContext();
  return timed(() => uploadAll(new StreamedFetchSource(url)));
}

export async function rangeToGpu(url: string): Promise<Timing> {
  await gpuContext();
  return timed(() => uploadAll(new HttpByteSource(url)));
}

export interface MachineInfo {
  userAgent: string;
  hardwareConcurrency: number;
  adapter: { vendor: string; architecture: string; device: string; description: string };
  maxBinding: number;
}

export async function machine(): Promise<MachineInfo> {
  const { caps } = await gpuContext();
  const adapter = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
  const info = adapter?.info;
  return {
    userAgent: navigator.userAgent,
    hardwareConcurrency: navigator.hardwareConcurrency,
    adapter: { vendor: info?.vendor ?? '', architecture: info?.architecture ?? '', device: info?.device ?? '', description: info?.description ?? '' },
    maxBinding: Math.min(caps.limits.maxStorageBufferBindingSize, caps.limits.maxBufferSize),
  };
}

/**
 * One plain fetch of the whole file as a ByteSource for in-order reads (what the uploader does): each read is cut
 * from the response stream, so fetch-to-GPU pays the same one copy per read as the cached source does.
 */
class StreamedFetchSource implements ByteSource {
  readonly stats: ByteSourceStats = { bytesRead: 0, requests: 0 };
  readonly name = 'bench.bin';
  private response: Promise<Response> | undefined;
  private reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  private rest: Uint8Array = new Uint8Array(0);
  private position = 0;

  constructor(readonly location: string) {}

  private open(): Promise<Response> {
    return (this.response ??= fetch(this.location, { cache: 'no-store' }).then((r) => {
      this.stats.requests++;
      return r;
    }));
  }

  async size(): Promise<number> {
    return Number((await this.open()).headers.get('Content-Length'));
  }

  /** The uploader keeps several reads in flight, asked in file order: they take their turns on the one stream. */
  private turn: Promise<unknown> = Promise.resolve();

  read(offset: number, length: number): Promise<Uint8Array> {
    const next = this.turn.then(() => this.readInOrder(offset, length));
    this.turn = next.catch(() => undefined);
    return next;
  }

  private async readInOrder(offset: number, length: number): Promise<Uint8Array> {
    if (offset !== this.position) throw new RbeeError('bad-value', `StreamedFetchSource reads in order: ${offset} after ${this.position}.`);
    this.reader ??= (await this.open()).body!.getReader();
    const out = new Uint8Array(length);
    let got = 0;
    while (got < length) {
      if (this.rest.byteLength === 0) {
        const { done, value } = await this.reader.read();
        if (done) break;
        this.rest = value;
      }
      const take = Math.min(length - got, this.rest.byteLength);
      out.set(this.rest.subarray(0, take), got);
      this.rest = this.rest.subarray(take);
      got += take;
    }
    this.position += got;
    this.stats.bytesRead += got;
    return got === length ? out : out.subarray(0, got);
  }
}

const api = { plainFetch, downloadToCache, hashOffThread, cacheRead, cacheCheck, clearCache, cacheToGpu, fetchToGpu, rangeToGpu, machine };
export type CacheBenchApi = typeof api;
(globalThis as { rbeeCacheBench?: CacheBenchApi }).rbeeCacheBench = api;
