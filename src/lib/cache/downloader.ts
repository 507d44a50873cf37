/**
 * Downloads a file into the cache with HTTP Range requests, chunk by chunk, several chunks at once, resuming from
 * the chunks already stored. The rules that keep the cache honest:
 * - a chunk counts (manifest `done`, progress `bytesStored`) only after its bytes are in the store;
 * - a file whose ETag / Last-Modified / size changed since the download began starts over, with a message;
 * - a full store (QuotaExceededError) stops every chunk in flight before the error is reported, so nothing is
 *   written after the user is told, and nothing half-written is counted;
 * - when the hub gives a SHA-256, the file is hashed in order while it downloads (in-order-hash.ts: the bytes just
 *   stored, or re-read from the store for chunks stored earlier, which are checked against their recorded hashes);
 *   chunks that changed at rest are fetched again; a file that still does not match is deleted, never used as weights;
 * - every write that changes what is stored (a chunk and its count, completion, a delete) holds the file's lock
 *   (file-lock.ts, shared by all tabs) and first checks the stored manifest still exists: a file deleted in another
 *   tab stops this download instead of being brought back with chunks it no longer has; and a file is marked complete
 *   only after its chunks were checked to be in the store (missing ones are fetched again).
 */
import { formatBytes } from '../quantities.ts';
import { isRbeeError, RbeeError, toRbeeError } from '../errors.ts';
import { claimedButMissing, markMissing } from './chunk-presence.ts';
import { withFileLock } from './file-lock.ts';
import { chunkRange, newManifest, storedBytes, type CacheManifest } from './manifest.ts';
import { InOrderFileHash } from './in-order-hash.ts';
import { etaSeconds, RateMeter, type DownloadProgress, type DownloadState } from './progress.ts';
import { fileHasher, type FileHasher } from './file-hasher.ts';
import { sha256Hex } from './sha256.ts';
import { estimateStorage, quotaError, type StorageEstimate } from './storage-budget.ts';
import { CacheStore } from './store.ts';

const MiB = 1024 ** 2;

/** 32 MiB: a few requests per GB (each request costs a round trip), small enough to lose little to a cut connection. */
export const DEFAULT_CHUNK_SIZE = 32 * MiB;
/** Three connections fill most links; more mostly adds memory (each in-flight chunk is held until stored). */
export const DEFAULT_PARALLEL = 3;
export const DEFAULT_RETRIES = 3;

export interface DownloadOptions {
  url: string;
  /** Cache key; default the URL. */
  id?: string;
  /** Name to show; default the URL's last path segment. */
  name?: string;
  chunkSize?: number;
  parallel?: number;
  /** Whole-file SHA-256 (hex) as the hub gives it (LFS oid). */
  sha256?: string;
  meta?: Record<string, unknown>;
  store?: CacheStore;
  fetch?: typeof fetch;
  /** Attempts after the first, per chunk, for network failures and 5xx. */
  retries?: number;
  /** First retry delay; doubles each attempt. */
  retryDelayMs?: number;
  /** The storage estimate to check against before starting; default navigator.storage.estimate(). */
  estimate?: () => Promise<StorageEstimate>;
  onProgress?: (p: DownloadProgress) => void;
  /** Things the user should read (e.g. "the file changed on the server: starting over"). */
  onMessage?: (message: string) => void;
}

export interface DownloadResult {
  manifest: CacheManifest;
  /** True when a changed file made the download start over. */
  restarted: boolean;
  messages: string[];
  /** Body bytes received in this session (a resumed download receives only what was missing). */
  fetchedBytes: number;
}

/** The server's file changed under us (new ETag / Last-Modified / size). */
class FileChanged extends Error {
  constructor(readonly detail: string) {
    super(detail);
  }
}

interface RemoteVersion {
  size: number;
  etag?: string;
  lastModified?: string;
}

/** Downloads running in this page, by cache id: a second start of the same file joins the first. */
const active = new Map<string, Download>();

/**
 * Starts (or resumes, from what is stored) downloading a file into the cache. While a download of the same id is
 * running in this page, that one is returned instead of a second writer to the same chunks.
 */
export function startDownload(opts: DownloadOptions): Download {
  const id = opts.id ?? opts.url;
  const running = active.get(id);
  if (running) return running;
  const d = new Download(opts);
  active.set(id, d);
  const forget = (): void => {
    if (active.get(id) === d) active.delete(id);
  };
  d.done.then(forget, forget);
  return d;
}

export class Download {
  readonly done: Promise<DownloadResult>;
  readonly messages: string[] = [];
  private readonly store: CacheStore;
  private readonly fetchFn: typeof fetch;
  private readonly id: string;
  private state: DownloadState = 'starting';
  private manifest: CacheManifest | undefined;
  private run: AbortController = new AbortController();
  private resumeWaiter: { promise: Promise<void>; resolve: () => void } | undefined;
  private readonly inFlight = new Map<number, number>();
  private readonly meter = new RateMeter();
  private fetched = 0;
  private lastEmit = 0;
  private restarted = false;
  private manifestWrites: Promise<void> = Promise.resolve();

  constructor(private readonly opts: DownloadOptions) {
    this.store = opts.store ?? new CacheStore();
    this.fetchFn = opts.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.id = opts.id ?? opts.url;
    this.done = this.main();
    // The caller may only listen to progress; an unobserved rejection must not crash the page.
    this.done.catch(() => undefined);
  }

  get progress(): DownloadProgress {
    const m = this.manifest;
    const total = m?.size ?? 0;
    const stored = m ? storedBytes(m) : 0;
    let received = stored;
    for (const n of this.inFlight.values()) received += n;
    const rate = this.state === 'downloading' ? this.meter.rate() : 0;
    return {
      bytesStored: stored,
      bytesReceived: received,
      bytesTotal: total,
      chunksDone: m ? m.chunks.filter((c) => c.done).length : 0,
      chunksTotal: m?.chunks.length ?? 0,
      bytesPerSecond: rate,
      etaSeconds: this.state === 'done' ? 0 : etaSeconds(total - received, rate),
      state: this.state,
    };
  }

  /** Stops fetching (chunks in flight are dropped, stored ones kept); resume() continues. */
  pause(): void {
    if (this.state !== 'downloading' && this.state !== 'starting') return;
    this.setState('paused');
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    this.resumeWaiter = { promise, resolve };
    this.run.abort(new DOMException('Paused.', 'AbortError'));
  }

  resume(): void {
    if (this.state !== 'paused' || !this.resumeWaiter) return;
    this.run = new AbortController();
    this.setState('downloading');
    const w = this.resumeWaiter;
    this.resumeWaiter = undefined;
    w.resolve();
  }

  /** Stops for good: `done` rejects with 'aborted'. Stored chunks stay, so starting the same download resumes. */
  cancel(): void {
    if (this.state === 'done' || this.state === 'failed' || this.state === 'cancelled') return;
    this.setState('cancelled');
    this.run.abort(new DOMException('Cancelled.', 'AbortError'));
    this.resumeWaiter?.resolve();
  }

  private async main(): Promise<DownloadResult> {
    try {
      let changes = 0;
      for (;;) {
        try {
          const manifest = await this.prepare();
          this.manifest = manifest;
          if (!manifest.complete) await this.fetchAll(manifest);
          this.setState('done');
          return { manifest, restarted: this.restarted, messages: this.messages, fetchedBytes: this.fetched };
        } catch (e) {
          // Paused while learning the remote version: wait, then start that step again.
          if (this.state === 'paused' && this.resumeWaiter) {
            await this.resumeWaiter.promise;
            if (this.cancelled()) throw e;
            continue;
          }
          if (!(e instanceof FileChanged)) throw e;
          // A file that changes again while we start over is being rewritten: stop rather than loop.
          if (++changes > 2) throw new RbeeError('http', `${this.name()} keeps changing on the server.`, { hint: 'Try again later.' });
          this.say(`${this.name()} changed on the server since the download began (${e.detail}): starting over.`);
          this.restarted = true;
          await withFileLock(this.id, () => this.store.delete(this.id));
          this.manifest = undefined;
        }
      }
    } catch (e) {
      const err = this.state === 'cancelled' ? new RbeeError('aborted', 'Download cancelled.', { cause: e }) : toRbeeError(e);
      if (this.state !== 'cancelled') this.setState('failed');
      throw err;
    } finally {
      this.hasher?.close();
    }
  }

  /** Read through a method: TypeScript would otherwise narrow `state` across the awaits that change it. */
  private cancelled(): boolean {
    return this.state === 'cancelled';
  }

  private name(): string {
    if (this.opts.name) return this.opts.name;
    try {
      return decodeURIComponent(new URL(this.opts.url).pathname.split('/').pop() || this.opts.url);
    } catch {
      return this.opts.url;
    }
  }

  /** Learns the remote version, reconciles it with what is stored, checks the space needed. */
  private async prepare(): Promise<CacheManifest> {
    const remote = await this.probe();
    let m = await this.store.getManifest(this.id);
    if (m) {
      const change = describeChange(m, remote);
      if (change) throw new FileChanged(change);
      // A chunk marked done whose bytes are gone (deleted in another tab, storage evicted, a crash between writes) is
      // fetched again — also when the manifest says complete: otherwise Resume would fetch nothing and the file never load.
      m = await withFileLock(this.id, async () => {
        const current = await this.store.getManifest(this.id);
        if (!current) return undefined;
        const lost = await claimedButMissing(this.store, current);
        if (lost.length > 0) {
          markMissing(current, lost);
          await this.store.putManifest(current);
          this.say(`${this.name()}: ${lost.length} of ${current.chunks.length} chunks were missing from the cache; fetching them again.`);
        }
        return current;
      });
    }
    if (m) {
      if (m.complete) return m;
      if (this.opts.sha256 && !m.sha256) m.sha256 = this.opts.sha256.toLowerCase();
    } else {
      const chunkSize = this.opts.chunkSize ?? DEFAULT_CHUNK_SIZE;
      if (!Number.isSafeInteger(chunkSize) || chunkSize <= 0) throw new RbeeError('bad-value', `A chunk size must be a positive whole number of bytes, not ${chunkSize}.`);
      m = newManifest({
        id: this.id,
        url: this.opts.url,
        name: this.name(),
        size: remote.size,
        chunkSize,
        ...(remote.etag !== undefined ? { etag: remote.etag } : {}),
        ...(remote.lastModified !== undefined ? { lastModified: remote.lastModified } : {}),
        ...(this.opts.sha256 ? { sha256: this.opts.sha256.toLowerCase() } : {}),
        ...(this.opts.meta ? { meta: this.opts.meta } : {}),
      });
      // Nothing written yet counts as nothing stored: an empty manifest is safe to leave behind.
      await this.store.putManifest(m);
    }
    this.manifest = m;
    const needed = m.size - storedBytes(m);
    const estimate = await (this.opts.estimate ?? (() => estimateStorage()))();
    if (estimate.freeBytes !== undefined && estimate.freeBytes < needed) throw quotaError(needed, estimate.freeBytes);
    return m;
  }

  /** One one-byte Range request: the size (Content-Range), the version (ETag, Last-Modified), and Range support. */
  private async probe(): Promise<RemoteVersion> {
    const res = await this.request({ Range: 'bytes=0-0' }, this.run.signal);
    await res.body?.cancel().catch(() => undefined);
    if (res.status === 200) {
      throw new RbeeError('no-range', `${this.name()}: the server does not answer Range requests, so the download could not resume.`, {
        hint: 'Download the file with another tool and open it from disk.',
      });
    }
    const total = /\/(\d+)\s*$/.exec(res.headers.get('Content-Range') ?? '')?.[1];
    if (res.status !== 206 || total === undefined) {
      throw new RbeeError('http', `${this.name()}: unexpected answer ${res.status} to a Range request (no Content-Range size).`);
    }
    const etag = res.headers.get('ETag') ?? undefined;
    const lastModified = res.headers.get('Last-Modified') ?? undefined;
    return { size: Number(total), ...(etag ? { etag } : {}), ...(lastModified ? { lastModified } : {}) };
  }

  private async request(headers: Record<string, string>, signal: AbortSignal): Promise<Response> {
    let res: Response;
    try {
      res = await this.fetchFn(this.opts.url, { headers, signal, cache: 'no-store' });
    } catch (e) {
      throw this.networkError(e, signal);
    }
    if (res.ok) return res;
    await res.body?.cancel().catch(() => undefined);
    if (res.status === 404) throw new RbeeError('not-found', `${this.name()} is not on the server (404).`, { hint: 'Check the link or the repository.' });
    if (res.status === 401 || res.status === 403) {
      throw new RbeeError('gated', `${this.name()}: the server refused access (${res.status}).`, {
        hint: 'The repository may be gated or private: accept its terms on the hub, or use another repository.',
      });
    }
    if (res.status === 416) throw new FileChanged('the requested range is past its end');
    throw new RbeeError('http', `${this.name()}: the server answered ${res.status} ${res.statusText}.`, { hint: 'Try again later.' });
  }

  private networkError(e: unknown, signal: AbortSignal): RbeeError {
    if (signal.aborted) return new RbeeError('aborted', 'Stopped.', { cause: e });
    if (isRbeeError(e)) return e;
    return new RbeeError('network', `${this.name()}: the connection failed (${e instanceof Error ? e.message : String(e)}).`, {
      hint: 'Check the connection; the download resumes from the last complete chunk.',
      cause: e,
    });
  }

  /** Fetches every missing chunk; a pause waits for resume and goes on, anything else ends it. */
  private async fetchAll(m: CacheManifest): Promise<void> {
    this.setState('downloading');
    // Chunks that arrive ahead of a slower one are held for the hash up to one fewer than run at once (the usual
    // reordering among parallel requests), so memory stays within about twice the chunks in flight.
    this.hasher?.close();
    this.hasher = m.sha256 ? new InOrderFileHash(this.store, m, Math.max(0, (this.opts.parallel ?? DEFAULT_PARALLEL) - 1)) : undefined;
    for (;;) {
      const missing = m.chunks.flatMap((c, i) => (c.done ? [] : [i]));
      if (missing.length > 0) {
        try {
          await this.fetchChunks(m, missing, this.run.signal);
        } catch (e) {
          if (this.state === 'paused' && this.resumeWaiter) {
            await this.resumeWaiter.promise;
            if (this.cancelled()) throw e;
            continue;
          }
          throw e;
        }
        continue;
      }
      if (m.sha256) {
        this.setState('verifying');
        // After a refetch the chunks came back out of the hash's order: check the stored file as a whole.
        const check = this.hasher && !this.refetchedBad ? await this.hasher.result() : await verifyStoredFile(this.store, m);
        if (!check.ok) {
          if (check.badChunks.length > 0 && !this.refetchedBad) {
            // Chunks that changed at rest: fetch those again, once.
            this.refetchedBad = true;
            for (const i of check.badChunks) m.chunks[i] = { done: false };
            await this.writeManifest(m);
            this.setState('downloading');
            continue;
          }
          await withFileLock(this.id, () => this.store.delete(this.id));
          throw new RbeeError('checksum', `${this.name()} does not match the SHA-256 the hub gives (got ${check.sha256.slice(0, 12)}…, expected ${m.sha256.slice(0, 12)}…); it was deleted.`, {
            hint: 'Download it again; if it keeps failing, the file on the server differs from the one the hub lists.',
          });
        }
      }
      const lost = await this.markComplete(m);
      if (lost.length === 0) return;
      // Chunks counted here vanished from the store (a delete or eviction that did not reach this manifest): fetch
      // them again, and check the whole file again afterwards.
      this.say(`${this.name()}: ${lost.length} stored chunks went missing during the download; fetching them again.`);
      this.refetchedBad = true;
      this.setState('downloading');
    }
  }

  /**
   * Under the file's lock: marks the file complete if every chunk is in the store, else marks the missing ones not done
   * and returns them. A file deleted meanwhile (in another tab) ends the download instead.
   */
  private markComplete(m: CacheManifest): Promise<number[]> {
    return withFileLock(this.id, async () => {
      await this.assertNotDeleted();
      const lost = await claimedButMissing(this.store, m);
      if (lost.length > 0) markMissing(m, lost);
      else m.complete = true;
      await this.writeManifest(m);
      return lost;
    });
  }

  /** Inside the file's lock: the stored manifest must still be there, or someone deleted the file while we worked. */
  private async assertNotDeleted(): Promise<void> {
    if (await this.store.getManifest(this.id)) return;
    throw new RbeeError('not-found', `${this.name()} was deleted from this device (in another tab or window) while it downloaded; the download stopped.`, {
      hint: 'Download it again if you still want it.',
    });
  }

  private refetchedBad = false;
  private hasher: InOrderFileHash | undefined;

  /** Runs `parallel` workers over `indices`; the first failure stops the rest, and is thrown only once all stopped. */
  private async fetchChunks(m: CacheManifest, indices: number[], runSignal: AbortSignal): Promise<void> {
    const local = new AbortController();
    const onRunAbort = (): void => local.abort(runSignal.reason);
    if (runSignal.aborted) local.abort(runSignal.reason);
    else runSignal.addEventListener('abort', onRunAbort, { once: true });
    const queue = [...indices];
    let failure: unknown;
    const worker = async (): Promise<void> => {
      while (!local.signal.aborted) {
        const i = queue.shift();
        if (i === undefined) return;
        try {
          await this.fetchChunkWithRetries(m, i, local.signal);
        } catch (e) {
          if (failure === undefined) failure = e;
          local.abort(e);
          return;
        }
      }
    };
    const n = Math.max(1, Math.min(this.opts.parallel ?? DEFAULT_PARALLEL, indices.length));
    await Promise.all(Array.from({ length: n }, worker));
    runSignal.removeEventListener('abort', onRunAbort);
    this.inFlight.clear();
    await this.manifestWrites;
    if (failure !== undefined) throw failure;
    if (runSignal.aborted) throw runSignal.reason;
  }

  private async fetchChunkWithRetries(m: CacheManifest, index: number, signal: AbortSignal): Promise<void> {
    const retries = this.opts.retries ?? DEFAULT_RETRIES;
    const delay = this.opts.retryDelayMs ?? 1000;
    for (let attempt = 0; ; attempt++) {
      try {
        const bytes = await this.fetchChunk(m, index, signal);
        await this.storeChunk(m, index, bytes);
        return;
      } catch (e) {
        this.inFlight.delete(index);
        const retryable = isRbeeError(e) && (e.code === 'network' || (e.code === 'http' && !signal.aborted));
        if (!retryable || attempt >= retries || signal.aborted) throw e;
        await sleep(delay * 2 ** attempt, signal);
      }
    }
  }

  private async fetchChunk(m: CacheManifest, index: number, signal: AbortSignal): Promise<Uint8Array> {
    const { start, end } = chunkRange(m, index);
    const headers: Record<string, string> = { Range: `bytes=${start}-${end - 1}` };
    // If-Range: a server whose file changed answers 200 with the new file instead of a range of it.
    const validator = m.etag ?? m.lastModified;
    if (validator) headers['If-Range'] = validator;
    const res = await this.request(headers, signal);
    const etag = res.headers.get('ETag') ?? undefined;
    if (res.status !== 206) {
      await res.body?.cancel().catch(() => undefined);
      if (etag !== undefined && m.etag !== undefined && etag !== m.etag) throw new FileChanged(`ETag ${m.etag} → ${etag}`);
      throw new RbeeError('no-range', `${this.name()}: the server stopped answering Range requests (status ${res.status}).`);
    }
    if (etag !== undefined && m.etag !== undefined && etag !== m.etag) {
      await res.body?.cancel().catch(() => undefined);
      throw new FileChanged(`ETag ${m.etag} → ${etag}`);
    }
    const range = /bytes\s+(\d+)-(\d+)\/(\d+|\*)/.exec(res.headers.get('Content-Range') ?? '');
    if (!range || Number(range[1]) !== start || Number(range[2]) !== end - 1) {
      await res.body?.cancel().catch(() => undefined);
      if (range && range[3] !== '*' && Number(range[3]) !== m.size) throw new FileChanged(`size ${m.size} → ${range[3]}`);
      throw new RbeeError('http', `${this.name()}: the server sent bytes ${range ? `${range[1]}-${range[2]}` : '(no Content-Range)'} for ${start}-${end - 1}.`);
    }
    const bytes = new Uint8Array(end - start);
    let got = 0;
    const reader = res.body?.getReader();
    if (!reader) throw new RbeeError('network', `${this.name()}: an empty response for bytes ${start}-${end - 1}.`);
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (got + value.byteLength > bytes.byteLength) throw new RbeeError('http', `${this.name()}: the server sent more bytes than the range asked for.`);
        bytes.set(value, got);
        got += value.byteLength;
        this.fetched += value.byteLength;
        this.inFlight.set(index, got);
        this.meter.record(this.fetched);
        this.emit(false);
      }
    } catch (e) {
      await reader.cancel().catch(() => undefined);
      throw this.networkError(e, signal);
    }
    if (got < bytes.byteLength) {
      throw new RbeeError('network', `${this.name()}: the connection closed after ${got} of ${bytes.byteLength} bytes of a chunk.`, {
        hint: 'Check the connection; the download resumes from the last complete chunk.',
      });
    }
    return bytes;
  }

  private async storeChunk(m: CacheManifest, index: number, bytes: Uint8Array): Promise<void> {
    const hash = await sha256Hex(bytes);
    await withFileLock(this.id, () => this.storeChunkLocked(m, index, bytes, hash));
    this.emit(true);
  }

  /** Stores a chunk and counts it, holding the file's lock: no delete can fall between the two. */
  private async storeChunkLocked(m: CacheManifest, index: number, bytes: Uint8Array, hash: string): Promise<void> {
    await this.assertNotDeleted();
    try {
      await this.store.putChunk(this.id, index, bytes);
    } catch (e) {
      throw this.storageError(e, m);
    }
    m.chunks[index] = { done: true, sha256: hash };
    this.hasher?.stored(index, bytes);
    this.inFlight.delete(index);
    try {
      await this.writeManifest(m);
    } catch (e) {
      // The chunk is stored but could not be counted: uncount it in memory too, so progress matches the store, and
      // give its space back. Chromium checks concurrent writes against the space left one at a time, so the chunks in
      // flight can all land past the quota and the small manifest write be the one refused; kept, they would hold
      // space the next storage check counts as used, and Resume would never see room.
      m.chunks[index] = { done: false };
      await this.store.deleteChunks(this.id, [index]).catch(() => undefined);
      throw this.storageError(e, m);
    }
  }

  private storageError(e: unknown, m: CacheManifest): unknown {
    if (isRbeeError(e) && e.code === 'quota') return quotaError(m.size - storedBytes(m), undefined, e);
    return e;
  }

  /** Manifest writes in order: each is a snapshot, and the last one must carry the latest state. */
  private writeManifest(m: CacheManifest): Promise<void> {
    const snapshot: CacheManifest = { ...m, chunks: m.chunks.map((c) => ({ ...c })) };
    const write = this.manifestWrites.then(() => this.store.putManifest(snapshot));
    this.manifestWrites = write.catch(() => undefined);
    return write;
  }

  private setState(state: DownloadState): void {
    this.state = state;
    if (state === 'downloading') this.meter.reset();
    this.emit(true);
  }

  private say(message: string): void {
    this.messages.push(message);
    this.opts.onMessage?.(message);
  }

  /** Progress to the listener: always on state and chunk changes, at most every 100 ms while bytes arrive. */
  private emit(force: boolean): void {
    if (!this.opts.onProgress) return;
    const now = performance.now();
    if (!force && now - this.lastEmit < 100) return;
    this.lastEmit = now;
    this.opts.onProgress(this.progress);
  }
}

function describeChange(m: CacheManifest, remote: RemoteVersion): string | undefined {
  if (m.etag !== undefined && remote.etag !== undefined && m.etag !== remote.etag) return `ETag ${m.etag} → ${remote.etag}`;
  if (m.size !== remote.size) return `size ${formatBytes(m.size)} → ${formatBytes(remote.size)}`;
  if (m.etag === undefined && m.lastModified !== undefined && remote.lastModified !== undefined && m.lastModified !== remote.lastModified) {
    return `Last-Modified ${m.lastModified} → ${remote.lastModified}`;
  }
  return undefined;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export interface FileCheck {
  ok: boolean;
  /** The SHA-256 of the stored bytes. */
  sha256: string;
  /** Chunks whose bytes no longer hash to what was received (or are missing). */
  badChunks: number[];
}

/**
 * Re-checks a cached file (e.g. when a load fails, or from the library): chunks that no longer hash to what arrived
 * are marked missing and the file incomplete, so the next download of the same id fetches just those again.
 */
export async function recheckCachedFile(store: CacheStore, id: string): Promise<FileCheck | undefined> {
  return withFileLock(id, async () => {
    const m = await store.getManifest(id);
    if (!m) return undefined;
    const check = await verifyStoredFile(store, m);
    if (!check.ok) {
      for (const i of check.badChunks) m.chunks[i] = { done: false };
      m.complete = false;
      await store.deleteChunks(id, check.badChunks);
      await store.putManifest(m);
    }
    return check;
  });
}

/**
 * Hashes a stored file chunk by chunk (one chunk in memory at a time) against the manifest's whole-file SHA-256
 * (when it has one) and each chunk against the hash recorded when it arrived.
 */
export async function verifyStoredFile(store: CacheStore, m: CacheManifest): Promise<FileCheck> {
  const whole = await fileHasher();
  try {
    return await verifyWith(whole, store, m);
  } finally {
    whole.close();
  }
}

async function verifyWith(whole: FileHasher, store: CacheStore, m: CacheManifest): Promise<FileCheck> {
  const badChunks: number[] = [];
  for (let i = 0; i < m.chunks.length; i++) {
    const bytes = await store.getChunk(m.id, i);
    const { start, end } = chunkRange(m, i);
    if (!bytes || bytes.byteLength !== end - start) {
      badChunks.push(i);
      continue;
    }
    await whole.update(bytes);
    const recorded = m.chunks[i]!.sha256;
    if (recorded !== undefined && (await sha256Hex(bytes)) !== recorded) badChunks.push(i);
  }
  const sha256 = await whole.hex();
  const ok = badChunks.length === 0 && (m.sha256 === undefined || m.sha256 === sha256);
  return { ok, sha256, badChunks };
}
