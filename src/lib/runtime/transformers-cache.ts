/**
 * transformers.js' cache (the browser's Cache API, 'transformers-cache': each file under its hub URL) for the
 * library page: which ONNX repositories have files stored, how many bytes, and removing them.
 */
import { toRbeeError } from '../errors.ts';

/** transformers.js' default env.cacheKey. */
export const TRANSFORMERS_CACHE = 'transformers-cache';

export interface TransformersCacheEntry {
  /** owner/name */
  repo: string;
  revision: string;
  files: string[];
  /** Sum of the stored responses' Content-Length (0 where a response does not say). */
  bytes: number;
}

const FILE_URL = /^(.*?)\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/;

export async function listTransformersCache(cacheName = TRANSFORMERS_CACHE): Promise<TransformersCacheEntry[]> {
  try {
    if (typeof caches === 'undefined' || !(await caches.has(cacheName))) return [];
    const cache = await caches.open(cacheName);
    const byRepo = new Map<string, TransformersCacheEntry>();
    for (const request of await cache.keys()) {
      const m = FILE_URL.exec(request.url);
      if (!m) continue;
      const [, , repo, revision, file] = m;
      const key = `${repo}@${revision}`;
      const entry = byRepo.get(key) ?? { repo: repo!, revision: decodeURIComponent(revision!), files: [], bytes: 0 };
      entry.files.push(decodeURIComponent(file!));
      const response = await cache.match(request);
      entry.bytes += Number(response?.headers.get('content-length') ?? 0) || 0;
      byRepo.set(key, entry);
    }
    return [...byRepo.values()].map((e) => ({ ...e, files: e.files.sort() }));
  } catch (e) {
    throw toRbeeError(e);
  }
}

/** Removes every stored file of `repo` (all revisions). Returns how many were removed. */
export async function deleteTransformersModel(repo: string, cacheName = TRANSFORMERS_CACHE): Promise<number> {
  try {
    if (typeof caches === 'undefined' || !(await caches.has(cacheName))) return 0;
    const cache = await caches.open(cacheName);
    let removed = 0;
    for (const request of await cache.keys()) {
      if (FILE_URL.exec(request.url)?.[2] === repo && (await cache.delete(request))) removed++;
    }
    return removed;
  } catch (e) {
    throw toRbeeError(e);
  }
}
