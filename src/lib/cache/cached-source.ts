/**
 * A file in the download cache as a ByteSource: reads come from the stored chunks, at most two chunks in memory at a
 * time (never one whole-file ArrayBuffer), and `chunks()` streams the file in order for uploading weights to the GPU.
 * Streaming — `chunks()`, or reads that move on from chunk i − 1 to chunk i (the weight upload) — reads chunk i + 1
 * ahead, so the store's read overlaps whatever the caller does with chunk i (a GPU upload) and the stream waits only
 * for the slower of the two. A header parse (reads within the first chunk) reads nothing ahead.
 * `blob()` is the whole file as one Blob made of the stored chunks' Blobs, without reading a byte (for engines that
 * take a Blob, such as llama.cpp's wasm build). Only complete files open: nothing partially downloaded is ever read as
 * weights, and a "complete" file whose chunks are not all in the store is repaired to partial (chunk-presence.ts) and
 * refused with a hint to resume.
 */
import { RbeeError } from '../errors.ts';
import { checkRange } from '../formats/blob-source.ts';
import type { ByteSource, ByteSourceStats } from '../formats/byte-source.ts';
import { missingChunksError, repairManifest } from './chunk-presence.ts';
import { chunkRange, type CacheManifest } from './manifest.ts';
import { CacheStore } from './store.ts';

export class CachedFileSource implements ByteSource {
  readonly stats: ByteSourceStats = { bytesRead: 0, requests: 0 };
  readonly name: string;
  readonly location: string;
  /** The chunk read last: sequential small reads (a header parse) hit it instead of IndexedDB. */
  private current: { index: number; bytes: Promise<Uint8Array> } | undefined;
  /** The chunk after it, being read ahead while the caller streams. */
  private ahead: { index: number; bytes: Promise<Uint8Array> } | undefined;

  private constructor(
    private readonly store: CacheStore,
    readonly manifest: CacheManifest,
  ) {
    this.name = manifest.name;
    this.location = manifest.url;
  }

  /** Opens a complete cached file; a missing or unfinished one is a typed error. Marks it used (for the library). */
  static async open(id: string, store: CacheStore = new CacheStore()): Promise<CachedFileSource> {
    const m = await store.getManifest(id);
    if (!m) {
      throw new RbeeError('not-found', `${id} is not in the download cache.`, { hint: 'Download it first (it is kept for offline use).' });
    }
    if (!m.complete) {
      throw new RbeeError('truncated', `${m.name} is only partly downloaded.`, { hint: 'Resume the download; partial files are never used as weights.' });
    }
    // A manifest that claims chunks the store lacks (deleted in another tab, evicted) is repaired here, so that the
    // Resume this error offers fetches exactly those chunks instead of nothing.
    const missing = await repairManifest(store, id);
    if (missing.length > 0) throw missingChunksError(m, missing);
    await store.touch(id);
    return new CachedFileSource(store, m);
  }

  size(): Promise<number> {
    return Promise.resolve(this.manifest.size);
  }

  async read(offset: number, length: number, signal?: AbortSignal): Promise<Uint8Array> {
    checkRange(offset, length);
    const m = this.manifest;
    const end = Math.min(m.size, offset + length);
    if (offset >= end) return new Uint8Array(0);
    const out = new Uint8Array(end - offset);
    for (let i = Math.floor(offset / m.chunkSize); i * m.chunkSize < end; i++) {
      if (signal?.aborted) throw new RbeeError('aborted', 'Cancelled.');
      const bytes = await this.chunk(i);
      const r = chunkRange(m, i);
      const from = Math.max(offset, r.start);
      const to = Math.min(end, r.end);
      out.set(bytes.subarray(from - r.start, to - r.start), from - offset);
    }
    this.stats.bytesRead += out.byteLength;
    return out;
  }

  /** The file in order, one stored chunk at a time (for streaming weights into GPU buffers). */
  async *chunks(signal?: AbortSignal): AsyncGenerator<{ offset: number; bytes: Uint8Array }> {
    for (let i = 0; i < this.manifest.chunks.length; i++) {
      if (signal?.aborted) throw new RbeeError('aborted', 'Cancelled.');
      yield { offset: chunkRange(this.manifest, i).start, bytes: await this.chunk(i, true) };
    }
  }

  /** The whole file as one Blob of the stored chunks (no bytes read; a missing chunk is a typed error). */
  async blob(): Promise<Blob> {
    const parts: Blob[] = [];
    for (let i = 0; i < this.manifest.chunks.length; i++) {
      const part = await this.store.getChunkBlob(this.manifest.id, i);
      const r = chunkRange(this.manifest, i);
      if (!part || part.size !== r.end - r.start) throw this.missing(i);
      parts.push(part);
    }
    return new Blob(parts);
  }

  /**
   * Chunk `index`, shared by every read that needs it while it is the current chunk (reads may overlap: the weight
   * upload keeps several in flight). Moving on from chunk i − 1 (or streaming) starts reading chunk i + 1 ahead.
   */
  private chunk(index: number, streaming = this.current?.index === index - 1): Promise<Uint8Array> {
    if (this.current?.index === index) return this.current.bytes;
    const bytes = this.ahead?.index === index ? this.ahead.bytes : this.load(index);
    this.ahead = undefined;
    if (streaming && index + 1 < this.manifest.chunks.length) {
      const next = this.load(index + 1);
      // Read ahead; a failure surfaces when (and if) that chunk is asked for.
      next.catch(() => undefined);
      this.ahead = { index: index + 1, bytes: next };
    }
    this.current = { index, bytes };
    return bytes;
  }

  private async load(index: number): Promise<Uint8Array> {
    const bytes = await this.store.getChunk(this.manifest.id, index);
    const r = chunkRange(this.manifest, index);
    this.stats.requests++;
    if (!bytes || bytes.byteLength !== r.end - r.start) throw this.missing(index);
    return bytes;
  }

  private missing(index: number): RbeeError {
    return new RbeeError('truncated', `${this.manifest.name}: chunk ${index} is missing from the cache (the browser may have evicted it).`, {
      hint: 'Download the file again; it resumes and fetches only what is missing.',
    });
  }
}
