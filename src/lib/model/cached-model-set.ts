/**
 * A cached model as a ModelFileSet: inspect() and the worker's model opening read it exactly like the repository or
 * URL it came from, but every byte comes from IndexedDB (CachedFileSource, chunk by chunk) — offline too.
 *
 * `cachedSetFor` is the question model/resolve.ts asks for every reference: "is this (HF reference / URL [+ file])
 * complete in the cache? then here is its file set". It answers undefined (never throws) when storage is unavailable, so a private
 * window or a Node process just takes the network path.
 */
import type { ByteSource } from '../formats/byte-source.ts';
import { baseOf, type ModelFileSet } from './model-file-set.ts';
import type { RemoteModelRef } from './model-ref.ts';
import { hfRepoUrl } from '../hub/hf.ts';
import { CachedFileSource } from '../cache/cached-source.ts';
import { CachedModels, type CachedModel } from '../cache/cached-models.ts';
import { CacheStore } from '../cache/store.ts';

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
 * The complete cached model a remote reference names, as a file set; undefined when it is not cached (or only
 * partly), or when storage cannot be read.
 */
export async function cachedSetFor(ref: RemoteModelRef, hubBase: string, store?: CacheStore): Promise<ModelFileSet | undefined> {
  if (!hasIndexedDb() && !store) return undefined;
  try {
    const models = new CachedModels(store ?? new CacheStore());
    const model = await models.find(ref, hubBase);
    return model ? cachedModelFileSet(model, models.store) : undefined;
  } catch {
    return undefined;
  }
}
