// "Try it now" links (/?model=owner/repo[&file=…]) in the built app, in real Chromium, against a stand-in hub that
// answers Range requests: a small model downloads by itself with visible progress and the chat generates llama.cpp's
// continuation; above the "ask above" size (lowered here) the page asks first, with the size, and fetches no weights
// until asked; a model already stored goes straight to the chat with no download; a model that does not run here
// stays on its page with the verdict, and nothing is downloaded.
import { readFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { writeGguf } from '../support/gguf-writer.ts';
import { hubFiles } from '../support/prebuilt-repos.ts';
import { HAS_FIXTURES } from '../support/fixtures.ts';
import { startRangeServer, type RangeServer } from '../support/range-server.ts';
import { STORIES } from './inspect-model-files.ts';

test.skip(!HAS_FIXTURES, 'needs ../shared/fixtures (the real model files)');

const REPO = 'rbee-test/stories260K';
const FILE = 'stories260K-F32.gguf';
const FILE_PATH = `/${REPO}/resolve/main/${FILE}`;
const MiB = 1024 ** 2;
let hub: RangeServer;
let size = 0;

/** A llama header whose attention matrix is IQ1_S (type 19): a real ggml type the WebGPU engine does not run. */
function iq1Model(): Uint8Array {
  const u32 = (value: number) => ({ type: 'u32' as const, value });
  return writeGguf({
    metadata: [
      ['general.architecture', { type: 'string', value: 'llama' }],
      ['general.name', { type: 'string', value: 'iq1 model' }],
      ['llama.context_length', u32(256)],
      ['llama.embedding_length', u32(256)],
      ['llama.block_count', u32(1)],
      ['llama.feed_forward_length', u32(256)],
      ['llama.attention.head_count', u32(4)],
    ],
    tensors: [
      { name: 'token_embd.weight', dims: [256, 256], type: 0, dataSize: 256 * 256 * 4 },
      { name: 'blk.0.attn_q.weight', dims: [256, 256], type: 19, dataSize: 256 * 50 },
    ],
  });
}

test.beforeAll(async () => {
  const stories = new Uint8Array(readFileSync(STORIES));
  size = stories.byteLength;
  hub = await startRangeServer(
    hubFiles({
      [REPO]: {
        [FILE]: stories,
        // A second model file that is never the recommended one (IQ2_XXS is not on the preferred list): only listed.
        'stories260K-IQ2_XXS.gguf': new Uint8Array(4096),
      },
    }),
  );
  hub.setFile('/iq1.gguf', iq1Model());
});
test.afterAll(async () => hub?.close());
test.beforeEach(() => hub.resetStats());
test.afterEach(() => {
  hub.options.latencyMs = 0;
});

// Reading headers, hashing and loading on SwiftShader share two CPU cores here.
test.setTimeout(120_000);
const SLOW = { timeout: 60_000 };

/** The Range headers of every request for the model file (page and workers). */
function recordRanges(page: Page): string[] {
  const ranges: string[] = [];
  page.context().on('request', (r) => {
    if (new URL(r.url()).pathname === FILE_PATH) ranges.push(r.headers()['range'] ?? '(whole file)');
  });
  return ranges;
}

/** The header reads: Range requests from byte 0 of at most 1 MiB. The downloader's first request is `bytes=0-0`. */
const isHeaderRead = (range: string): boolean => {
  const m = /^bytes=0-(\d+)$/.exec(range);
  return m !== null && Number(m[1]) > 0 && Number(m[1]) < MiB;
};

const tryLink = (file?: string): string => `/?model=${REPO}${file ? `&file=${file}` : ''}&hub=${encodeURIComponent(hub.url)}`;

async function chatGenerates(page: Page): Promise<void> {
  await expect(page.getByTestId('chat-model-name')).toBeVisible({ timeout: 90_000 });
  await page.getByTestId('temperature').fill('0');
  await page.getByTestId('max-tokens').fill('12');
  await page.getByTestId('prompt').fill('Once upon a time');
  await page.getByTestId('send').click();
  // llama.cpp's greedy continuation of "Once upon a time" on stories260K (see tests/e2e/chat.spec.ts).
  await expect(page.getByTestId('assistant-message').locator('.content')).toContainText(', there was a little girl', { timeout: 90_000 });
}

test('a link naming only the repository: the recommended file downloads by itself, then the chat runs it', async ({ page }) => {
  const ranges = recordRanges(page);
  // Slow answers keep each step on screen long enough to see (the download itself takes a moment here).
  hub.options.latencyMs = 400;
  await page.goto(tryLink());
  await expect(page).toHaveURL(/\/model\?model=rbee-test%2Fstories260K&try=1$/);
  // The verdict and the choice made for the user, with the other file listed.
  await expect(page.getByTestId('verdict')).toBeVisible(SLOW);
  await expect(page.getByTestId('try-choice')).toContainText(FILE);
  await expect(page.getByTestId('try-choice')).toContainText('2 models');
  await expect(page.getByTestId('repo-files')).toContainText('stories260K-IQ2_XXS.gguf');
  // Visible progress while it downloads (the page goes on to the chat when it ends).
  await expect(page.getByTestId('download-progress').or(page.getByTestId('chat-model-name'))).toBeVisible(SLOW);
  await expect(page).toHaveURL(/\/chat\?model=/, SLOW);
  await chatGenerates(page);
  // The download probed the file, then fetched it whole (one 32 MiB chunk is more than the file).
  expect(ranges).toContain('bytes=0-0');
  expect(ranges).toContain(`bytes=0-${size - 1}`);
  // Nothing of the other file beyond its listing.
  expect(hub.stats.get(`/${REPO}/resolve/main/stories260K-IQ2_XXS.gguf`)).toBeUndefined();
});

test('above the "ask above" size it asks first, with the size, and fetches no weights until asked', async ({ page }) => {
  await page.addInitScript(() => localStorage.setItem('rbee-web:try-ask-above-mib', '1'));
  const ranges = recordRanges(page);
  await page.goto(tryLink(FILE));
  await expect(page.getByTestId('verdict')).toBeVisible(SLOW);
  const ask = page.getByTestId('confirm-large');
  await expect(ask).toBeVisible(SLOW);
  await expect(ask).toContainText(`Download 1.1 MiB to run ${REPO}`);
  await expect(ask).toContainText(/free\./);
  await expect(ask.getByRole('button', { name: 'Just look' })).toBeVisible();
  // The question the page waits for comes first: above the verdict (and its "Run in browser"), in the first screen.
  const askBox = (await ask.boundingBox())!;
  expect(askBox.y).toBeLessThan((await page.getByTestId('verdict').boundingBox())!.y);
  expect(askBox.y + askBox.height).toBeLessThanOrEqual(page.viewportSize()!.height);
  // Only the header was read: no download probe, no Range beyond the first MiB.
  await page.waitForTimeout(1000);
  expect(ranges.length).toBeGreaterThan(0);
  expect(ranges.every(isHeaderRead)).toBe(true);
  expect(hub.stats.get(FILE_PATH)!.bytesSent).toBeLessThanOrEqual(MiB);

  await ask.getByRole('button', { name: 'Download and run' }).click();
  await expect(page).toHaveURL(/\/chat\?model=/, SLOW);
  await expect(page.getByTestId('chat-model-name')).toBeVisible({ timeout: 90_000 });
  expect(ranges).toContain('bytes=0-0');
  expect(hub.stats.get(FILE_PATH)!.bytesSent).toBeGreaterThanOrEqual(size);
});

test('"Just look" stays on the model page and downloads nothing', async ({ page }) => {
  await page.addInitScript(() => localStorage.setItem('rbee-web:try-ask-above-mib', '0'));
  const ranges = recordRanges(page);
  await page.goto(tryLink(FILE));
  await page.getByTestId('confirm-large').getByRole('button', { name: 'Just look' }).click();
  await expect(page.getByTestId('confirm-large')).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Download to this device' })).toBeVisible();
  // Another file of the repository opens in try mode too (the same download-and-run for a smaller quantization).
  await expect(page.getByTestId('repo-files').getByRole('link', { name: 'Open' })).toHaveAttribute('href', /file=stories260K-IQ2_XXS\.gguf&try=1$/);
  await page.waitForTimeout(1000);
  await expect(page).toHaveURL(/\/model\?/);
  expect(ranges.every(isHeaderRead)).toBe(true);
});

test('a model already stored goes straight to the chat, with no download', async ({ page }) => {
  await page.goto(`/model?model=${REPO}&file=${FILE}&hub=${encodeURIComponent(hub.url)}`);
  await page.getByRole('button', { name: 'Download to this device' }).click();
  await expect(page.getByTestId('download-state')).toHaveAttribute('data-state', 'complete', SLOW);

  hub.resetStats();
  const ranges = recordRanges(page);
  await page.goto(tryLink(FILE));
  await expect(page).toHaveURL(/\/chat\?model=/, SLOW);
  await chatGenerates(page);
  // The verdict read the header again; the weights came from this device.
  expect(ranges.every(isHeaderRead)).toBe(true);
  expect(hub.stats.get(FILE_PATH)?.bytesSent ?? 0).toBeLessThanOrEqual(2 * MiB);
});

test('a model that does not run in this browser stays on its page with the verdict; nothing is downloaded', async ({ page }) => {
  // IQ1_S has no WebGPU kernel; on this machine's software adapter the app would run it on the CPU engine (llama.cpp
  // runs every type), so the user's saved engine choice is WebGPU here: the case is a model the chosen engine refuses.
  await page.addInitScript(() => localStorage.setItem('rbee-web:engine', 'webgpu'));
  const ranges: string[] = [];
  page.context().on('request', (r) => {
    if (new URL(r.url()).pathname === '/iq1.gguf') ranges.push(r.headers()['range'] ?? '(whole file)');
  });
  await page.goto(`/?model=${encodeURIComponent(`${hub.url}/iq1.gguf`)}`);
  await expect(page.getByTestId('verdict')).toBeVisible(SLOW);
  await expect(page.getByTestId('try-not-here')).toContainText('does not run in this browser');
  await expect(page.getByTestId('confirm-large')).toHaveCount(0);
  await page.waitForTimeout(1000);
  await expect(page).toHaveURL(/\/model\?.*try=1/);
  expect(ranges.length).toBeGreaterThan(0);
  expect(ranges).not.toContain('bytes=0-0');
  await expect(page.getByTestId('download-state')).toHaveAttribute('data-state', 'none');
});
