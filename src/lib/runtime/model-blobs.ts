/**
 * A model's files as Blobs, for the CPU engine (llama.cpp's WebAssembly build takes Blobs and reads them from its own
 * worker): a local File as it is; a file in the download cache as its stored chunks' Blobs joined into one Blob
 * (CachedFileSource.blob(): no byte read, never one copied ArrayBuffer of the whole file); anything else (a URL) read
 * in ranges into Blob parts, so the browser keeps the bytes in its blob store (on disk when large), not in the JS heap.
 */
import { CachedFileSource } from '../cache/cached-source.ts';
import { RbeeError } from '../errors.ts';
import { BlobByteSource } from '../formats/blob-source.ts';
import type { ByteSource } from '../formats/byte-source.ts';

/** Bytes per HTTP range request while reading a remote file into Blob parts. */
export const REMOTE_READ_BYTES = 16 * 1024 * 1024;

export interface BlobsProgress {
  loadedBytes: number;
  totalBytes: number;
  /** The file being read now. */
  file: string;
  /** Where the bytes come from: the network (fetching) or this device (the cache, a local file). */
  from: 'network' | 'device';
}

export async function sourcesAsBlobs(sources: readonly ByteSource[], onProgress?: (p: BlobsProgress) => void, signal?: AbortSignal): Promise<Blob[]> {
  const sizes = await Promise.all(sources.map((s) => s.size()));
  const totalBytes = sizes.reduce((a, b) => a + b, 0);
  let done = 0;
  const blobs: Blob[] = [];
  for (const [i, source] of sources.entries()) {
    const report = (fileBytes: number, from: BlobsProgress['from']) => onProgress?.({ loadedBytes: done + fileBytes, totalBytes, file: source.name, from });
    blobs.push(await sourceAsBlob(source, sizes[i]!, report, signal));
    done += sizes[i]!;
  }
  return blobs;
}

async function sourceAsBlob(source: ByteSource, size: number, report: (bytes: number, from: BlobsProgress['from']) => void, signal?: AbortSignal): Promise<Blob> {
  const aborted = () => {
    if (signal?.aborted) throw new RbeeError('aborted', 'Loading was stopped.');
  };
  aborted();
  if (source instanceof BlobByteSource) {
    report(size, 'device');
    return source.blob;
  }
  if (source instanceof CachedFileSource) {
    const blob = await source.blob();
    report(blob.size, 'device');
    return blob;
  }
  const parts: Blob[] = [];
  let read = 0;
  while (read < size) {
    aborted();
    const bytes = await source.read(read, Math.min(REMOTE_READ_BYTES, size - read), signal);
    if (bytes.byteLength === 0) break;
    parts.push(new Blob([bytes as Uint8Array<ArrayBuffer>]));
    read += bytes.byteLength;
    report(read, 'network');
  }
  if (read !== size) {
    throw new RbeeError('truncated', `${source.name} ended after ${read} of ${size} bytes.`, { hint: 'Load the model again; if it repeats, the file on the server is incomplete.' });
  }
  return new Blob(parts);
}
