// Two tabs on one cache (issue 13, item 4), in the built app, in real Chromium, with its Web Locks and IndexedDB:
// the library in one tab deletes a model while the other tab downloads it. The download stops and says why; nothing
// is left that claims bytes it lacks; downloading again works. (The repair path: tests/node/cache/two-tabs.test.ts.)
import { expect, test } from '@playwright/test';
import { startRangeServer, type RangeServer } from '../support/range-server.ts';
import { sha256, sixteenMibGguf, storedFile } from './cache-support.ts';

const FILE = sixteenMibGguf('two tabs');
let server: RangeServer;

test.beforeAll(async () => {
  server = await startRangeServer({ '/two-tabs.gguf': FILE });
});
test.afterAll(async () => server?.close());
test.use({ actionTimeout: 20_000 });
const SLOW = { timeout: 60_000 };

test('deleting in one tab while the other downloads: the download stops, nothing half-claimed remains, a new download works', async ({ context, page: downloader }) => {
  // 1 MiB chunks: the 16 MiB file is 17 Range requests, three at a time, each answered after 1.5 s: the download
  // runs ~9 s, time enough to delete it midway.
  await context.addInitScript(() => localStorage.setItem('rbee-web:download-chunk-mib', '1'));
  const url = `${server.url}/two-tabs.gguf`;
  const library = await context.newPage();
  library.on('dialog', (d) => void d.accept());
  await library.goto('/library');
  await downloader.bringToFront();
  await downloader.goto(`/model?model=${encodeURIComponent(url)}`);
  await expect(downloader.getByTestId('download-state')).toHaveAttribute('data-state', 'none', SLOW);
  server.options.latencyMs = 1500;
  await downloader.getByRole('button', { name: 'Download to this device' }).click();
  await expect.poll(async () => (await storedFile(downloader, url))?.doneChunks ?? 0, SLOW).toBeGreaterThanOrEqual(1);

  await library.reload();
  const row = library.getByTestId('library-row');
  await expect(row).toHaveAttribute('data-complete', 'false');
  await row.getByRole('button', { name: 'Delete' }).click();
  await expect(library.getByTestId('library-row')).toHaveCount(0, SLOW);

  // The downloading tab learns at its next chunk, stops, and says why.
  await expect(downloader.getByTestId('error')).toContainText('deleted from this device', SLOW);
  server.options.latencyMs = 0;
  // Nothing in IndexedDB names the file any more: no manifest that claims chunks, no orphan chunks.
  const keys = await library.evaluate(async (encoded) => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const r = indexedDB.open('rbee-cache');
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
    const all = await new Promise<IDBValidKey[]>((resolve, reject) => {
      const r = db.transaction('files', 'readonly').objectStore('files').getAllKeys();
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
    db.close();
    return all.map(String).filter((k) => k.includes(encoded));
  }, encodeURIComponent(url));
  expect(keys).toEqual([]);
  await library.reload();
  await expect(library.getByTestId('library-row')).toHaveCount(0);

  // Downloading again from the first tab works, and the stored bytes are the file's.
  await downloader.getByRole('button', { name: 'Download to this device' }).click();
  await expect(downloader.getByTestId('download-state')).toHaveAttribute('data-state', 'complete', SLOW);
  const done = (await storedFile(downloader, url))!;
  expect(done.complete).toBe(true);
  expect(done.storedChunks).toBe(done.chunkCount);
  expect(done.sha256).toBe(sha256(FILE));
  await library.reload();
  await expect(library.getByTestId('library-row')).toHaveAttribute('data-complete', 'true', SLOW);
});
