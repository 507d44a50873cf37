// The installed app on a plain static file server (issue 13 items 10–11, issue 17 item 3, issue 12's threads): build/
// served by `python3 -m http.server` (no clean URLs, no special headers, as a static host would) registers its service
// worker, reloads offline, is cross-origin isolated once the worker controls it, precaches the shell only (under
// 5 MB), and caches runtimes on first use from its own origin only.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { SHELL_PRECACHE_BUDGET_BYTES } from '../../src/lib/pwa/shell-precache.ts';
import { REPO_ROOT } from '../support/fixtures.ts';
import { startRangeServer, type RangeServer } from '../support/range-server.ts';

const BUILD = join(REPO_ROOT, 'build');
const ORT_LOADER = '/ort/ort-wasm-simd-threaded.asyncify.mjs';

let staticHost: ChildProcess;
let origin: string;
let elsewhere: RangeServer;

test.beforeAll(async () => {
  // Port 0: python picks a free one and prints it. -u: unbuffered, so the line arrives at once.
  staticHost = spawn('python3', ['-u', '-m', 'http.server', '0', '--bind', '127.0.0.1', '--directory', BUILD], { stdio: ['ignore', 'pipe', 'pipe'] });
  origin = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('python3 -m http.server did not start')), 15_000);
    staticHost.stdout!.on('data', (chunk: Buffer) => {
      const port = /port (\d+)/.exec(chunk.toString())?.[1];
      if (port) {
        clearTimeout(timer);
        resolve(`http://127.0.0.1:${port}`);
      }
    });
    staticHost.on('exit', (code) => reject(new Error(`python3 -m http.server exited (${code})`)));
  });
  staticHost.stderr!.resume(); // its request log
  // Another origin whose paths look like ours: nothing from it may land in the app's runtime caches.
  elsewhere = await startRangeServer({ [ORT_LOADER]: new TextEncoder().encode('export {};\n') });
});
test.afterAll(async () => {
  staticHost?.kill('SIGTERM');
  await elsewhere?.close();
});

async function waitForControl(page: Page): Promise<void> {
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, { timeout: 60_000 });
}

/** The precache list injected into build/service-worker.js: workbox's `[{url, revision}, …]` literal. */
function precacheList(): Array<{ url: string; revision: string | null }> {
  const sw = readFileSync(join(BUILD, 'service-worker.js'), 'utf8');
  const match = /(\[\{"revision":.*?\}\])|(\[\{"url":.*?\}\])/s.exec(sw);
  if (!match) throw new Error('no precache manifest in build/service-worker.js');
  return JSON.parse(match[0]) as Array<{ url: string; revision: string | null }>;
}

test('the precache is the shell only: no runtimes, files that exist in build/, under 5 MB in all', () => {
  const list = precacheList();
  const urls = list.map((e) => e.url);
  expect(urls).toContain('index.html');
  expect(urls).toContain('settings.html');
  expect(urls.filter((u) => u.startsWith('ort/') || u.startsWith('wllama/') || u.endsWith('.wasm'))).toEqual([]);
  // Every entry is a file a plain static host serves as it is named (no clean URLs such as "settings").
  const total = urls.reduce((sum, url) => sum + statSync(join(BUILD, url)).size, 0);
  expect(total).toBeLessThan(SHELL_PRECACHE_BUDGET_BYTES);
  expect(total).toBeGreaterThan(100_000); // the shell itself is there
});

test('on a plain static server: registers, reloads offline, serves clean URLs offline, and is cross-origin isolated', async ({ page, context }) => {
  await page.goto(`${origin}/`);
  await waitForControl(page);
  // What the first visit stored: the precache, measured in the browser's own cache.
  const precached = await page.evaluate(async () => {
    let bytes = 0;
    let entries = 0;
    for (const name of await caches.keys()) {
      if (!name.includes('precache')) continue;
      const cache = await caches.open(name);
      for (const request of await cache.keys()) {
        bytes += (await (await cache.match(request))!.arrayBuffer()).byteLength;
        entries++;
      }
    }
    return { bytes, entries };
  });
  expect(precached.entries).toBeGreaterThan(10);
  expect(precached.bytes).toBeLessThan(5 * 1000 * 1000);

  // The page the network served had no COOP/COEP; the one the worker serves has them.
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(false);
  await page.reload();
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
  expect(await page.evaluate(() => typeof SharedArrayBuffer)).toBe('function');

  await context.setOffline(true);
  await page.reload();
  await expect(page.getByTestId('offline-banner')).toBeVisible();
  await expect(page.getByRole('navigation', { name: 'Main' })).toBeVisible();
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
  // /settings is settings.html on this host; offline, the worker maps the clean URL onto it.
  await page.goto(`${origin}/settings`);
  await expect(page.getByRole('heading', { name: 'Native worker (rbee companion)' })).toBeVisible();
  // A route that is no prerendered page gets the app shell (SPA fallback), not the host's 404.
  await page.goto(`${origin}/model?model=nothing`);
  await expect(page.getByRole('navigation', { name: 'Main' })).toBeVisible();
  await context.setOffline(false);
});

test('runtimes are cached on first use from this origin only: a look-alike /ort/ path on another origin is not', async ({ page }) => {
  await page.goto(`${origin}/`);
  await waitForControl(page);
  const cached = await page.evaluate(
    async ({ own, foreign }) => {
      await (await fetch(own)).arrayBuffer();
      await (await fetch(foreign)).arrayBuffer();
      const cache = await caches.open('rbee-onnx-runtime');
      return { own: (await cache.match(own)) !== undefined, foreign: (await cache.match(foreign)) !== undefined };
    },
    { own: `${origin}${ORT_LOADER}`, foreign: `${elsewhere.url}${ORT_LOADER}` },
  );
  expect(cached).toEqual({ own: true, foreign: false });
  // The foreign request went to its server (the worker did not answer it from anywhere).
  expect(elsewhere.stats.get(ORT_LOADER)?.requests).toBe(1);
});
