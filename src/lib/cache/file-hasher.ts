/**
 * The whole-file SHA-256 of a download, computed off the page's thread where a module worker can start (the app,
 * built by Vite: src/workers/file-hash.worker.ts), else on this thread in slices (Node, and pages whose bundler does
 * not emit the worker). Chunks are fed in file order; at most MAX_QUEUED_CHUNKS wait in the worker, so a hash slower
 * than the network holds bounded memory (the caller re-reads later chunks from the store instead).
 */
import { Sha256 } from './sha256.ts';

/** A whole-file SHA-256 fed in order; `update` resolves once the bytes are taken (not necessarily hashed yet). */
export interface FileHasher {
  /** True when the hashing runs in a worker, off the page's thread. */
  readonly offThread: boolean;
  update(bytes: Uint8Array): Promise<void>;
  hex(): Promise<string>;
  close(): void;
}

/** Chunks handed to the hashing worker and not yet hashed: bounds the memory a slow hash can hold. */
const MAX_QUEUED_CHUNKS = 2;
/** Hash this many bytes at a time on the page's thread, yielding between, so a 32 MiB chunk does not stall the page. */
const HASH_SLICE = 4 << 20;

export async function fileHasher(): Promise<FileHasher> {
  const worker = await startHashWorker();
  if (worker) return worker;
  const h = await Sha256.create();
  return {
    offThread: false,
    async update(bytes) {
      for (let at = 0; at < bytes.byteLength; at += HASH_SLICE) {
        if (at > 0) await new Promise((r) => setTimeout(r, 0));
        h.update(bytes.subarray(at, Math.min(bytes.byteLength, at + HASH_SLICE)));
      }
    },
    hex: async () => h.hex(),
    close: () => undefined,
  };
}

/** The hashing worker, once it says it is ready; undefined where none starts (then the caller hashes itself). */
async function startHashWorker(): Promise<FileHasher | undefined> {
  if (typeof Worker === 'undefined') return undefined;
  let worker: Worker;
  try {
    worker = new Worker(new URL('../../workers/file-hash.worker.ts', import.meta.url), { type: 'module', name: 'rbee-file-hash' });
  } catch {
    return undefined;
  }
  const started = await new Promise<boolean>((resolve) => {
    worker.onmessage = (e: MessageEvent<{ ready?: boolean }>) => resolve(e.data.ready === true);
    worker.onerror = () => resolve(false);
  });
  if (!started) {
    worker.terminate();
    return undefined;
  }
  let sent = 0;
  let accepted = 0;
  let failure: Error | undefined;
  const waiters: (() => void)[] = [];
  let digest: ((hex: string) => void) | undefined;
  const wake = (): void => {
    for (const w of waiters.splice(0)) w();
  };
  worker.onmessage = (e: MessageEvent<{ accepted?: number; hex?: string; error?: string }>) => {
    if (e.data.accepted !== undefined) accepted = e.data.accepted;
    if (e.data.hex !== undefined) digest?.(e.data.hex);
    if (e.data.error !== undefined) failure = new Error(`Hashing failed: ${e.data.error}`);
    wake();
  };
  worker.onerror = (e) => {
    failure = new Error(`The hashing worker failed: ${e.message}`);
    wake();
  };
  const until = async (ready: () => boolean): Promise<void> => {
    while (!ready() && !failure) await new Promise<void>((r) => waiters.push(r));
    if (failure) throw failure;
  };
  return {
    offThread: true,
    async update(bytes) {
      await until(() => sent - accepted < MAX_QUEUED_CHUNKS);
      worker.postMessage({ bytes });
      sent++;
    },
    async hex() {
      const hex = new Promise<string>((r) => (digest = r));
      await until(() => accepted === sent);
      worker.postMessage({ digest: true });
      const result = await Promise.race([hex, until(() => false).then(() => '')]);
      worker.terminate();
      return result;
    },
    close: () => worker.terminate(),
  };
}
