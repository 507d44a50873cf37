/**
 * Manifests that claim chunks the store lacks (deleted by another tab, evicted, a crash between writes): found by
 * comparing the manifest with the chunk keys actually present (one key scan, no bytes read), and repaired by marking
 * those chunks missing again — and the file incomplete — so that Resume fetches exactly them.
 */
import { RbeeError } from '../errors.ts';
import { withFileLock } from './file-lock.ts';
import type { CacheManifest } from './manifest.ts';
import type { CacheStore } from './store.ts';

/** Indices the manifest counts as done whose bytes are not in the store. */
export async function claimedButMissing(store: CacheStore, m: CacheManifest): Promise<number[]> {
  const present = new Set(await store.storedChunkIndices(m.id));
  return m.chunks.flatMap((c, i) => (c.done && !present.has(i) ? [i] : []));
}

/** Marks `missing` not done (and the file incomplete) in `m`. The caller writes it. */
export function markMissing(m: CacheManifest, missing: readonly number[]): void {
  for (const i of missing) m.chunks[i] = { done: false };
  if (missing.length > 0) m.complete = false;
}

/**
 * Checks a stored file under its lock and repairs its manifest when it claims chunks it lacks. Returns the chunks
 * that were missing (empty: the manifest was honest, or there is no such file).
 */
export async function repairManifest(store: CacheStore, id: string): Promise<number[]> {
  return withFileLock(id, async () => {
    const m = await store.getManifest(id);
    if (!m) return [];
    const missing = await claimedButMissing(store, m);
    if (missing.length > 0) {
      markMissing(m, missing);
      await store.putManifest(m);
    }
    return missing;
  });
}

/** What a user is told when a file they open was found missing chunks (and repaired). */
export function missingChunksError(m: Pick<CacheManifest, 'name' | 'chunks'>, missing: readonly number[]): RbeeError {
  return new RbeeError('truncated', `${m.name}: ${missing.length} of ${m.chunks.length} chunks are missing from the cache (deleted in another tab, or evicted by the browser).`, {
    hint: 'Resume the download (in the library or on the model page): it fetches only the missing chunks.',
  });
}
