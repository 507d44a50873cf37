// Downloading a model to this device, in the built app, in real Chromium, into its real IndexedDB, from a local
// server that answers Range requests: a connection cut midway resumes from the stored chunks (and only the missing
// bytes travel again), and a file that changed on the server starts over. (A quota smaller than the model:
// tests/e2e/quota.spec.ts, with the DevTools quota override made visible to navigator.storage.estimate().)
import { expect, test, type Page } from '@playwright/test';
import { startRangeServer, type RangeServer } from '../support/range-server.ts';
import { cutResponsesFrom, MiB, sha256, sixteenMibGguf, stopCutting, storedFile } from './cache-support.ts';

let server: RangeServer;
const FIRST = sixteenMibGguf('sixteen MiB');
// Same size, other bytes: what a re-uploaded file on the hub looks like.
const SECOND = sixteenMibGguf('sixteen MiX');

test.beforeAll(async () => {
  server = await startRangeServer({ '/resume.gguf': FIRST, '/changing.gguf': FIRST });
});
test.afterAll(async () => server?.close());
test.afterEach(() => {
  stopCutting(server);
  server.options.latencyMs = 0;
});
// Reading the header, estimating storage and hashing chunks share two CPU cores with the browser here: be patient.
test.use({ actionTimeout: 20_000 });
const SLOW = { timeout: 60_000 };

test.beforeEach(async ({ page }) => {
  // 4 MiB chunks (the library's chunk-size setting): the 16 MiB file is five Range requests.
  await page.addInitScript(() => localStorage.setItem('rbee-web:download-chunk-mib', '4'));
});

async function openModelPage(page: Page, path: string): Promise<string> {
  const url = `${server.url}${path}`;
  await page.goto(`/model?model=${encodeURIComponent(url)}`);
  await expect(page.getByTestId('download-state')).toHaveAttribute('data-state', 'none', SLOW);
  return url;
}

test('a download cut off by the server resumes from the stored chunks; the stored bytes hash equal to the file', async ({ page }) => {
  const url = await openModelPage(page, '/resume.gguf');
  await expect(page.getByTestId('download-to-device')).toContainText(/Needs 16 MiB, .* free/, SLOW);
  // The probe and the first three chunks arrive; every response after them is cut 1 MiB in.
  cutResponsesFrom(server, 5, MiB);
  await page.getByRole('button', { name: 'Download to this device' }).click();
  await expect(page.getByTestId('error')).toHaveAttribute('data-code', 'network', { timeout: 60_000 });
  await expect(page.getByTestId('error')).toContainText('resumes from the last complete chunk');
  const partial = (await storedFile(page, url))!;
  expect(partial.complete).toBe(false);
  expect(partial.doneChunks).toBeGreaterThanOrEqual(3);
  expect(partial.doneChunks).toBeLessThan(partial.chunkCount);
  // Nothing half-counted: every chunk the manifest counts is stored.
  expect(partial.storedChunks).toBe(partial.doneChunks);

  // The library lists it as partial; "Resume" fetches only what is missing.
  await page.goto('/library');
  const row = page.getByTestId('library-row');
  await expect(row).toHaveAttribute('data-complete', 'false');
  await expect(row.getByTestId('partial')).toContainText('of 16 MiB');
  stopCutting(server);
  server.resetStats();
  await row.getByRole('button', { name: 'Resume' }).click();
  await expect(row).toHaveAttribute('data-complete', 'true', { timeout: 60_000 });
  // Bytes sent again: exactly the missing chunks and a 1-byte probe.
  expect(server.stats.get('/resume.gguf')!.bytesSent).toBe(FIRST.byteLength - partial.storedBytes + 1);
  const done = (await storedFile(page, url))!;
  expect(done.complete).toBe(true);
  expect(done.sha256).toBe(sha256(FIRST));
});

test('a file that changed on the server (new ETag) starts over, with a message', async ({ page }) => {
  const url = await openModelPage(page, '/changing.gguf');
  cutResponsesFrom(server, 5, MiB);
  await page.getByRole('button', { name: 'Download to this device' }).click();
  await expect(page.getByTestId('error')).toHaveAttribute('data-code', 'network', { timeout: 60_000 });
  expect((await storedFile(page, url))!.doneChunks).toBeGreaterThanOrEqual(3);

  stopCutting(server);
  server.setFile('/changing.gguf', SECOND);
  await page.getByRole('button', { name: 'Resume download' }).click();
  await expect(page.getByTestId('download-message')).toContainText('changed on the server since the download began');
  await expect(page.getByTestId('download-message')).toContainText('starting over');
  await expect(page.getByTestId('download-state')).toHaveAttribute('data-state', 'complete', { timeout: 60_000 });
  const done = (await storedFile(page, url))!;
  expect(done.sha256).toBe(sha256(SECOND));
  expect(done.sha256).not.toBe(sha256(FIRST));
});
