// The installed app without the network: after stories260K is downloaded to this device, going offline and reloading
// still shows the library (the service worker serves the app shell), and the chat loads the model from IndexedDB and
// generates.
import { expect, test } from '@playwright/test';
import { HAS_FIXTURES } from '../support/fixtures.ts';
import { startRangeServer, type RangeServer } from '../support/range-server.ts';
import { STORIES } from './inspect-model-files.ts';

test.skip(!HAS_FIXTURES, 'needs ../shared/fixtures (the real model files)');

let server: RangeServer;
test.beforeAll(async () => {
  server = await startRangeServer({ '/stories260K.gguf': STORIES });
});
test.afterAll(async () => server?.close());

test('offline: the library still lists the downloaded model, and the chat loads it from the cache and generates', async ({ page, context }) => {
  await page.goto(`/model?model=${encodeURIComponent(`${server.url}/stories260K.gguf`)}`);
  // The app shell must be cached and the page controlled before the network goes.
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, { timeout: 90_000 });
  await page.getByRole('button', { name: 'Download to this device' }).click();
  await expect(page.getByTestId('download-state')).toHaveAttribute('data-state', 'complete', { timeout: 60_000 });
  await expect(page.getByTestId('persistence')).toBeVisible();

  await page.goto('/library');
  await expect(page.getByTestId('library-row')).toHaveAttribute('data-complete', 'true');

  await context.setOffline(true);
  server.resetStats();
  await page.reload();
  await expect(page.getByTestId('offline-banner')).toBeVisible();
  const row = page.getByTestId('library-row');
  await expect(row).toHaveAttribute('data-complete', 'true');
  await row.getByRole('link', { name: 'Chat' }).click();
  await expect(page.getByTestId('chat-model-name')).toBeVisible({ timeout: 90_000 });
  await page.getByTestId('temperature').fill('0');
  await page.getByTestId('max-tokens').fill('16');
  await page.getByTestId('prompt').fill('Once upon a time');
  await page.getByTestId('send').click();
  await expect(page.getByTestId('assistant-message')).not.toHaveText(/^\s*$/, { timeout: 60_000 });
  await expect(page.getByTestId('decode-speed')).toBeVisible({ timeout: 60_000 });
  // Nothing reached the model server while offline.
  expect(server.totals().requests).toBe(0);
});
