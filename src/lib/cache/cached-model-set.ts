/**
 * A cached model as a ModelFileSet: inspect() and the worker's model opening read it exactly like the repository or
 * URL it came from, but every byte comes from IndexedDB (CachedFileSource, chunk by chunk) — offline too.
 *
 * `cachedSetFor` is the one question the rest of the app asks: "is this (HF reference / URL [+ file]) complete in the
 * cache? then here is its file set". It answers undefined (never throws) when storage is unavailable, so a private
 * window or a Node process just takes the network path.
 */
import type { ModelInput } from '../engine/worker-protocol.ts';
import type { ByteSource } from '../formats/byte-source.ts';
import { baseOf, type ModelFileSet } from '../model/model-file-set.ts';
import { DEFAULT_HUB, hfRepoUrl } from '../hub/hf.ts';
import { CachedFileSource } from './cached-source.ts';
import { CachedModels, type CachedModel } from './cached-models.ts';
import { CacheStore } from './store.ts';

export function cachedModelFileSet(model: CachedModel, store: CacheStore = new CacheStore()): ModelFileSet {
  const byPath = new Map(model.files.map((f) => [f.path, f]));
  const origin = model.origin;
  return {
    label: origin.kind === 'hf' ? `${origin.repo}/${model.primary}` : (byPath.get(model.primary)?.url ?? model.primary),
    primary: model.primary,
    listing: model.files.map((f) => ({ path: f.path, size: f.size })),
    modelName: origin.kind === 'hf' ? origin.repo : model.name,
    ...(origin.kind === 'hf'
      ? {
          hf: {
            repo: origin.repo,
            revision: origin.revision,
            url: hfRepoUrl(origin, origin.hubBase),
            files: model.files.map((f) => ({ path: f.path, size: f.size, ...(f.sha256 ? { lfs: { oid: f.sha256, size: f.size } } : {}) })),
          },
        }
      : {}),
    async open(path): Promise<ByteSource | undefined> {
      const f = byPath.get(path);
      if (!f) return undefined;
      const source = await CachedFileSource.open(f.fileId, store);
      // Loaders name files by their base name (split parts are looked up beside the first).
      return Object.assign(source, { name: baseOf(path) });
    },
  };
}

/** Whether the browser (or worker) has IndexedDB at all. */
const hasIndexedDb = (): boolean => typeof indexedDB !== 'undefined';

/**
 * The complete cached model that `source` (+ `file`) names, as a file set; undefined when it is not cached (or only
 * partly), or when storage cannot be read.
 */
export async function cachedSetFor(
  source: string,
  file: string | undefined,
  hubBase: string,
  store?: CacheStore,
): Promise<ModelFileSet | undefined> {
  if (!hasIndexedDb() && !store) return undefined;
  try {
    const models = new CachedModels(store ?? new CacheStore());
    const model = await models.find(source, file, hubBase);
    return model ? cachedModelFileSet(model, models.store) : undefined;
  } catch {
    return undefined;
  }
}

/** Offline, the model page and the chat page's verdict read a cached model from the cache instead of failing. */
export async function cachedSetWhenOffline(source: string, file: string | undefined, hubBase: string): Promise<ModelFileSet | undefined> {
  if (typeof navigator === 'undefined' || navigator.onLine !== false) return undefined;
  return cachedSetFor(source, file, hubBase);
}

/**
 * The worker's question: does this model input (a URL or a Hugging Face reference) name a model complete in the
 * cache? Then its weights stream from IndexedDB instead of the network — offline too. Dropped files are local anyway.
 */
export async function cachedSetForInput(input: ModelInput): Promise<ModelFileSet | undefined> {
  if (input.kind === 'url') return cachedSetFor(input.url, undefined, DEFAULT_HUB);
  if (input.kind === 'hf') return cachedSetFor(input.ref, undefined, input.hubBase ?? DEFAULT_HUB);
  return undefined;
}
