/**
 * The browser's storage budget for this origin: how much is free before a download starts (so a user hears "this
 * needs 4.1 GB and 2.3 GB is free" before waiting, not after), and whether the browser agreed to keep our data when
 * space runs low (navigator.storage.persist()). Both may be missing (Node, old browsers): then the answer says so.
 */
import { formatBytes } from '../quantities.ts';
import { RbeeError } from '../errors.ts';

export interface StorageEstimate {
  /** Bytes this origin may still use; undefined when the browser does not say. */
  freeBytes: number | undefined;
  quotaBytes: number | undefined;
  usageBytes: number | undefined;
}

interface StorageManagerLike {
  estimate?(): Promise<{ quota?: number; usage?: number }>;
  persist?(): Promise<boolean>;
  persisted?(): Promise<boolean>;
}

function storageManager(): StorageManagerLike | undefined {
  return typeof navigator === 'undefined' ? undefined : (navigator as { storage?: StorageManagerLike }).storage;
}

export async function estimateStorage(manager: StorageManagerLike | undefined = storageManager()): Promise<StorageEstimate> {
  if (!manager?.estimate) return { freeBytes: undefined, quotaBytes: undefined, usageBytes: undefined };
  try {
    const { quota, usage } = await manager.estimate();
    const free = quota !== undefined ? Math.max(0, quota - (usage ?? 0)) : undefined;
    return { freeBytes: free, quotaBytes: quota, usageBytes: usage };
  } catch {
    return { freeBytes: undefined, quotaBytes: undefined, usageBytes: undefined };
  }
}

/**
 * Asks the browser to keep the cache when space runs low. Resolves true / false as the browser answers (Chromium
 * says false without user engagement; an installed app usually gets true), undefined where the API is missing.
 */
export async function requestPersistence(manager: StorageManagerLike | undefined = storageManager()): Promise<boolean | undefined> {
  if (!manager?.persist) return undefined;
  try {
    if (manager.persisted && (await manager.persisted())) return true;
    return await manager.persist();
  } catch {
    return false;
  }
}

/** The message for "not enough space", the same before a download starts and when the browser refuses mid-way. */
export function quotaError(neededBytes: number, freeBytes: number | undefined, cause?: unknown): RbeeError {
  const free = freeBytes === undefined ? 'the browser would not store more' : `${formatBytes(freeBytes)} is free`;
  return new RbeeError('quota', `Not enough storage: this download needs ${formatBytes(neededBytes)} more and ${free}.`, {
    hint: 'Delete models you no longer use in the library (or free space in the browser settings), then resume the download.',
    cause,
  });
}
