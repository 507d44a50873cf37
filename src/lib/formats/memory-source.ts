/** MemoryByteSource: bytes already in memory (tests, fuzzing, files produced in the page). */
import { RbeeError } from '../errors.ts';
import { checkRange } from './blob-source.ts';
import type { ByteSource, ByteSourceStats } from './byte-source.ts';

export class MemoryByteSource implements ByteSource {
  readonly stats: ByteSourceStats = { bytesRead: 0, requests: 0 };
  readonly location: string;

  constructor(
    private readonly bytes: Uint8Array,
    readonly name = 'memory',
  ) {
    this.location = `memory:${name}`;
  }

  size(): Promise<number> {
    return Promise.resolve(this.bytes.byteLength);
  }

  async read(offset: number, length: number, signal?: AbortSignal): Promise<Uint8Array> {
    checkRange(offset, length);
    if (signal?.aborted) throw new RbeeError('aborted', 'Cancelled.');
    const out = this.bytes.subarray(Math.min(offset, this.bytes.byteLength), Math.min(offset + length, this.bytes.byteLength));
    this.stats.requests++;
    this.stats.bytesRead += out.byteLength;
    return out;
  }
}
