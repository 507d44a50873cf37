// Opening a model every way the app offers, in the built app, in real Chromium: by URL from a server that honours
// Range, from a local file, from a Hugging Face repository on a local hub; broken and hostile files; a big header.
import { expect, test, type Page } from '@playwright/test';
import { copyFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { matrixCell } from '../../src/lib/compat/matrix.ts';
import { HAS_FIXTURES } from '../support/fixtures.ts';
import { startRangeServer, type RangeServer } from '../support/range-server.ts';
import { bigWeightsGguf, HOSTILE, hostileGguf, legacyGgjt, manyTensorsGguf, STORIES, TINY_RANDOM, truncatedGguf } from './inspect-model-files.ts';

test.skip(!HAS_FIXTURES, 'needs ../shared/fixtures (the real model files)');

const REPO = 'rbee-test/tiny-llamas';
let server: RangeServer;
const BIG_WEIGHTS = bigWeightsGguf();

test.beforeAll(async () => {
  const listing = [
    { type: 'file', path: 'README.md', size: 10 },
    { type: 'file', path: 'stories260K-F32.gguf', size: statSync(STORIES).size },
    { type: 'file', path: 'llama-2-tiny-random-F16.gguf', size: statSync(TINY_RANDOM).size },
  ];
  server = await startRangeServer({
    '/stories260K.gguf': STORIES,
    '/hostile.gguf': hostileGguf(),
    '/many.gguf': manyTensorsGguf(5000),
    '/big.gguf': BIG_WEIGHTS,
    '/truncated.gguf': truncatedGguf(),
    '/old-model.bin': legacyGgjt(),
    // A local stand-in for the Hugging Face hub: the tree API and /resolve/ file URLs.
    [`/api/models/${REPO}/tree/main`]: new TextEncoder().encode(JSON.stringify(listing)),
    [`/${REPO}/resolve/main/stories260K-F32.gguf`]: STORIES,
    [`/${REPO}/resolve/main/llama-2-tiny-random-F16.gguf`]: TINY_RANDOM,
  });
});
test.afterAll(async () => server?.close());

// What the matrix says today for an all-F32 llama GGUF on WebGPU; the page must show the same.
const STORIES_CONFIDENCE = matrixCell('llama', 'gguf', 'F32', 'webgpu').confidence;

async function expectStoriesPage(page: Page): Promise<void> {
  await expect(page.getByTestId('architecture')).toHaveText('llama');
  await expect(page.getByTestId('verdict').getByTestId('verdict-badge').first()).toHaveAttribute('data-confidence', STORIES_CONFIDENCE);
  await expect(page.getByTestId('tensor-count')).toHaveText('48 of 48 tensors');
  await expect(page.getByTestId('tensor-table')).toContainText('token_embd.weight');
  await expect(page.getByTestId('descriptor')).toContainText('512 tokens');
}

test('open a model by URL: the header is read over Range, never the weights', async ({ page }) => {
  await page.goto('/');
  await page.getByLabel('Hugging Face repository, link or file URL').fill(`${server.url}/stories260K.gguf`);
  await page.getByRole('button', { name: 'Inspect' }).click();
  await expect(page).toHaveURL(/\/model\?model=/);
  await expectStoriesPage(page);
  expect(server.stats.get('/stories260K.gguf')!.rangeRequests).toBeGreaterThan(0);

  // A file with 16 MiB of weights behind a small header: the page reads the header and not the weights.
  await page.goto(`/model?model=${encodeURIComponent(`${server.url}/big.gguf`)}`);
  await expect(page.getByTestId('weight-types')).toContainText('16 MiB');
  const sent = server.stats.get('/big.gguf')!;
  expect(sent.bytesSent).toBeLessThan(BIG_WEIGHTS.byteLength / 4);
});

test('open a local file through the file picker', async ({ page }) => {
  await page.goto('/');
  await page.locator('#model-files').setInputFiles(STORIES);
  await expect(page).toHaveURL(/\/model\?local=/);
  await expectStoriesPage(page);
  // general.name is just "llama" (the architecture): the title is the file's name.
  await expect(page.getByTestId('model-name')).toHaveText('stories260K');
  // Files live in this tab only: after a reload the page says so instead of showing nothing.
  await page.reload();
  await expect(page.getByRole('alert')).toContainText('no longer open');
});

test('a picked folder of models lists each one; another opens from the list', async ({ page }) => {
  const folder = mkdtempSync(join(tmpdir(), 'rbee-models-'));
  // Copies in a temporary folder (Playwright's folder upload does not follow symlinks); removed below.
  copyFileSync(STORIES, join(folder, 'stories260K.gguf'));
  copyFileSync(TINY_RANDOM, join(folder, 'llama-2-tiny-random.gguf'));
  try {
    await page.goto('/');
    await page.locator('#model-folder').setInputFiles(folder);
    const files = page.getByTestId('repo-files');
    await expect(files.locator('tbody tr')).toHaveCount(2);
    await expect(page.getByRole('heading', { name: /Models in these files/ })).toBeVisible();
    const unopened = files.locator('tbody tr', { hasNot: page.getByText('shown here') });
    await unopened.getByRole('link', { name: 'Open' }).click();
    await expect(page).toHaveURL(/local=.*&file=/);
    await expect(page.getByTestId('architecture')).toHaveText('llama');
    await expect(files.locator('tbody tr', { hasText: 'shown here' })).toHaveCount(1);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});

test('a Hugging Face repository lists its model files with verdicts and opens each', async ({ page }) => {
  await page.goto(`/?hub=${encodeURIComponent(server.url)}`);
  await page.getByLabel('Hugging Face repository, link or file URL').fill(REPO);
  await page.getByRole('button', { name: 'Inspect' }).click();
  const files = page.getByTestId('repo-files');
  await expect(files.locator('tbody tr')).toHaveCount(2);
  // The preferred quantization is opened first (F16 before F32); the other is guessed by name until read.
  await expect(page.getByTestId('architecture')).toHaveText('llama');
  const other = files.locator('tbody tr', { hasText: 'stories260K-F32.gguf' });
  await expect(other).toContainText('by name');
  await other.getByRole('button', { name: 'Check header' }).click();
  await expect(other.getByTestId('verdict-badge')).toHaveAttribute('data-confidence', STORIES_CONFIDENCE);
  await expect(other).not.toContainText('by name');
  await other.getByRole('link', { name: 'Open' }).click();
  await expect(page).toHaveURL(/file=stories260K-F32\.gguf/);
  await expectStoriesPage(page);

  // A model page link naming the repository and one of its files (the tab keeps the ?hub= it was given). ("Try it
  // now" links, /?model=…, go on to download and chat: tests/e2e/try-it-now.spec.ts.)
  await page.goto(`/model?model=${REPO}&file=llama-2-tiny-random-F16.gguf`);
  await expect(page.getByTestId('model-name')).toHaveText('LLaMA v2');
  await expect(page.getByTestId('descriptor')).toContainText('32,000 tokens');
});

test('the page says what it is doing while a slow server answers', async ({ page }) => {
  const slow = await startRangeServer({ '/stories260K.gguf': STORIES }, { latencyMs: 700 });
  try {
    await page.goto(`/model?model=${encodeURIComponent(`${slow.url}/stories260K.gguf`)}`);
    await expect(page.getByTestId('loading')).toContainText('stories260K.gguf', { timeout: 2500 });
    await expect(page.getByTestId('loading')).toContainText("Reading the model's header");
    // Each of the header's requests waits 0.7 s here.
    await expect(page.getByTestId('architecture')).toHaveText('llama', { timeout: 30_000 });
    await expectStoriesPage(page);
    await expect(page.getByTestId('loading')).toHaveCount(0);
  } finally {
    await slow.close();
  }
});

test('a truncated header shows what happened and what to do', async ({ page }) => {
  await page.goto(`/model?model=${encodeURIComponent(`${server.url}/truncated.gguf`)}`);
  const alert = page.getByTestId('error');
  await expect(alert).toBeVisible();
  await expect(alert).toHaveAttribute('data-code', 'truncated');
  await expect(alert.locator('.message')).not.toBeEmpty();
});

test('a legacy GGJT file is named as such, with the way forward', async ({ page }) => {
  await page.goto(`/model?model=${encodeURIComponent(`${server.url}/old-model.bin`)}`);
  const alert = page.getByTestId('error');
  await expect(alert).toHaveAttribute('data-code', 'legacy-ggml');
  await expect(alert).toContainText(/GGUF/);
});

test('HTML inside a model file is shown as text, never run', async ({ page }) => {
  await page.goto(`/model?model=${encodeURIComponent(`${server.url}/hostile.gguf`)}`);
  await expect(page.getByTestId('model-name')).toHaveText(HOSTILE);
  await expect(page.getByTestId('tensor-table')).toContainText('<svg onload="window.__xss=3">');
  await expect(page.getByTestId('metadata-table')).toContainText('<b>bold</b>');
  await page.getByRole('button', { name: /show all \d+ characters/ }).click();
  await expect(page.getByTestId('metadata-table')).toContainText('<script>window.__xss=2</script>');
  expect(await page.locator('main img, main svg[onload], main script, main b').count()).toBe(0);
  expect(await page.evaluate(() => (window as { __xss?: number }).__xss)).toBeUndefined();
});

test('5,000 tensors: the table renders a window of rows and filters instantly', async ({ page }) => {
  await page.goto(`/model?model=${encodeURIComponent(`${server.url}/many.gguf`)}`);
  await expect(page.getByTestId('tensor-count')).toHaveText('5,000 of 5,000 tensors');
  const rows = page.getByTestId('tensor-table').locator('tbody tr:not(.spacer)');
  expect(await rows.count()).toBeLessThan(100);
  await page.getByLabel('Filter tensors').fill('blk.4321.');
  await expect(page.getByTestId('tensor-count')).toHaveText('1 of 5,000 tensors');
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText('blk.4321.attn_q.weight');
});
