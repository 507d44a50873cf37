/**
 * Models in the download cache. A model is one or more cached files (a GGUF, the parts of a split GGUF, a SafeTensors
 * set with its config and tokenizer files) plus what the library shows about it (name, size, the verdict at download
 * time). The record is written before the first byte is fetched, so a half-downloaded model is listed (and resumable)
 * after a closed tab; whether it is complete is always read from its files' manifests, never stored twice.
 *
 * Where a model came from is kept in a form the rest of the app can match: a Hugging Face repository at a revision on
 * a hub, or a plain URL. `findCachedModel` answers "is what this page / the worker was asked to open in the cache?".
 */
import { RbeeError } from '../errors.ts';
import { parseHfRef } from '../hub/hf.ts';
import { withFileLock } from './file-lock.ts';
import { storedBytes } from './manifest.ts';
import { CacheStore } from './store.ts';

export interface CachedModelFile {
  /** Path inside the repository / folder, as the loaders open it ('model-00001-of-00002.gguf'). */
  path: string;
  /** The file's id in the CacheStore. */
  fileId: string;
  url: string;
  size: number;
  /** SHA-256 (hex) the hub gives for the file (its LFS oid), checked when the download ends. */
  sha256?: string;
}

export type CachedModelOrigin =
  | { kind: 'hf'; hubBase: string; repo: string; revision: string }
  | { kind: 'url' };

/** What the compatibility check said when the model was downloaded (the library shows it without re-reading). */
export interface StoredVerdict {
  runs: boolean;
  confidence: string;
  engine?: string;
  summary?: string;
}

export interface CachedModel {
  /** The primary file's id. */
  id: string;
  name: string;
  format: string;
  origin: CachedModelOrigin;
  /** The file to open first (a path in `files`). */
  primary: string;
  files: CachedModelFile[];
  quantization?: string;
  architecture?: string;
  verdict?: StoredVerdict;
  createdAt: number;
}

/** A model with the state of its files, as the library lists it. */
export interface CachedModelStatus extends CachedModel {
  size: number;
  storedBytes: number;
  complete: boolean;
  /** Latest open of any of its files (CachedFileSource.open marks it). */
  lastUsedAt: number;
}

const MODEL_PREFIX = 'g/';
const modelKey = (id: string): string => `${MODEL_PREFIX}${encodeURIComponent(id)}`;

export const normaliseBase = (base: string): string => base.replace(/\/+$/, '');

/** The cache id of a hub file: hub, repository, revision and path, so two hubs or revisions never share bytes. */
export function hfFileId(hubBase: string, repo: string, revision: string, path: string): string {
  return `hf:${normaliseBase(hubBase)}/${repo}@${revision}/${path}`;
}

export class CachedModels {
  constructor(readonly store: CacheStore = new CacheStore()) {}

  async get(id: string): Promise<CachedModel | undefined> {
    return this.store.kv.get<CachedModel>(modelKey(id));
  }

  async put(model: CachedModel): Promise<void> {
    try {
      await this.store.kv.set(modelKey(model.id), model);
    } catch (e) {
      // Only a tiny record; the same quota message as the downloader's.
      if ((e as { name?: string } | null)?.name === 'QuotaExceededError') {
        throw new RbeeError('quota', 'The browser refused to store more data: storage is full.', {
          hint: 'Free space in the library (delete a model) or in the browser settings, then try again.',
          cause: e,
        });
      }
      throw e;
    }
  }

  async list(): Promise<CachedModelStatus[]> {
    const keys = await this.store.kv.keysWithPrefix(MODEL_PREFIX);
    const models = (await Promise.all(keys.map((k) => this.store.kv.get<CachedModel>(k)))).filter((m): m is CachedModel => m !== undefined);
    const statuses = await Promise.all(models.map((m) => this.status(m)));
    return statuses.sort((a, b) => b.lastUsedAt - a.lastUsedAt || b.createdAt - a.createdAt);
  }

  async status(model: CachedModel): Promise<CachedModelStatus> {
    const manifests = await Promise.all(model.files.map((f) => this.store.getManifest(f.fileId)));
    let stored = 0;
    let lastUsed = 0;
    let complete = true;
    manifests.forEach((m) => {
      if (!m || !m.complete) complete = false;
      if (m) {
        stored += storedBytes(m);
        // A manifest's lastUsedAt starts at its creation: only later opens count as use.
        if (m.lastUsedAt > m.createdAt) lastUsed = Math.max(lastUsed, m.lastUsedAt);
      }
    });
    return { ...model, size: model.files.reduce((a, f) => a + f.size, 0), storedBytes: stored, complete, lastUsedAt: lastUsed };
  }

  /**
   * Deletes a model: its record first (so a crash mid-way never lists a model whose files are gone), then every file
   * no other cached model uses (two SafeTensors sets in one folder share config.json and the tokenizer).
   */
  async delete(id: string): Promise<void> {
    const model = await this.get(id);
    if (!model) return;
    await this.store.kv.del(modelKey(id));
    const others = await this.list();
    const kept = new Set(others.flatMap((m) => m.files.map((f) => f.fileId)));
    // Each file under its lock (file-lock.ts): a download of it in another tab stores no chunk between our deletes,
    // and stops at its next chunk when it finds the manifest gone.
    for (const f of model.files) if (!kept.has(f.fileId)) await withFileLock(f.fileId, () => this.store.delete(f.fileId));
  }

  /** Every model and every cached file (also files no model record names, e.g. left by an older version). */
  async deleteAll(): Promise<void> {
    const keys = await this.store.kv.keysWithPrefix(MODEL_PREFIX);
    if (keys.length > 0) await this.store.kv.delMany(keys);
    for (const file of await this.store.list()) await withFileLock(file.id, () => this.store.delete(file.id));
    await this.store.deleteAll(); // chunks no manifest names (a crash between writes)
  }

  /**
   * The complete cached model that `source` (a Hugging Face reference or URL, as the model and chat pages carry it)
   * and optionally `file` name, or undefined. A repository without a file matches its most recently used model.
   */
  /** The complete cached model a remote reference (model/model-ref.ts: an HF reference or URL, and maybe one file of it) names. */
  async find({ source, file }: { source: string; file?: string }, hubBase: string): Promise<CachedModelStatus | undefined> {
    const all = (await this.list()).filter((m) => m.complete);
    const ref = parseHfRef(source, hubBase);
    if (ref) {
      const path = file ?? ref.path;
      return all.find(
        (m) =>
          m.origin.kind === 'hf' &&
          normaliseBase(m.origin.hubBase) === normaliseBase(hubBase) &&
          m.origin.repo === ref.repo &&
          m.origin.revision === ref.revision &&
          (path === undefined || m.primary === path || m.files.some((f) => f.path === path)) &&
          (ref.folder === undefined || m.primary.startsWith(`${ref.folder}/`)),
      );
    }
    if (!/^https?:\/\//i.test(source.trim())) return undefined;
    const url = source.trim();
    return all.find((m) => m.files.some((f) => f.url === url && (file === undefined || f.path === file || m.primary === file)));
  }
}
