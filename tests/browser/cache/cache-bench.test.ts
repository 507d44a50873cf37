// The measurements behind bench/cache-browser.ts, on a 4 MB file in real Chromium (IndexedDB, WebGPU): each path
// moves every byte of the file and reports a time, the cached copy is the file (hub SHA-256 checked), and clearing
// it leaves nothing to read. The file is a Blob URL: Chromium answers Range requests on blob: URLs with 206 and
// Content-Range, which is all the downloader needs from a server.
import { expect, test } from 'vitest';
import {
  cacheCheck,
  cacheRead,
  cacheToGpu,
  clearCache,
  downloadToCache,
  fetchToGpu,
  machine,
  plainFetch,
  rangeToGpu,
  type Timing,
} from '../../../bench/cache-browser-page.ts';
import { Sha256 } from '../../../src/lib/cache/sha256.ts';
import { seeded } from '../../support/seeded-random.ts';

const SIZE = 4_000_000;

function moved(t: Timing): void {
  expect(t.bytes).toBe(SIZE);
  expect(t.ms).toBeGreaterThan(0);
}

test('every bench path moves the whole 4 MB file and reports a time; the cached copy clears', async () => {
  const random = seeded(6);
  const file = new Uint8Array(SIZE);
  for (let i = 0; i < SIZE; i++) file[i] = (random() * 256) | 0;
  const url = URL.createObjectURL(new Blob([file]));
  try {
    moved(await plainFetch(url));
    moved(await fetchToGpu(url));
    moved(await rangeToGpu(url));

    const copy = await downloadToCache(url, { dbName: `cache-bench-${Date.now()}`, chunkSize: 1 << 20, parallel: 3, sha256: (await Sha256.create()).update(file).hex() });
    moved(copy);
    moved(await cacheRead(copy));
    moved(await cacheCheck(copy));
    moved(await cacheToGpu(copy));

    const wrong = downloadToCache(url, { dbName: `cache-bench-bad-${Date.now()}`, chunkSize: 1 << 20, sha256: '0'.repeat(64) });
    await expect(wrong).rejects.toMatchObject({ code: 'checksum' });

    await clearCache(copy);
    await expect(cacheRead(copy)).rejects.toMatchObject({ code: 'not-found' });

    const m = await machine();
    expect(m.hardwareConcurrency).toBeGreaterThan(0);
    expect(m.maxBinding).toBeGreaterThan(0);
  } finally {
    URL.revokeObjectURL(url);
  }
}, 120_000);
