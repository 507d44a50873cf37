/**
 * BlobByteSource: a local File (dropped or picked) or any Blob, read with Blob.slice(), so only the requested
 * bytes are ever loaded into memory — inspecting a 40 GB file reads its header only.
 */
import { RbeeError, toRbeeError } from '../errors.ts';
import type { ByteSource, ByteSourceStats } from './byte-source.ts';

export class BlobByteSource implements ByteSource {
  readonly name: string;
  readonly location: string;
  readonly stats: ByteSourceStats = { bytesRead: 0, requests: 0 };

  constructor(
    /** The file itself (the CPU engine hands it to llama.cpp as it is). */
    readonly blob: Blob,
    name?: string,
  ) {
    this.name = name ?? (typeof File !== 'undefined' && blob instanceof File ? blob.name : 'blob');
    this.location = `file:${this.name}`;
  }

  size(): Promise<number> {
    return Promise.resolve(this.blob.size);
  }

  async read(offset: number, length: number, signal?: AbortSignal): Promise<Uint8Array> {
    checkRange(offset, length);
    if (signal?.aborted) throw new RbeeError('aborted', 'Cancelled.');
    const end = Math.min(this.blob.size, offset + length);
    if (offset >= end) return new Uint8Array(0);
    let buffer: ArrayBuffer;
    try {
      buffer = await this.blob.slice(offset, end).arrayBuffer();
    } catch (e) {
      // A File whose underlying disk file changed or vanished after it was picked fails here (NotReadableError).
      const err = toRbeeError(e);
      if (err.code !== 'internal') throw err;
      throw new RbeeError('network', `Could not read ${this.name}: ${err.message}`, {
        hint: 'The file may have been moved or changed since it was opened; open it again.',
        cause: e,
      });
    }
    if (signal?.aborted) throw new RbeeError('aborted', 'Cancelled.');
    this.stats.requests++;
    this.stats.bytesRead += buffer.byteLength;
    return new Uint8Array(buffer);
  }
}

/** Offsets and lengths come from parsers reading untrusted files: reject nonsense before touching the medium. */
export function checkRange(offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
    throw new RbeeError('bad-offset', `Invalid byte range: ${length} bytes at offset ${offset}.`);
  }
}
