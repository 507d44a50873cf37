/**
 * How downloads are cut into Range requests: the chunk size, saved in this browser. 32 MiB by default (see
 * downloader.ts); smaller chunks lose less to a cut connection, larger ones cost fewer round trips. The end-to-end
 * tests set a small size here to cut a small file into several chunks.
 */
import { DEFAULT_CHUNK_SIZE } from '../../cache/downloader.ts';

const KEY = 'rbee-web:download-chunk-mib';
const MiB = 1024 ** 2;
export const CHUNK_SIZE_CHOICES_MIB = [1, 4, 8, 16, 32, 64] as const;

export function downloadChunkSize(): number {
  try {
    const saved = Number(globalThis.localStorage?.getItem(KEY));
    if ((CHUNK_SIZE_CHOICES_MIB as readonly number[]).includes(saved)) return saved * MiB;
  } catch {
    // storage disabled: the default
  }
  return DEFAULT_CHUNK_SIZE;
}

export function saveDownloadChunkSize(mib: number): void {
  try {
    globalThis.localStorage?.setItem(KEY, String(mib));
  } catch {
    // storage disabled: the setting lasts for this page only
  }
}
