/**
 * NodeFileSource: a file on disk, read with positioned reads (for the CLI and tests; Node only — never import it
 * from code that runs in the browser).
 */
import { open, type FileHandle } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { RbeeError } from '../errors.ts';
import { checkRange } from './blob-source.ts';
import type { ByteSource, ByteSourceStats } from './byte-source.ts';

export class NodeFileSource implements ByteSource {
  readonly stats: ByteSourceStats = { bytesRead: 0, requests: 0 };
  readonly name: string;
  readonly location: string;

  private constructor(
    private readonly handle: FileHandle,
    private readonly bytes: number,
    path: string,
  ) {
    this.name = basename(path);
    this.location = resolve(path);
  }

  static async open(path: string): Promise<NodeFileSource> {
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === 'ENOENT') throw new RbeeError('not-found', `No such file: ${path}`, { cause: e });
      throw new RbeeError('network', `Cannot open ${path}: ${(e as Error).message}`, { cause: e });
    }
    const { size } = await handle.stat();
    return new NodeFileSource(handle, size, path);
  }

  size(): Promise<number> {
    return Promise.resolve(this.bytes);
  }

  async read(offset: number, length: number, signal?: AbortSignal): Promise<Uint8Array> {
    checkRange(offset, length);
    if (signal?.aborted) throw new RbeeError('aborted', 'Cancelled.');
    const n = Math.max(0, Math.min(length, this.bytes - offset));
    const out = new Uint8Array(n);
    let done = 0;
    while (done < n) {
      const { bytesRead } = await this.handle.read(out, done, n - done, offset + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    this.stats.requests++;
    this.stats.bytesRead += done;
    return done === n ? out : out.subarray(0, done);
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}
