// Embeds (issue 16), in the built app served by vite preview, in real Chromium: a page on ANOTHER local origin frames
// /embed for the real stories260K (served by a local Range server) and sees the verdict, the size and a working
// "Try it now"; every other page refuses to be framed (headers and a real frame); /compat.json validates against its
// documented schema and holds exactly the matrix's cells; the static badges load as images on another site.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { listMatrix } from '../../src/lib/compat/matrix.ts';
import { CONFIDENCE_ORDER } from '../../src/lib/compat/verdict.ts';
import { formatBytes } from '../../src/lib/quantities.ts';
import { COMPAT_SCHEMA, compatSchemaErrors } from '../support/compat-schema.ts';
import { HAS_FIXTURES, REPO_ROOT } from '../support/fixtures.ts';
import { startRangeServer, type RangeServer } from '../support/range-server.ts';
import { HOSTILE, hostileGguf, STORIES } from './inspect-model-files.ts';

test.skip(!HAS_FIXTURES, 'needs ../shared/fixtures (the real model files)');

/** The app under test (playwright.config.ts's baseURL): the origin the embed is served from. */
const APP = 'http://127.0.0.1:4319';
const STORIES_BYTES = new Uint8Array(readFileSync(STORIES));

let models: RangeServer;
/** The "marketplace": a page on another origin (another loopback port) whose HTML each test sets. */
let site: RangeServer;
let siteHtml = '';

test.beforeAll(async () => {
  models = await startRangeServer({ '/stories260K.gguf': STORIES_BYTES, '/hostile.gguf': hostileGguf() });
  site = await startRangeServer(
    {},
    {
      route: (_req, res, url) => {
        if (url.pathname !== '/') return false;
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(siteHtml);
        return true;
      },
    },
  );
});
test.afterAll(async () => {
  await models?.close();
  await site?.close();
});
test.afterEach(() => {
  models.options.latencyMs = 0;
});
test.setTimeout(120_000);
const SLOW = { timeout: 60_000 };

const attr = (s: string): string => s.replaceAll('&', '&amp;').replaceAll('"', '&quot;');
const embedOf = (modelUrl: string): string => `${APP}/embed?model=${encodeURIComponent(modelUrl)}`;

/** Opens the other site with one iframe (id "f") of `src`; resolves once the frame's load event fired. */
async function openSiteFraming(page: Page, src: string): Promise<void> {
  siteHtml = `<!doctype html><title>a model page elsewhere</title><h1>Some model</h1>
    <iframe id="f" src="${attr(src)}" width="360" height="120" style="border:0" title="rbee-web verdict"
      onload="document.body.dataset.frameLoaded = '1'"></iframe>`;
  await page.goto(site.url);
  await expect(page.locator('body')).toHaveAttribute('data-frame-loaded', '1', SLOW);
}

test('another origin frames /embed for stories260K: verified, its size, and "Try it now" opens the try-it-now link in a new tab', async ({ page }) => {
  expect(new URL(site.url).origin).not.toBe(APP);
  const modelUrl = `${models.url}/stories260K.gguf`;
  // A slow server keeps the skeleton on screen long enough to measure it.
  models.options.latencyMs = 1500;
  await openSiteFraming(page, embedOf(modelUrl));
  const frame = page.frameLocator('#f');
  const skeleton = await frame.getByTestId('embed-loading').boundingBox();
  expect(skeleton).not.toBeNull();

  const card = frame.getByRole('article', { name: /^rbee-web verdict for / });
  await expect(card).toBeVisible(SLOW);
  await expect(card.getByTestId('verdict-badge')).toHaveText('verified');
  await expect(card.getByTestId('verdict-badge')).toHaveAttribute('data-confidence', 'verified');
  await expect(card.getByTestId('embed-size')).toHaveText(formatBytes(STORIES_BYTES.byteLength));
  await expect(card.getByTestId('embed-format')).toContainText('GGUF');
  await expect(card.getByTestId('embed-memory')).toContainText(/^needs \d.* of \d.* on this device$/);
  // The header only: every request for the model was a Range read, far from the whole file.
  expect(models.stats.get('/stories260K.gguf')!.rangeRequests).toBe(models.stats.get('/stories260K.gguf')!.requests);
  // No layout shift: the card fills exactly the box the skeleton held, the iframe's 360×120.
  expect(await card.boundingBox()).toEqual(skeleton);
  expect(skeleton!.width).toBe(360);
  expect(skeleton!.height).toBe(120);

  // Light and dark follow the visitor's system setting.
  const background = (): Promise<string> => card.evaluate((el) => getComputedStyle(el).backgroundColor);
  const light = await background();
  await page.emulateMedia({ colorScheme: 'dark' });
  await expect.poll(background).not.toBe(light);
  await page.emulateMedia({ colorScheme: 'light' });

  // "Try it now": the app's try-it-now link, in a new tab, without a handle back to the framing site.
  const button = card.getByRole('link', { name: /^Try it now/ });
  await expect(button).toHaveAttribute('target', '_blank');
  await expect(button).toHaveAttribute('rel', /\bnoopener\b/);
  const navigations: string[] = [];
  page.context().on('request', (r) => {
    if (r.isNavigationRequest()) navigations.push(r.url());
  });
  const newPage = page.context().waitForEvent('page');
  await button.click();
  const tab = await newPage;
  // The app opens the model's page in try mode from the link (then it would download and chat; not needed here).
  await tab.waitForURL(/\/model\?model=.*&try=1$/, SLOW);
  const opened = new URL(navigations.find((u) => u.startsWith(`${APP}/?`))!);
  expect(opened.pathname).toBe('/');
  expect([...opened.searchParams]).toEqual([['model', modelUrl]]);
  expect(await tab.evaluate(() => window.opener)).toBeNull();
  await tab.close();
});

test('every other page refuses to be framed: by its headers, and a real frame of it stays empty', async ({ page, request }) => {
  const modelPage = `/model?model=${encodeURIComponent(`${models.url}/stories260K.gguf`)}`;
  for (const path of ['/', '/compat', modelPage, '/chat', '/library', '/settings', '/no-such-page']) {
    const headers = (await request.get(path)).headers();
    expect(headers['content-security-policy'], path).toBe("frame-ancestors 'none'");
    expect(headers['x-frame-options'], path).toBe('DENY');
  }
  const embedHeaders = (await request.get('/embed?model=x')).headers();
  expect(embedHeaders['content-security-policy']).toBe('frame-ancestors *');
  expect(embedHeaders['x-frame-options']).toBeUndefined();
  expect(embedHeaders['cross-origin-resource-policy']).toBe('cross-origin');

  for (const path of ['/compat', modelPage]) {
    await openSiteFraming(page, `${APP}${path}`);
    // Chromium replaces a refused frame with its own error page: none of the app's document is there.
    const frame = page.mainFrame().childFrames()[0]!;
    expect(frame.url(), path).toMatch(/^chrome-error:/);
    await expect(page.frameLocator('#f').locator('header.site, main, [data-testid]')).toHaveCount(0);
  }
  // The same check sees a page that is allowed: /embed renders in the same kind of frame.
  await openSiteFraming(page, `${APP}/embed`);
  await expect(page.frameLocator('#f').getByTestId('embed-error')).toBeVisible(SLOW);
});

test('the embed tells what went wrong as text: no model, a missing file; a hostile name stays text', async ({ page }) => {
  await openSiteFraming(page, `${APP}/embed`);
  const frame = page.frameLocator('#f');
  await expect(frame.getByTestId('embed-error')).toHaveAttribute('data-code', 'bad-value', SLOW);
  await expect(frame.getByTestId('embed-error')).toContainText('No model given');

  await openSiteFraming(page, embedOf(`${models.url}/missing.gguf`));
  await expect(frame.getByTestId('embed-error')).toHaveAttribute('data-code', 'not-found', SLOW);

  await openSiteFraming(page, embedOf(`${models.url}/hostile.gguf`));
  await expect(frame.getByTestId('embed-name')).toHaveText(HOSTILE, SLOW);
  await expect(frame.locator('img')).toHaveCount(0);
  const embedFrame = page.frames().find((f) => f.url().startsWith(`${APP}/embed`))!;
  expect(await embedFrame.evaluate(() => (window as { __xss?: unknown }).__xss)).toBeUndefined();
});

test('offline, the embed says it needs the network, and reads the model once back online', async ({ page }) => {
  models.options.latencyMs = 3000;
  await openSiteFraming(page, embedOf(`${models.url}/stories260K.gguf`));
  const frame = page.frameLocator('#f');
  await expect(frame.getByTestId('embed-loading')).toBeVisible();
  const box = await frame.getByTestId('embed-loading').boundingBox();
  await page.context().setOffline(true);
  await expect(frame.getByTestId('embed-offline')).toContainText('needs the network', SLOW);
  expect(await frame.getByTestId('embed-offline').boundingBox()).toEqual(box);
  models.options.latencyMs = 0;
  await page.context().setOffline(false);
  await expect(frame.getByTestId('verdict-badge')).toHaveText('verified', SLOW);
});

test('"Embed this" on the model page: the iframe snippet, pasted into another site, shows the card; the Markdown badge links to try it now', async ({ page }) => {
  const modelUrl = `${models.url}/stories260K.gguf`;
  await page.goto(`/model?model=${encodeURIComponent(modelUrl)}`);
  const section = page.getByTestId('embed-this');
  await expect(section).toBeVisible(SLOW);
  const iframe = await section.getByTestId('embed-iframe-snippet').inputValue();
  const markdown = await section.getByTestId('embed-markdown-snippet').inputValue();
  expect(markdown).toBe(`[![rbee-web: verified](${APP}/badges/verified.svg)](${APP}/?model=${encodeURIComponent(modelUrl)})`);
  await expect(section.getByRole('img', { name: 'rbee-web: verified' })).toBeVisible();

  siteHtml = `<!doctype html><title>pasted</title>${iframe}`;
  await page.goto(site.url);
  await expect(page.frameLocator('iframe').getByTestId('verdict-badge')).toHaveText('verified', SLOW);
  await expect(page.locator('iframe')).toHaveAttribute('title', /^rbee-web: will .+ run in your browser\?$/);
});

test('/compat.json validates against its documented schema and has exactly the cells of the matrix', async ({ request }) => {
  const response = await request.get('/compat.json');
  expect(response.status()).toBe(200);
  expect(response.headers()['content-type']).toContain('application/json');
  const doc = await response.json();
  expect(compatSchemaErrors(doc)).toEqual([]);
  const key = (c: { architecture: string; format: string; weightType: string; backend: string; confidence: string }): string =>
    `${c.architecture}/${c.format}/${c.weightType}/${c.backend}=${c.confidence}`;
  const served = (doc.cells as Parameters<typeof key>[0][]).map(key).sort();
  expect(served).toEqual(listMatrix().map(key).sort());
  expect(new Set(served).size).toBe(served.length);
  // The schema the document names is served, and is the documented file.
  const schema = await (await request.get(doc.schema)).json();
  expect(schema).toEqual(COMPAT_SCHEMA);
  expect(schema).toEqual(JSON.parse(readFileSync(resolve(REPO_ROOT, 'static/compat.schema.json'), 'utf8')));
});

test('the static badge SVGs render as images on another site', async ({ page }) => {
  siteHtml = '<!doctype html><title>badges</title>';
  await page.goto(site.url);
  const sizes = await page.evaluate(
    async ({ app, confidences }) =>
      Promise.all(
        confidences.map(async (c) => {
          const img = document.createElement('img');
          img.src = `${app}/badges/${c}.svg`;
          document.body.append(img);
          await img.decode();
          return { c, width: img.naturalWidth, height: img.naturalHeight };
        }),
      ),
    { app: APP, confidences: [...CONFIDENCE_ORDER] },
  );
  for (const s of sizes) {
    expect(s.width, s.c).toBeGreaterThan(0);
    expect(s.height, s.c).toBe(20);
  }
});
