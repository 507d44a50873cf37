// Issue 12 end to end: the built app in a Chromium started WITHOUT --enable-unsafe-webgpu (no WebGPU adapter, as in a
// browser without WebGPU) runs GGUF on the CPU through llama.cpp's WebAssembly build — the home page says so,
// stories260K answers "Once upon a time" with llama.cpp's greedy continuation, a model over the WebAssembly limits gets
// a clear verdict instead of a crash. The SwiftShader cases (a software adapter: the app picks the CPU engine and says
// why; &engine=webgpu still runs ours) are in chat-wasm-swiftshader.spec.ts.
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { chromiumArgs, chromiumPath } from '../../src/cli/browser-harness/chromium.js';
import { fixture, HAS_FIXTURES } from '../support/fixtures.ts';
import { writeGguf } from '../support/gguf-writer.ts';
import { startRangeServer, type RangeServer } from '../support/range-server.ts';

test.skip(!HAS_FIXTURES, 'needs ../shared/fixtures (the real model files)');

// This file's browser has no WebGPU: the same flags as every other test, less the one that turns WebGPU on.
test.use({ launchOptions: { executablePath: chromiumPath(), args: chromiumArgs.filter((a: string) => a !== '--enable-unsafe-webgpu') } });

let server: RangeServer;
let dir: string;

/**
 * A llama GGUF whose one F32 embedding is 128000 × 8192 × 4 B ≈ 3.9 GiB, in a single file: over the 2 GiB one file may
 * be for the WebAssembly build, and with its cache over wasm's 4 GiB. Written as a sparse file (the header, then a
 * hole): nothing is stored, and the verdict reads only the header.
 */
function tooBigForWasm(dir: string): string {
  const u32 = (value: number) => ({ type: 'u32' as const, value });
  const header = writeGguf({
    metadata: [
      ['general.architecture', { type: 'string', value: 'llama' }],
      ['general.name', { type: 'string', value: 'too big for wasm' }],
      ['llama.context_length', u32(4096)],
      ['llama.embedding_length', u32(8192)],
      ['llama.block_count', u32(1)],
      ['llama.feed_forward_length', u32(8192)],
      ['llama.attention.head_count', u32(64)],
      ['llama.attention.head_count_kv', u32(8)],
    ],
    tensors: [{ name: 'token_embd.weight', dims: [8192, 128000], type: 0, dataSize: 8192 * 128000 * 4 }],
    omitData: true,
  });
  const path = join(dir, 'too-big.gguf');
  writeFileSync(path, header);
  truncateSync(path, header.byteLength + 8192 * 128000 * 4);
  return path;
}

test.beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rbee-wasm-e2e-'));
  server = await startRangeServer({
    '/stories260K.gguf': fixture('models/stories260K.gguf'),
    '/too-big.gguf': tooBigForWasm(dir),
  });
});
test.afterAll(async () => {
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('no WebGPU: the home page says so, and that GGUF models run on the CPU', async ({ page }) => {
  await page.goto('/');
  // Chromium 156 without the flag: navigator.gpu is missing, or (in a secure context) present with no adapter.
  expect(await page.evaluate(async () => ((await (navigator as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu?.requestAdapter()) ?? null) === null)).toBe(true);
  const status = page.getByTestId('webgpu-status');
  await expect(status.locator('[data-state="unavailable"]')).toBeVisible({ timeout: 30_000 });
  await expect(status).toContainText(/navigator\.gpu is missing|offered no adapter/);
  await expect(status.getByTestId('cpu-fallback')).toContainText("GGUF models run on the CPU here instead, through llama.cpp's WebAssembly build");
});

test("no WebGPU: stories260K runs on the CPU engine and answers with llama.cpp's greedy continuation", async ({ page }) => {
  await page.goto(`/chat?model=${encodeURIComponent(`${server.url}/stories260K.gguf`)}`);
  await expect(page.getByTestId('chat-model-name')).toBeVisible({ timeout: 90_000 });
  await expect(page.getByTestId('chat-engine')).toContainText('CPU (WebAssembly, llama.cpp) on CPU (WebAssembly');
  await expect(page.getByTestId('chat-engine-why')).toHaveText(/This browser has no WebGPU, so GGUF models run on the CPU through llama\.cpp's WebAssembly build/);
  // `npm start` (vite preview) serves COOP/COEP: the page is cross-origin isolated, so no one-thread note.
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
  await expect(page.getByTestId('chat-engine-note')).toHaveCount(0);
  expect(server.stats.get('/stories260K.gguf')!.bytesSent).toBeGreaterThan(1_000_000); // the weights came over Range

  await page.getByTestId('temperature').fill('0');
  await page.getByTestId('max-tokens').fill('24');
  await page.getByTestId('prompt').fill('Once upon a time');
  await page.getByTestId('send').click();
  await expect(page.getByTestId('user-message')).toHaveText('Once upon a time');
  const reply = page.getByTestId('assistant-message').locator('.content');
  // llama.cpp's greedy continuation of "Once upon a time" on stories260K (tests/parity/wasm-parity.test.ts).
  await expect(reply).toContainText(', there was a little girl named Lily', { timeout: 90_000 });
  expect(await reply.textContent()).toMatch(/^, there was a little girl named Lily/);
  // The CPU engine times prefill and decode apart, so the reply shows the same figures as on WebGPU.
  const figures = page.getByTestId('assistant-message').first();
  await expect(figures.getByTestId('generated-tokens')).toHaveText('24 tokens');
  expect(Number(await figures.getByTestId('prefill-speed').textContent())).toBeGreaterThan(0);
  expect(Number(await figures.getByTestId('decode-speed').textContent())).toBeGreaterThan(0);

  // Stop: a long generation ends when asked, and says it was stopped.
  await page.getByTestId('temperature').fill('0.8');
  await page.getByTestId('max-tokens').fill('2000');
  await page.getByTestId('prompt').fill('Lily went to the park');
  await page.getByTestId('send').click();
  await expect(page.getByTestId('stop')).toBeVisible();
  await expect(page.getByTestId('assistant-message').nth(1).locator('.content')).not.toHaveText('', { timeout: 60_000 });
  await page.getByTestId('stop').click();
  await expect(page.getByTestId('assistant-message').nth(1)).toContainText('stopped', { timeout: 30_000 });
  await expect(page.getByTestId('send')).toBeVisible();
});

test('no WebGPU: a model over the WebAssembly limits gets a clear verdict, not a crash', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`/chat?model=${encodeURIComponent(`${server.url}/too-big.gguf`)}`);
  const notice = page.getByTestId('error');
  await expect(page.getByText('This model cannot run here')).toBeVisible({ timeout: 60_000 });
  await expect(notice).toContainText("It does not fit llama.cpp's WebAssembly build");
  await expect(notice).toContainText('larger than the 2 GiB one file may be');
  await expect(notice).toContainText('more than the 4 GiB a WebAssembly page can address');
  await expect(page.getByTestId('chat-engine-why')).toHaveCount(0);
  // No weights were fetched for a model that cannot run: only the header was read.
  expect(server.stats.get('/too-big.gguf')?.bytesSent ?? 0).toBeLessThan(4 * 1024 * 1024);
  expect(errors).toEqual([]);
});
