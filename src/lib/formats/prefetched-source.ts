/**
 * PrefetchedSource: a ByteSource whose first bytes were read once (to sniff the format) and are served from memory
 * to the parser that reads them next, so opening a model costs no extra request for the sniff. The prefetch is the
 * GGUF reader's first window, so a GGUF whose header fits in it is inspected in one request; it also holds the
 * whole header of nearly every SafeTensors file and any config / index JSON.
 */
import type { ByteSource, ByteSourceStats } from './byte-source.ts';
import { GGUF_INITIAL_READ } from './gguf-reader.ts';

export const PREFETCH_BYTES = GGUF_INITIAL_READ;

export class PrefetchedSource implements ByteSource {
  private head: Uint8Array | undefined;

  constructor(
    readonly inner: ByteSource,
    private readonly prefetchBytes = PREFETCH_BYTES,
  ) {}

  get name(): string {
    return this.inner.name;
  }
  get location(): string {
    return this.inner.location;
  }
  get stats(): ByteSourceStats {
    return this.inner.stats;
  }

  /** Reads (once) and returns the first bytes of the file: fewer when the file is shorter. */
  async prefetch(signal?: AbortSignal): Promise<Uint8Array> {
    this.head ??= await this.inner.read(0, this.prefetchBytes, signal);
    return this.head;
  }

  size(): Promise<number> {
    return this.inner.size();
  }

  async read(offset: number, length: number, signal?: AbortSignal): Promise<Uint8Array> {
    const head = this.head;
    if (!head || !Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
      return this.inner.read(offset, length, signal); // the inner source raises its own errors for bad ranges
    }
    const wholeFile = head.byteLength < this.prefetchBytes; // a short prefetch ended at the end of the file
    const end = offset + length;
    if (end <= head.byteLength || wholeFile) return head.slice(Math.min(offset, head.byteLength), Math.min(end, head.byteLength));
    if (offset >= head.byteLength) return this.inner.read(offset, length, signal);
    // Starts inside the prefetch: fetch only the rest.
    const rest = await this.inner.read(head.byteLength, end - head.byteLength, signal);
    const out = new Uint8Array(head.byteLength - offset + rest.byteLength);
    out.set(head.subarray(offset));
    out.set(rest, head.byteLength - offset);
    return out;
  }
}
