// A conversation longer than the context keeps going (real Chromium, stories260K loaded with a 256-token context through
// &ctx=): the oldest turn is left out of the prompt and the chat says so as text, while the transcript keeps every
// message; a newest message too long for the context alone is refused with the numbers, before sending. The same on
// rbee-web's WebGPU engine and on the CPU engine (llama.cpp's WebAssembly build): both count prompts with the app's own
// tokenizer and chat format (ChatEngine.countPrompt), so the numbers are the same.
import { expect, test } from '@playwright/test';
import { fixture, HAS_FIXTURES } from '../support/fixtures.ts';
import { startRangeServer, type RangeServer } from '../support/range-server.ts';

test.skip(!HAS_FIXTURES, 'needs ../shared/fixtures (the real model files)');

let server: RangeServer;
test.beforeAll(async () => {
  server = await startRangeServer({ '/stories260K.gguf': fixture('models/stories260K.gguf') });
});
test.afterAll(async () => server?.close());

// The composer trims the trailing space: 4 × this sentence is then 84 prompt tokens with stories260K's plain chat
// format, 12 × is 253 (measured with its tokenizer).
const SENTENCE = 'The little dog ran to the park and played with a red ball. ';

for (const engine of ['webgpu', 'wasm']) test(`${engine}: the oldest turn leaves the prompt, the transcript keeps it, and a message too long alone is refused`, async ({ page }) => {
  await page.goto(`/chat?model=${encodeURIComponent(`${server.url}/stories260K.gguf`)}&ctx=256&engine=${engine}`);
  await expect(page.getByTestId('chat-model-name')).toBeVisible({ timeout: 60_000 });
  await expect(page.locator('.chat-head')).toContainText('context 256');
  await page.getByTestId('temperature').fill('0');
  await page.getByTestId('max-tokens').fill('8');
  const replies = page.getByTestId('assistant-message');

  async function say(text: string, replyCount: number): Promise<void> {
    await page.getByTestId('prompt').fill(text);
    await page.getByTestId('send').click();
    await expect(replies).toHaveCount(replyCount);
    await expect(replies.nth(replyCount - 1).getByTestId('generated-tokens')).toBeVisible({ timeout: 90_000 });
  }

  // Two turns fit in 256 − 8 tokens: nothing is left out.
  await say(SENTENCE.repeat(4), 1);
  await say(SENTENCE.repeat(4), 2);
  await expect(page.getByTestId('context-window-note')).toHaveCount(0);

  // A third does not: the first turn (a message and its reply) goes.
  await say(SENTENCE.repeat(4), 3);
  await expect(page.getByTestId('context-window-note')).toHaveText(
    "The model's context holds 256 tokens: the 2 oldest messages are no longer part of what it sees.",
  );
  await expect(page.getByTestId('user-message')).toHaveCount(3);
  const prefill = await replies.nth(2).locator('.stats').first().textContent();
  const promptTokens = Number(/\((\d+) tokens/.exec(prefill ?? '')?.[1]);
  expect(promptTokens).toBeGreaterThan(84 * 2);
  expect(promptTokens).toBeLessThanOrEqual(256 - 8);

  // One message longer than the context by itself: refused, with the limit and its length; no reply is started.
  await page.getByTestId('prompt').fill(SENTENCE.repeat(12));
  await page.getByTestId('send').click();
  const error = page.getByTestId('error');
  await expect(error).toHaveAttribute('data-code', 'limit-exceeded');
  await expect(error).toContainText('The newest message takes 253 tokens as the model sees it, but its context holds 256 tokens, 8 of them kept for the reply.');
  await expect(page.getByTestId('user-message')).toHaveCount(4);
  await expect(replies).toHaveCount(3);
});
