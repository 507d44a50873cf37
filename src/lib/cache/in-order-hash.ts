/**
 * The whole-file SHA-256 of a download, computed while it downloads: chunks are hashed in file order as they are
 * stored, from the bytes just written when they arrive in order (or soon after: up to `holdLimit` chunks that arrive
 * ahead of a slower one are kept until their turn), and re-read from the store otherwise — chunks stored in an
 * earlier session, or ones that arrived too far ahead. Checking the file at the end used to read every chunk back
 * from IndexedDB after the download: in Chromium that pass cost as much as the download itself (bench/cache-browser.ts).
 *
 * Chunks re-read from the store are also checked against the hash recorded when they arrived, so a chunk that
 * changed at rest is found (and fetched again by the downloader) exactly as the end-of-download check found it.
 */
import type { FileCheck } from './downloader.ts';
import { chunkRange, type CacheManifest } from './manifest.ts';
import { fileHasher, type FileHasher } from './file-hasher.ts';
import { sha256Hex } from './sha256.ts';
import type { CacheStore } from './store.ts';

export class InOrderFileHash {
  private readonly whole: Promise<FileHasher> = fileHasher();
  private readonly held = new Map<number, Uint8Array>();
  private readonly badChunks: number[] = [];
  private next = 0;
  private pump: Promise<void> = Promise.resolve();
  private failure: unknown;

  constructor(
    private readonly store: CacheStore,
    private readonly m: CacheManifest,
    private readonly holdLimit: number,
  ) {
    // Chunks already stored (a resumed download) are hashed while the rest downloads.
    this.kick();
  }

  /** Chunk `index` is stored (and marked done) with these bytes. */
  stored(index: number, bytes: Uint8Array): void {
    if (index < this.next) return;
    if (index === this.next || this.held.size < this.holdLimit) this.held.set(index, bytes);
    this.kick();
  }

  /** Once every chunk is stored: the file's check, as verifyStoredFile gives it. */
  async result(): Promise<FileCheck> {
    this.kick();
    await this.pump;
    if (this.failure !== undefined) throw this.failure;
    if (this.next < this.m.chunks.length) throw new Error(`InOrderFileHash: chunk ${this.next} is not stored yet`);
    const sha256 = await (await this.whole).hex();
    const ok = this.badChunks.length === 0 && (this.m.sha256 === undefined || this.m.sha256 === sha256);
    return { ok, sha256, badChunks: [...this.badChunks] };
  }

  /** Stops the hashing (a download that failed or was cancelled). */
  close(): void {
    void this.whole.then((h) => h.close());
  }

  private kick(): void {
    this.pump = this.pump.then(() => this.advance()).catch((e: unknown) => {
      this.failure ??= e;
    });
  }

  /** Hashes chunks in order for as long as the next one is at hand (held, or done and so in the store). */
  private async advance(): Promise<void> {
    while (this.failure === undefined && this.next < this.m.chunks.length) {
      const i = this.next;
      let bytes = this.held.get(i);
      if (bytes) this.held.delete(i);
      else if (!this.m.chunks[i]!.done) return;
      // Taken: the chunk after it, arriving while this one is hashed, is the next one and is always held.
      this.next = i + 1;
      bytes ??= await this.readBack(i);
      if (bytes) await this.hash(bytes);
    }
  }

  /** A chunk not held in memory, from the store, checked against its recorded hash; undefined (and bad) if not right. */
  private async readBack(i: number): Promise<Uint8Array | undefined> {
    const bytes = await this.store.getChunk(this.m.id, i);
    const { start, end } = chunkRange(this.m, i);
    const recorded = this.m.chunks[i]!.sha256;
    if (!bytes || bytes.byteLength !== end - start || (recorded !== undefined && (await sha256Hex(bytes)) !== recorded)) {
      this.badChunks.push(i);
      return undefined;
    }
    return bytes;
  }

  private async hash(bytes: Uint8Array): Promise<void> {
    await (await this.whole).update(bytes);
  }
}
