// Issue 12 end to end, in the usual test browser (WebGPU on SwiftShader: a software adapter): the app picks the CPU
// engine (llama.cpp's WebAssembly build) for GGUF by default and says why; `&engine=webgpu` still runs rbee-web's
// WebGPU engine. (The browser without WebGPU at all is chat-wasm.spec.ts.)
import { expect, test } from '@playwright/test';
import { fixture, HAS_FIXTURES } from '../support/fixtures.ts';
import { startRangeServer, type RangeServer } from '../support/range-server.ts';

test.skip(!HAS_FIXTURES, 'needs ../shared/fixtures (the real model files)');

let server: RangeServer;
test.beforeAll(async () => {
  server = await startRangeServer({ '/stories260K.gguf': fixture('models/stories260K.gguf') });
});
test.afterAll(async () => server?.close());

const chatUrl = (extra = ''): string => `/chat?model=${encodeURIComponent(`${server.url}/stories260K.gguf`)}${extra}`;

async function greedyReply(page: import('@playwright/test').Page): Promise<string> {
  await page.getByTestId('temperature').fill('0');
  await page.getByTestId('max-tokens').fill('12');
  await page.getByTestId('prompt').fill('Once upon a time');
  await page.getByTestId('send').click();
  const reply = page.getByTestId('assistant-message').locator('.content');
  await expect(reply).toContainText(', there was a little girl', { timeout: 90_000 });
  return (await reply.textContent()) ?? '';
}

test('SwiftShader: GGUF runs on the CPU engine by default, and the chat says why', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByTestId('webgpu-status').getByTestId('cpu-fallback')).toContainText('software adapter (swiftshader');
  await page.goto(chatUrl());
  await expect(page.getByTestId('chat-model-name')).toBeVisible({ timeout: 90_000 });
  await expect(page.getByTestId('chat-engine')).toContainText('CPU (WebAssembly, llama.cpp)');
  await expect(page.getByTestId('chat-engine-why')).toHaveText(/only WebGPU adapter here is a software one \(swiftshader.*&engine=webgpu/);
  await expect(page.getByTestId('engine-choice')).toHaveValue('');
  expect(await greedyReply(page)).toMatch(/^, there was a little girl/);
});

test('SwiftShader: &engine=webgpu still runs rbee-web\'s WebGPU engine, and the engine control switches back', async ({ page }) => {
  await page.goto(chatUrl('&engine=webgpu'));
  await expect(page.getByTestId('chat-model-name')).toBeVisible({ timeout: 90_000 });
  // The WebGPU worker's header: the adapter it loaded onto, and no CPU engine line.
  await expect(page.locator('.chat-head')).toContainText('swiftshader');
  await expect(page.getByTestId('chat-engine')).toHaveCount(0);
  await expect(page.getByTestId('chat-engine-why')).toHaveText(/You picked rbee-web's WebGPU engine on a software adapter/);
  await expect(page.getByTestId('engine-choice')).toHaveValue('webgpu');
  expect(await greedyReply(page)).toMatch(/^, there was a little girl/);
  // Back to this device's best: the address loses &engine= and the CPU engine runs it.
  await page.getByTestId('engine-choice').selectOption('');
  await expect(page).not.toHaveURL(/engine=/);
  await expect(page.getByTestId('chat-engine')).toContainText('CPU (WebAssembly, llama.cpp)', { timeout: 90_000 });
});
