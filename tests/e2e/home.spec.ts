// The home page, deep links and the compatibility page, in the built app in real Chromium (SwiftShader WebGPU).
import { expect, test } from '@playwright/test';
import { listMatrixRows } from '../../src/lib/compat/matrix.ts';
import { HAS_FIXTURES } from '../support/fixtures.ts';
import { startRangeServer, type RangeServer } from '../support/range-server.ts';
import { STORIES } from './inspect-model-files.ts';

test('home offers every way to open a model and reports this browser\'s WebGPU', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByLabel('Hugging Face repository, link or file URL')).toBeVisible();
  await expect(page.getByText('Choose files…')).toBeVisible();
  await expect(page.getByRole('region', { name: 'Drop model files here' })).toBeVisible();
  const status = page.getByTestId('webgpu-status');
  await expect(status.locator('[data-state]')).toHaveAttribute('data-state', 'available');
  await expect(status.getByTestId('adapter')).toContainText('swiftshader');
  await expect(status).toContainText('shader-f16');
  await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Library' })).toHaveAttribute('href', '/library');
});

test('without WebGPU the home page says why and what to do', async ({ page }) => {
  // A browser without navigator.gpu (Firefox before 141, an old Safari, an insecure origin).
  await page.addInitScript(() => Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined }));
  await page.goto('/');
  const status = page.getByTestId('webgpu-status');
  await expect(status.locator('[data-state]')).toHaveAttribute('data-state', 'unavailable');
  await expect(status).toContainText('navigator.gpu is missing');
  await expect(status).toContainText('companion');
});

test('an empty reference asks for one instead of navigating', async ({ page }) => {
  await page.goto('/');
  await page.getByRole('button', { name: 'Inspect' }).click();
  await expect(page.getByRole('alert')).toContainText('Enter a Hugging Face repository');
  await expect(page).toHaveURL(/\/$/);
});

test.describe('deep link', () => {
  test.skip(!HAS_FIXTURES, 'needs ../shared/fixtures (the real model files)');
  let server: RangeServer;
  test.beforeAll(async () => {
    server = await startRangeServer({ '/stories260K.gguf': STORIES });
  });
  test.afterAll(async () => server?.close());

  test('/?model=<url> opens that model\'s page in "try it now" mode', async ({ page }) => {
    // Always ask before downloading: the page stays put (tests/e2e/try-it-now.spec.ts follows the link to the chat).
    await page.addInitScript(() => localStorage.setItem('rbee-web:try-ask-above-mib', '0'));
    const url = `${server.url}/stories260K.gguf`;
    await page.goto(`/?model=${encodeURIComponent(url)}`);
    await expect(page).toHaveURL(`/model?model=${encodeURIComponent(url)}&try=1`);
    await expect(page.getByTestId('architecture')).toHaveText('llama');
    await expect(page.getByTestId('confirm-large')).toBeVisible();
    await expect(page.getByRole('link', { name: 'Run in browser' })).toHaveAttribute('href', `/chat?model=${encodeURIComponent(url)}`);
  });
});

test('/compat shows the whole matrix with its legend', async ({ page }) => {
  const rows = listMatrixRows();
  await page.goto('/compat');
  await expect(page.getByTestId('compat-table').locator('tbody tr')).toHaveCount(rows.length);
  for (const word of ['verified', 'expected', 'planned', 'unsupported']) {
    await expect(page.getByRole('region', { name: 'What the badges mean' })).toContainText(word);
  }
  await expect(page.getByText('The honesty rule:')).toBeVisible();
  const q4k = rows.find((r) => r.architecture === 'llama' && r.format === 'gguf' && r.weightType === 'Q4_K')!;
  await page.getByLabel('Architecture').selectOption('llama');
  await page.getByLabel('Format').selectOption('gguf');
  await page.getByLabel('Weight type').fill('Q4_K');
  const row = page.getByTestId('compat-table').locator('tbody tr');
  await expect(row).toHaveCount(1);
  await expect(row.getByTestId('verdict-badge').first()).toHaveAttribute('data-confidence', q4k.cells.webgpu.confidence);
});
