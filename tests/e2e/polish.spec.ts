// What a new user trips over on every page (issue 17), in the built app, in real Chromium, at a desktop width (1280 px)
// and a phone width (390 px), asserted without screenshots: nothing wider than the screen, the header one row with
// every link on screen, the library's verdict and buttons on screen, the model page's words (summary first, evidence
// folded, no fit figure for a model that does not run, an empty tensor table that says so, the title from the file),
// and the chat's form (bad settings caught before Send, a Sampling section, New chat, an empty state). Then /compat
// without a raw placeholder, offline opening that says it needs the network, and a local file's chat after a reload.
import { expect, test, type Locator, type Page } from '@playwright/test';
import { NO_WEIGHTS_REASON } from '../../src/lib/formats/no-weights.ts';
import { fixture, HAS_FIXTURES } from '../support/fixtures.ts';
import { startRangeServer, type RangeServer } from '../support/range-server.ts';
import { STORIES } from './inspect-model-files.ts';

test.skip(!HAS_FIXTURES, 'needs ../shared/fixtures (the real model files)');

const VOCAB = fixture('tokenizers/ggml-vocab-llama-spm.gguf');
const SLOW = { timeout: 90_000 };
let server: RangeServer;

test.beforeAll(async () => {
  server = await startRangeServer({ '/stories260K.gguf': STORIES });
});
test.afterAll(async () => server?.close());

const storiesUrl = (): string => `${server.url}/stories260K.gguf`;

/** No horizontal scrolling of the page itself. */
async function expectFitsWidth(page: Page): Promise<void> {
  const { scrollWidth, windowWidth } = await page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, windowWidth: window.innerWidth }));
  expect(scrollWidth, `page is ${scrollWidth}px wide in a ${windowWidth}px window`).toBeLessThanOrEqual(windowWidth);
}

/** The element lies wholly within the window's width (scrolled into view vertically first). */
async function expectOnScreen(locator: Locator): Promise<void> {
  await locator.scrollIntoViewIfNeeded();
  const box = await locator.boundingBox();
  const width = await locator.page().evaluate(() => innerWidth);
  expect(box, 'element has a box').not.toBeNull();
  expect(box!.x).toBeGreaterThanOrEqual(0);
  expect(box!.x + box!.width).toBeLessThanOrEqual(width + 0.5);
}

async function openLocalFile(page: Page, path: string): Promise<void> {
  await page.goto('/');
  await page.locator('#model-files').setInputFiles(path);
  await expect(page).toHaveURL(/\/model\?local=/);
}

for (const width of [1280, 390]) {
  test.describe(`at ${width} px`, () => {
    test.use({ viewport: { width, height: 844 } });

    test('every page fits the width, the header is one row and every nav link is on screen', async ({ page }) => {
      for (const path of ['/', '/library', '/compat', '/settings', '/chat']) {
        await page.goto(path);
        await expect(page.getByRole('navigation', { name: 'Main' })).toBeVisible();
        await expectFitsWidth(page);
        const links = page.getByRole('navigation', { name: 'Main' }).getByRole('link');
        await expect(links).toHaveCount(4);
        const tops = new Set<number>();
        for (const link of await links.all()) {
          await expectOnScreen(link);
          tops.add(Math.round((await link.boundingBox())!.y));
        }
        expect([...tops], `${path}: nav links on one row`).toHaveLength(1);
        const header = (await page.locator('header.site').boundingBox())!;
        expect(header.height, `${path}: header height`).toBeLessThan(80);
      }
      // The WebGPU card: a long label must not squeeze the adapter's name into breaking mid-word.
      await page.goto('/');
      const adapter = page.getByTestId('adapter');
      await expect(adapter).toBeVisible();
      const words = await adapter.evaluate((el) => {
        const text = el.firstChild as Text;
        return (text.textContent ?? '').split(/[\s()]+/).filter((w) => w.length > 3).map((w) => {
          const start = text.textContent!.indexOf(w);
          const range = document.createRange();
          range.setStart(text, start);
          range.setEnd(text, start + w.length);
          return { w, lines: new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size };
        });
      });
      expect(words.length).toBeGreaterThan(0);
      for (const { w, lines } of words) expect(lines, `"${w}" on one line`).toBe(1);
    });

    test('library: a downloaded model shows its verdict and its Chat / Open / Delete buttons on screen', async ({ page }) => {
      await page.goto(`/model?model=${encodeURIComponent(storiesUrl())}`);
      await page.getByRole('button', { name: 'Download to this device' }).click();
      await expect(page.getByTestId('download-state')).toHaveAttribute('data-state', 'complete', { timeout: 60_000 });
      await page.goto('/library');
      const row = page.getByTestId('library-row');
      await expect(row).toHaveAttribute('data-complete', 'true');
      await expectFitsWidth(page);
      await expectOnScreen(row.getByTestId('library-verdict'));
      await expect(row.getByTestId('library-verdict')).toContainText(/runs/);
      for (const name of ['Chat', 'Open']) await expectOnScreen(row.getByRole('link', { name, exact: true }));
      await expectOnScreen(row.getByRole('button', { name: 'Delete', exact: true }));
      // The download settings live on /settings now; the storage card links there.
      await expect(page.getByTestId('try-ask-above')).toHaveCount(0);
      await expect(page.getByRole('main').getByRole('link', { name: 'Settings' })).toHaveAttribute('href', '/settings');
    });

    test('model page: the title from the file, a summary first with the evidence folded, the chat template the chat uses', async ({ page }) => {
      await openLocalFile(page, STORIES);
      await expect(page.getByTestId('model-name')).toHaveText('stories260K');
      await expectFitsWidth(page);
      const summary = page.getByTestId('verdict-summary');
      await expect(summary).toHaveText(/^(Tested|Should run)/);
      await expect(summary).not.toContainText('tests/');
      const evidence = page.getByTestId('verdict-evidence');
      await expect(evidence).not.toHaveAttribute('open', '');
      await evidence.locator('summary').click();
      await expect(evidence).toContainText('tests/');
      await expect(page.getByTestId('memory-budget-assumed')).toHaveText('assumed available to one model');
      // stories260K has no template and no ChatML tokens: the page says what the chat will do.
      await expect(page.getByTestId('chat-template')).toHaveText('none — the chat sends plain text for the model to continue');
      await expectOnScreen(page.getByRole('link', { name: 'Run in browser' }));
    });

    test('a vocabulary-only GGUF: the one reason, no fit figure, and a tensor table that says there are none', async ({ page }) => {
      await openLocalFile(page, VOCAB);
      await expect(page.getByTestId('verdict-summary')).toHaveText(NO_WEIGHTS_REASON);
      await expect(page.getByTestId('memory')).toHaveCount(0);
      await expect(page.getByTestId('verdict')).not.toContainText('fits');
      await expect(page.getByTestId('tensor-empty')).toHaveText('This file holds no tensors.');
      await expectFitsWidth(page);
    });

    test('chat: bad settings are caught in the form, Sampling offers the rest, New chat clears, an empty state first', async ({ page }) => {
      await page.goto(`/chat?model=${encodeURIComponent(storiesUrl())}`);
      await expect(page.getByTestId('chat-model-name')).toBeVisible(SLOW);
      await expect(page.getByTestId('chat-empty')).toBeVisible();
      await expectFitsWidth(page);

      await page.getByTestId('prompt').fill('Once upon a time');
      await page.getByTestId('max-tokens').fill('0');
      await page.getByTestId('temperature').fill('-3');
      const problems = page.getByTestId('setting-problems');
      await expect(problems).toContainText('Max tokens must be a whole number from 1 to 4096, not 0.');
      await expect(problems).toContainText('Temperature must be a number ≥ 0, not -3.');
      await expect(page.getByTestId('max-tokens')).toHaveAttribute('aria-invalid', 'true');
      await expect(page.getByTestId('send')).toBeDisabled();
      await page.getByTestId('prompt').press('Enter');
      await expect(page.getByTestId('user-message')).toHaveCount(0);
      await expect(page.getByTestId('assistant-message')).toHaveCount(0);

      // The sampling settings the engine's own error text names.
      await page.getByTestId('sampling').locator('summary').click();
      for (const id of ['top-k', 'top-p', 'min-p', 'repeat-penalty', 'seed']) await expectOnScreen(page.getByTestId(id));
      await page.getByTestId('top-p').fill('2');
      await expect(problems).toContainText('Top-p must be in (0, 1], not 2.');

      await page.getByTestId('max-tokens').fill('8');
      await page.getByTestId('temperature').fill('0');
      await page.getByTestId('top-p').fill('0.95');
      await page.getByTestId('seed').fill('7');
      await expect(problems).toHaveCount(0);
      await expectOnScreen(page.getByTestId('send'));
      await page.getByTestId('send').click();
      await expect(page.getByTestId('assistant-message').locator('.content')).toContainText(', there was', SLOW);
      await expect(page.getByTestId('generated-tokens')).toBeVisible(SLOW);
      await expect(page.getByTestId('chat-empty')).toHaveCount(0);
      await expectFitsWidth(page);

      await expectOnScreen(page.getByTestId('new-chat'));
      await page.getByTestId('new-chat').click();
      await expect(page.getByTestId('user-message')).toHaveCount(0);
      await expect(page.getByTestId('assistant-message')).toHaveCount(0);
      await expect(page.getByTestId('chat-empty')).toBeVisible();
      await expect(page.getByTestId('seed')).toHaveValue('7'); // the settings stay
    });
  });
}

test('/compat: verified cells name their test with its case, never a raw %s', async ({ page }) => {
  await page.goto('/compat');
  const table = page.getByTestId('compat-table');
  await expect(table).toContainText('equal to llama.cpp');
  await expect(table).not.toContainText('%s');
});

test('offline, opening a URL says the network is needed (not CORS)', async ({ page, context }) => {
  // The app as a returning user has it offline: the service worker controls the page (the app shell is cached).
  await page.goto('/');
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, SLOW);
  await expect(page.getByLabel('Hugging Face repository, link or file URL')).toBeVisible();
  await context.setOffline(true);
  await page.getByLabel('Hugging Face repository, link or file URL').fill(storiesUrl());
  await page.getByRole('button', { name: 'Inspect' }).click();
  const alert = page.getByTestId('error');
  await expect(alert).toContainText('This browser is offline', SLOW);
  await expect(alert).toContainText('needs the network');
  await expect(alert).not.toContainText('CORS');
  await context.setOffline(false);
});

test("a local file's chat after a reload says the files are no longer open, and how to get it back", async ({ page }) => {
  await openLocalFile(page, STORIES);
  await page.getByRole('link', { name: 'Run in browser' }).click();
  await expect(page).toHaveURL(/\/chat\?local=/);
  await page.reload();
  const alert = page.getByTestId('error');
  await expect(alert.getByRole('heading')).toHaveText('The files are no longer open');
  await expect(alert).toHaveAttribute('data-code', 'files-closed');
  await expect(alert).toContainText('Download to this device');
  await expect(alert.getByRole('link', { name: 'Open the files again' })).toHaveAttribute('href', '/');
});
