// What the download-cache end-to-end tests share: the model files they serve, a way to read what the app stored in
// IndexedDB (raw, without the app's code: the test checks the bytes, not the app's own view of them), and a server
// switch that cuts every response from the n-th on.
import { createHash } from 'node:crypto';
import type { Page } from '@playwright/test';
import { writeGguf, type GgufTyped } from '../support/gguf-writer.ts';
import type { RangeServer } from '../support/range-server.ts';

export const MiB = 1024 ** 2;

const metadata = (name: string): [string, GgufTyped][] => [
  ['general.architecture', { type: 'string', value: 'llama' }],
  ['general.name', { type: 'string', value: name }],
  ['llama.context_length', { type: 'u32', value: 256 }],
  ['llama.embedding_length', { type: 'u32', value: 1024 }],
  ['llama.block_count', { type: 'u32', value: 1 }],
  ['llama.attention.head_count', { type: 'u32', value: 8 }],
];

/** A GGUF with 16 MiB of patterned weights (so a misplaced chunk changes the hash); `name` varies its bytes. */
export function sixteenMibGguf(name: string): Uint8Array {
  const bytes = writeGguf({
    metadata: metadata(name),
    tensors: [{ name: 'token_embd.weight', dims: [1024, 4096], type: 0, dataSize: 16 * MiB }],
  });
  // The weights: a pattern that differs per 4-byte word, written after the header.
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const start = bytes.byteLength - 16 * MiB;
  for (let i = start; i + 4 <= bytes.byteLength; i += 4) view.setUint32(i, (i * 2654435761) >>> 0, true);
  return bytes;
}

export const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

export interface StoredFile {
  sha256: string | undefined;
  size: number;
  complete: boolean;
  storedChunks: number;
  doneChunks: number;
  /** Bytes of the chunks the manifest counts as done. */
  storedBytes: number;
  chunkCount: number;
}

/** Reads a cached file straight from IndexedDB ('rbee-cache' / 'files': m/<id> manifest, c/<id>/<i> chunks). */
export async function storedFile(page: Page, id: string): Promise<StoredFile | undefined> {
  return page.evaluate(async (fileId) => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const r = indexedDB.open('rbee-cache');
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
    if (!db.objectStoreNames.contains('files')) return undefined;
    const get = (key: IDBValidKey | IDBKeyRange, all = false): Promise<unknown> =>
      new Promise((resolve, reject) => {
        const s = db.transaction('files', 'readonly').objectStore('files');
        const r = all ? s.getAllKeys(key) : s.get(key);
        r.onsuccess = () => resolve(r.result);
        r.onerror = () => reject(r.error);
      });
    const enc = encodeURIComponent(fileId);
    const m = (await get(`m/${enc}`)) as { size: number; chunkSize: number; complete: boolean; chunks: { done: boolean }[] } | undefined;
    if (!m) return undefined;
    const keys = (await get(IDBKeyRange.bound(`c/${enc}/`, `c/${enc}/\uffff`), true)) as string[];
    let hash: string | undefined;
    if (m.complete) {
      const whole = new Uint8Array(m.size);
      let at = 0;
      for (let i = 0; i < m.chunks.length; i++) {
        // Chunks are Blobs (caches written by earlier versions hold Uint8Arrays).
        const v = (await get(`c/${enc}/${i}`)) as Blob | Uint8Array;
        const c = v instanceof Blob ? new Uint8Array(await v.arrayBuffer()) : v;
        whole.set(c, at);
        at += c.byteLength;
      }
      const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', whole.subarray(0, at)));
      hash = Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
    }
    db.close();
    let storedBytes = 0;
    m.chunks.forEach((c, i) => {
      if (c.done) storedBytes += Math.min(m.size, (i + 1) * m.chunkSize) - i * m.chunkSize;
    });
    return { sha256: hash, size: m.size, complete: m.complete, storedChunks: keys.length, doneChunks: m.chunks.filter((c) => c.done).length, chunkCount: m.chunks.length, storedBytes };
  }, id);
}

/**
 * From the `from`-th response on (counting every body the server sends), the server cuts the connection after
 * `bytes` body bytes — a connection lost mid-download. The range server reads `failAfterBytes` once per response.
 */
export function cutResponsesFrom(server: RangeServer, from: number, bytes: number): void {
  let n = 0;
  Object.defineProperty(server.options, 'failAfterBytes', { configurable: true, get: () => (++n >= from ? bytes : undefined) });
}

export function stopCutting(server: RangeServer): void {
  Object.defineProperty(server.options, 'failAfterBytes', { configurable: true, writable: true, value: undefined });
}
