// The chat page in the built app, in real Chromium on WebGPU: a real model (stories260K) from a server that honours
// Range, loaded in the inference worker with progress, a reply streamed greedily — llama.cpp's own continuation —
// and the speed figures; the note that rbee-web's fallback chat format is in use; the stop button; a clear error for a
// model that cannot run.
import { expect, test } from '@playwright/test';
import { fixture, HAS_FIXTURES } from '../support/fixtures.ts';
import { startRangeServer, type RangeServer } from '../support/range-server.ts';
import { writeGguf } from '../support/gguf-writer.ts';

test.skip(!HAS_FIXTURES, 'needs ../shared/fixtures (the real model files)');

let server: RangeServer;

/** A llama header whose matrices are IQ2_XXS (type 16): a real ggml type the engine does not run. */
function iq2Model(): Uint8Array {
  const u32 = (value: number) => ({ type: 'u32' as const, value });
  return writeGguf({
    metadata: [
      ['general.architecture', { type: 'string', value: 'llama' }],
      ['general.name', { type: 'string', value: 'iq2 test' }],
      ['llama.context_length', u32(256)],
      ['llama.embedding_length', u32(256)],
      ['llama.block_count', u32(1)],
      ['llama.feed_forward_length', u32(256)],
      ['llama.attention.head_count', u32(4)],
      ['llama.attention.head_count_kv', u32(4)],
    ],
    tensors: [
      { name: 'token_embd.weight', dims: [256, 256], type: 0, dataSize: 256 * 256 * 4 },
      { name: 'blk.0.attn_q.weight', dims: [256, 256], type: 16, dataSize: 256 * 66 },
    ],
  });
}

test.beforeAll(async () => {
  server = await startRangeServer({
    '/stories260K.gguf': fixture('models/stories260K.gguf'),
    '/once/stories260K.gguf': fixture('models/stories260K.gguf'),
    '/iq2.gguf': iq2Model(),
  });
});
test.afterAll(async () => server?.close());

test('one link, one header read: the model page, its chat page and the worker share what was read', async ({ page }) => {
  // WebGPU saved as the engine (Settings), so the chat loads in the inference worker, which reads only the tensors.
  await page.addInitScript(() => localStorage.setItem('rbee-web:engine', 'webgpu'));
  await page.goto(`/model?model=${encodeURIComponent(`${server.url}/once/stories260K.gguf`)}`);
  await expect(page.getByTestId('model-name')).toBeVisible({ timeout: 30_000 });
  const reads = () => server.stats.get('/once/stories260K.gguf')!.reads;
  const headerReads = () => reads().filter((r) => r.startsWith('bytes=0-'));
  expect(headerReads()).toHaveLength(1);
  const afterModelPage = reads().length;

  await page.getByRole('link', { name: 'Run in browser' }).click();
  await expect(page).toHaveURL(/\/chat\?model=/);
  await expect(page.getByTestId('chat-model-name')).toBeVisible({ timeout: 60_000 });
  // The chat page's verdict and the worker's load used the model page's read: the header was not asked for again,
  // only the tensor data after it (the weights the worker uploads).
  expect(headerReads()).toHaveLength(1);
  expect(reads().length).toBeGreaterThan(afterModelPage);
});

test('chat with stories260K: progress, a streamed greedy reply equal to llama.cpp, tok/s figures', async ({ page }) => {
  await page.goto(`/chat?model=${encodeURIComponent(`${server.url}/stories260K.gguf`)}&engine=webgpu`);
  await expect(page.getByTestId('chat-model-name')).toBeVisible({ timeout: 60_000 });
  expect(server.stats.get('/stories260K.gguf')!.bytesSent).toBeGreaterThan(1_000_000); // the weights came over Range
  // stories260K has no chat template and no ChatML tokens: the composer says the fallback (plain continuation) is used.
  await expect(page.getByTestId('template-note')).toHaveText(/^This model has no chat template, so rbee-web writes the conversation as plain text for the model to continue/);

  await page.getByTestId('temperature').fill('0');
  await page.getByTestId('max-tokens').fill('24');
  await page.getByTestId('prompt').fill('Once upon a time');
  await page.getByTestId('send').click();

  await expect(page.getByTestId('user-message')).toHaveText('Once upon a time');
  const reply = page.getByTestId('assistant-message');
  // llama.cpp's greedy continuation of "Once upon a time" on this model (see the parity test).
  await expect(reply.locator('.content')).toContainText(', there was a little girl', { timeout: 90_000 });
  await expect(reply.getByTestId('decode-speed')).toBeVisible({ timeout: 90_000 });
  expect(await reply.locator('.content').textContent()).toMatch(/^, there was a little girl named Lily/);
  for (const id of ['prefill-speed', 'decode-speed']) {
    const value = Number(await reply.getByTestId(id).textContent());
    expect(value).toBeGreaterThan(0);
  }
  await expect(reply.getByTestId('prefill-reused')).toHaveCount(0); // a first turn has nothing to keep

  // Stop: a long generation ends within a token when asked, and says it was stopped.
  await page.getByTestId('temperature').fill('0.8');
  await page.getByTestId('max-tokens').fill('2000');
  await page.getByTestId('prompt').fill('Lily went to the park');
  await page.getByTestId('send').click();
  await expect(page.getByTestId('stop')).toBeVisible();
  await expect(page.getByTestId('assistant-message').nth(1).locator('.content')).not.toHaveText('', { timeout: 60_000 });
  await page.getByTestId('stop').click();
  await expect(page.getByTestId('assistant-message').nth(1)).toContainText('stopped', { timeout: 30_000 });
  // The second turn's prompt starts with the first turn (BOS, "Once upon a time" and the reply): the worker kept
  // that prefix's K/V instead of evaluating it again, and the figures say how many tokens.
  expect(Number(await page.getByTestId('assistant-message').nth(1).getByTestId('prefill-reused').textContent())).toBeGreaterThan(0);
  await expect(page.getByTestId('send')).toBeVisible();
});

test('a model in a weight type the engine does not run: a clear error before any weight is loaded', async ({ page }) => {
  await page.goto(`/chat?model=${encodeURIComponent(`${server.url}/iq2.gguf`)}&engine=webgpu`);
  const error = page.getByTestId('error');
  await expect(error).toBeVisible({ timeout: 60_000 });
  await expect(error).toHaveAttribute('data-code', 'unsupported-weight-type');
  await expect(error).toContainText('IQ2_XXS');
  await expect(page.getByTestId('chat-loading')).toHaveCount(0);
});
