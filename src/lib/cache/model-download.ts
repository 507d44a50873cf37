/**
 * Downloading a whole model into the cache: every file of it (split GGUF parts, a SafeTensors set with its config and
 * tokenizer files), one file after another (each file's chunks in parallel, see downloader.ts), with progress per file
 * and in total, pause / resume / cancel, and one storage check for the whole model before anything is written.
 *
 * The model's record (cached-models.ts) is written after the storage check and before the first byte, so a closed tab
 * leaves a listed, resumable model — and a model that does not fit leaves nothing at all.
 */
import { RbeeError, toRbeeError } from '../errors.ts';
import { CachedModels, type CachedModel } from './cached-models.ts';
import { startDownload, type Download } from './downloader.ts';
import { storedBytes } from './manifest.ts';
import { etaSeconds, type DownloadProgress, type DownloadState } from './progress.ts';
import { estimateStorage, quotaError, requestPersistence, type StorageEstimate } from './storage-budget.ts';
import { CacheStore } from './store.ts';

export interface FileProgress extends DownloadProgress {
  path: string;
}

export interface ModelDownloadProgress {
  state: DownloadState;
  bytesStored: number;
  bytesReceived: number;
  bytesTotal: number;
  bytesPerSecond: number;
  etaSeconds: number | undefined;
  files: FileProgress[];
}

export interface ModelDownloadOptions {
  store?: CacheStore;
  fetch?: typeof fetch;
  chunkSize?: number;
  parallel?: number;
  retries?: number;
  retryDelayMs?: number;
  estimate?: () => Promise<StorageEstimate>;
  onProgress?: (p: ModelDownloadProgress) => void;
  onMessage?: (message: string) => void;
}

export interface StorageCheck {
  /** Bytes still to download (what is already stored is not counted again). */
  neededBytes: number;
  freeBytes: number | undefined;
  quotaBytes: number | undefined;
  usageBytes: number | undefined;
  fits: boolean;
}

/** "This needs X and Y is free": what the page shows before a download starts, and the check the download repeats. */
export async function checkStorage(model: CachedModel, store: CacheStore = new CacheStore(), estimate: () => Promise<StorageEstimate> = () => estimateStorage()): Promise<StorageCheck> {
  let needed = 0;
  for (const f of model.files) {
    const m = await store.getManifest(f.fileId).catch(() => undefined);
    needed += m && m.size === f.size ? m.size - storedBytes(m) : f.size;
  }
  const e = await estimate();
  return { neededBytes: needed, freeBytes: e.freeBytes, quotaBytes: e.quotaBytes, usageBytes: e.usageBytes, fits: e.freeBytes === undefined || e.freeBytes >= needed };
}

/** Downloads running in this page, by model id: a second start joins the first. */
const running = new Map<string, ModelDownload>();

export function startModelDownload(model: CachedModel, opts: ModelDownloadOptions = {}): ModelDownload {
  const existing = running.get(model.id);
  if (existing && !existing.finished) return existing;
  const d = new ModelDownload(model, opts);
  running.set(model.id, d);
  return d;
}

/** The download of this model running in this page, if any (the library shows it live). */
export function runningModelDownload(id: string): ModelDownload | undefined {
  const d = running.get(id);
  return d && !d.finished ? d : undefined;
}

export class ModelDownload {
  readonly done: Promise<CachedModel>;
  readonly messages: string[] = [];
  /** Result of navigator.storage.persist() (undefined: the browser has no such API). */
  persisted: boolean | undefined;
  finished = false;
  private state: DownloadState = 'starting';
  private current: Download | undefined;
  private readonly fileProgress: FileProgress[];
  private paused = false;
  private cancelled = false;
  private readonly store: CacheStore;
  private readonly listeners = new Set<(p: ModelDownloadProgress) => void>();
  private readonly messageListeners = new Set<(message: string) => void>();

  constructor(
    readonly model: CachedModel,
    private readonly opts: ModelDownloadOptions,
  ) {
    this.store = opts.store ?? new CacheStore();
    this.fileProgress = model.files.map((f) => ({
      path: f.path,
      bytesStored: 0,
      bytesReceived: 0,
      bytesTotal: f.size,
      chunksDone: 0,
      chunksTotal: 0,
      bytesPerSecond: 0,
      etaSeconds: undefined,
      state: 'starting',
    }));
    this.done = this.main();
    this.done.then(
      () => (this.finished = true),
      () => (this.finished = true),
    );
  }

  get progress(): ModelDownloadProgress {
    const files = this.fileProgress.map((f) => ({ ...f }));
    const sum = (k: 'bytesStored' | 'bytesReceived' | 'bytesTotal'): number => files.reduce((a, f) => a + f[k], 0);
    const rate = this.state === 'downloading' ? files.reduce((a, f) => a + f.bytesPerSecond, 0) : 0;
    const received = sum('bytesReceived');
    const total = sum('bytesTotal');
    return {
      state: this.state,
      bytesStored: sum('bytesStored'),
      bytesReceived: received,
      bytesTotal: total,
      bytesPerSecond: rate,
      etaSeconds: this.state === 'done' ? 0 : etaSeconds(total - received, rate),
      files,
    };
  }

  /** Progress (and messages) for another view of the same download (the library while the model page started it). */
  subscribe(onProgress: (p: ModelDownloadProgress) => void, onMessage?: (message: string) => void): () => void {
    this.listeners.add(onProgress);
    if (onMessage) this.messageListeners.add(onMessage);
    onProgress(this.progress);
    return () => {
      this.listeners.delete(onProgress);
      if (onMessage) this.messageListeners.delete(onMessage);
    };
  }

  pause(): void {
    if (this.finished || this.paused) return;
    this.paused = true;
    this.current?.pause();
    this.setState('paused');
  }

  resume(): void {
    if (this.finished || !this.paused) return;
    this.paused = false;
    this.current?.resume();
    this.setState('downloading');
  }

  /** Stops; what is stored stays (the library lists the model as partial, and a new start resumes). */
  cancel(): void {
    if (this.finished) return;
    this.cancelled = true;
    this.current?.cancel();
    this.setState('cancelled');
  }

  private async main(): Promise<CachedModel> {
    const models = new CachedModels(this.store);
    try {
      // Refresh what is already stored (a resumed download starts where the last one stopped).
      for (let i = 0; i < this.model.files.length; i++) {
        const m = await this.store.getManifest(this.model.files[i]!.fileId);
        if (m && m.size === this.model.files[i]!.size) {
          const s = storedBytes(m);
          Object.assign(this.fileProgress[i]!, { bytesStored: s, bytesReceived: s, chunksTotal: m.chunks.length, chunksDone: m.chunks.filter((c) => c.done).length, state: m.complete ? 'done' : 'starting' });
        }
      }
      const check = await checkStorage(this.model, this.store, this.opts.estimate);
      if (!check.fits) throw quotaError(check.neededBytes, check.freeBytes);
      this.persisted = await requestPersistence();
      const previous = await models.get(this.model.id);
      await models.put({ ...this.model, createdAt: previous?.createdAt ?? this.model.createdAt });
      this.setState('downloading');
      for (let i = 0; i < this.model.files.length; i++) {
        if (this.cancelled) throw new RbeeError('aborted', 'Download cancelled.');
        const f = this.model.files[i]!;
        const d = startDownload({
          url: f.url,
          id: f.fileId,
          name: f.path.slice(f.path.lastIndexOf('/') + 1),
          ...(f.sha256 ? { sha256: f.sha256 } : {}),
          meta: { model: this.model.id, path: f.path },
          store: this.store,
          ...(this.opts.fetch ? { fetch: this.opts.fetch } : {}),
          ...(this.opts.chunkSize ? { chunkSize: this.opts.chunkSize } : {}),
          ...(this.opts.parallel ? { parallel: this.opts.parallel } : {}),
          ...(this.opts.retries !== undefined ? { retries: this.opts.retries } : {}),
          ...(this.opts.retryDelayMs !== undefined ? { retryDelayMs: this.opts.retryDelayMs } : {}),
          // The whole model was checked above; each file's own check would count the files after it as free.
          estimate: async () => ({ freeBytes: undefined, quotaBytes: undefined, usageBytes: undefined }),
          onProgress: (p) => {
            Object.assign(this.fileProgress[i]!, p);
            // A file's 'done' is not the model's; its pause mirrors ours.
            this.emit();
          },
          onMessage: (message) => this.say(message),
        });
        this.current = d;
        if (this.paused) d.pause();
        if (this.cancelled) d.cancel();
        const result = await d.done;
        Object.assign(this.fileProgress[i]!, result.manifest ? { bytesStored: f.size, bytesReceived: f.size, state: 'done' } : {});
      }
      this.current = undefined;
      this.setState('done');
      return this.model;
    } catch (e) {
      const err = this.cancelled ? new RbeeError('aborted', 'Download cancelled; what was downloaded is kept and the download resumes from there.') : toRbeeError(e);
      this.setState(this.cancelled ? 'cancelled' : 'failed');
      throw err;
    } finally {
      if (running.get(this.model.id) === this) running.delete(this.model.id);
    }
  }

  private setState(state: DownloadState): void {
    this.state = state;
    this.emit();
  }

  private say(message: string): void {
    this.messages.push(message);
    this.opts.onMessage?.(message);
    for (const l of this.messageListeners) l(message);
  }

  private emit(): void {
    if (!this.opts.onProgress && this.listeners.size === 0) return;
    const p = this.progress;
    this.opts.onProgress?.(p);
    for (const l of this.listeners) l(p);
  }
}
