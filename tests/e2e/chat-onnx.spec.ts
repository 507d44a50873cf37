// The chat page with an ONNX export, in the built app, in real Chromium: the tiny bigram ONNX model (written by
// tests/support/tiny-onnx-model.ts) served from a local stand-in hub opens with its verdict, loads through
// transformers.js with structured progress (ONNX Runtime's WASM files from this app), and a greedy reply streams the
// model's own continuation — the same chat UI the GGUF models use.
import { expect, test } from '@playwright/test';
import { hubFiles } from '../support/prebuilt-repos.ts';
import { startRangeServer, type RangeServer } from '../support/range-server.ts';
import { tinyOnnxRepo } from '../support/tiny-onnx-model.ts';

const REPO = 'rbee-test/tiny-bigram-onnx';
let hub: RangeServer;

test.beforeAll(async () => {
  hub = await startRangeServer(hubFiles({ [REPO]: tinyOnnxRepo() }));
});
test.afterAll(async () => hub?.close());

// ONNX Runtime's start-up in Chromium takes tens of seconds on a busy machine.
test.setTimeout(120_000);

test('an ONNX repository chats through transformers.js: progress, streamed greedy reply, token counts', async ({ page }) => {
  await page.goto(`/chat?model=${encodeURIComponent(REPO)}&hub=${encodeURIComponent(hub.url)}`);
  // The prebuilt path shows its own loading view (the engine named), then the chat.
  await expect(page.getByTestId('chat-loading')).toHaveAttribute('data-engine', 'transformers.js', { timeout: 30_000 });
  await expect(page.getByTestId('chat-engine')).toContainText('transformers.js on', { timeout: 100_000 });
  await expect(page.getByTestId('chat-model-name')).toContainText(REPO);
  // The model's files came from the stand-in hub, not from huggingface.co.
  expect(hub.stats.get(`/${REPO}/resolve/main/onnx/model.onnx`)?.requests ?? 0).toBeGreaterThan(0);

  await page.getByTestId('temperature').fill('0');
  await page.getByTestId('prompt').fill('the');
  await page.getByTestId('send').click();
  const reply = page.getByTestId('assistant-message');
  // The chat template concatenates the messages: greedy bigram continuation of "the" until <eos>.
  await expect(reply.locator('.content')).toHaveText(/^\s*cat\s+sat\s+on\s+mat\s*$/, { timeout: 30_000 });
  // Four words and the end-of-sequence token, counted by the engine; its decode speed shown.
  await expect(reply.getByTestId('generated-tokens')).toHaveText('5 tokens');
  await expect(reply.getByTestId('decode-speed')).toHaveText(/^\d+(\.\d)?$/);
  await expect(page.getByTestId('send')).toBeVisible();
  await expect(page.getByTestId('user-message')).toHaveText('the');
});
