/**
 * The record the cache keeps per downloaded file: where it came from, which version (ETag / Last-Modified), how it
 * is cut into chunks and which chunks are stored. A chunk is marked done only after its bytes are in the store, so
 * the manifest never counts bytes that are not there.
 */

export interface ChunkState {
  /** True once the chunk's bytes are stored (never before). */
  done: boolean;
  /** SHA-256 (hex) of the bytes as received, to find a chunk that changed at rest. */
  sha256?: string;
}

export interface CacheManifest {
  /** Cache key: the caller's id (e.g. `hf:owner/repo@rev/file.gguf`) or the URL. */
  id: string;
  url: string;
  /** File name to show. */
  name: string;
  size: number;
  etag?: string;
  lastModified?: string;
  chunkSize: number;
  chunks: ChunkState[];
  /** SHA-256 (hex) of the whole file as the hub states it, when known. */
  sha256?: string;
  /** True once every chunk is stored (and the whole-file hash matched, when one was given). */
  complete: boolean;
  createdAt: number;
  lastUsedAt: number;
  /** Anything the library page wants to show beside it (verdict summary, repository, quant label). */
  meta?: Record<string, unknown>;
}

export function chunkCount(size: number, chunkSize: number): number {
  return Math.ceil(size / chunkSize);
}

/** Byte range [start, end) of chunk `index`. */
export function chunkRange(m: Pick<CacheManifest, 'size' | 'chunkSize'>, index: number): { start: number; end: number } {
  const start = index * m.chunkSize;
  return { start, end: Math.min(m.size, start + m.chunkSize) };
}

/** Bytes of the chunks marked done: what is really stored for this file. */
export function storedBytes(m: CacheManifest): number {
  let n = 0;
  m.chunks.forEach((c, i) => {
    if (c.done) {
      const r = chunkRange(m, i);
      n += r.end - r.start;
    }
  });
  return n;
}

export function newManifest(fields: {
  id: string;
  url: string;
  name: string;
  size: number;
  chunkSize: number;
  etag?: string;
  lastModified?: string;
  sha256?: string;
  meta?: Record<string, unknown>;
}): CacheManifest {
  const now = Date.now();
  return {
    ...fields,
    chunks: Array.from({ length: chunkCount(fields.size, fields.chunkSize) }, () => ({ done: false })),
    complete: false,
    createdAt: now,
    lastUsedAt: now,
  };
}
