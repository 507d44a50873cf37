/**
 * Download settings saved in this browser.
 * - How downloads are cut into Range requests: the chunk size, 32 MiB by default (see downloader.ts); smaller chunks
 *   lose less to a cut connection, larger ones cost fewer round trips. The end-to-end tests set a small size here to
 *   cut a small file into several chunks.
 * - Above which size a "try it now" link asks before downloading (1 GiB by default): below it the download starts on
 *   its own. The end-to-end tests lower it to see the question with a small model. The settings page (Downloads) sets it, beside
 *   the chunk size.
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

const TRY_KEY = 'rbee-web:try-ask-above-mib';
export const DEFAULT_TRY_ASK_ABOVE_MIB = 1024;

/** Bytes up to which a "try it now" link downloads without asking (0: always ask). */
export function tryAskAboveBytes(): number {
  try {
    const raw = globalThis.localStorage?.getItem(TRY_KEY);
    const saved = raw === null || raw === undefined || raw.trim() === '' ? NaN : Number(raw);
    if (Number.isFinite(saved) && saved >= 0) return saved * MiB;
  } catch {
    // storage disabled: the default
  }
  return DEFAULT_TRY_ASK_ABOVE_MIB * MiB;
}

/** The saved "ask above" size in MiB, as the settings field shows it. */
export function tryAskAboveMib(): number {
  return tryAskAboveBytes() / MiB;
}

/** Up to 1 TiB: a larger number is a typo, not a wish to download anything without a question. */
export const MAX_TRY_ASK_ABOVE_MIB = 1024 * 1024;

/**
 * What the user typed into the "ask above" field, as MiB to save: a whole number from 0 (always ask) to
 * MAX_TRY_ASK_ABOVE_MIB; undefined for anything else (the field says so and nothing is saved).
 */
export function parseTryAskAboveMib(text: string): number | undefined {
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed)) return undefined;
  const mib = Number(trimmed);
  return mib <= MAX_TRY_ASK_ABOVE_MIB ? mib : undefined;
}

export function saveTryAskAboveMib(mib: number): void {
  try {
    if (Number.isFinite(mib) && mib >= 0) globalThis.localStorage?.setItem(TRY_KEY, String(mib));
  } catch {
    // storage disabled: the setting lasts for this page only
  }
}
