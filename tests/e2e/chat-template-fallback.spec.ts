// The chat page in the built app, in real Chromium on WebGPU, with stories260K given a chat template that refuses
// conversations longer than one question: the worker reports the model's own template (so the composer has no
// fallback note), the first reply's prompt is the template's, and the second reply — whose conversation the
// template refuses — says under it that the fallback wrote its prompt, with the template's message as text.
import { readFile } from 'node:fs/promises';
import { expect, test } from '@playwright/test';
import { fixture, HAS_FIXTURES } from '../support/fixtures.ts';
import { startRangeServer, type RangeServer } from '../support/range-server.ts';

test.skip(!HAS_FIXTURES, 'needs ../shared/fixtures (the real model files)');

const REFUSAL = 'This <b>template</b> takes one question';
const TEMPLATE = `{% if messages|length > 1 %}{{ raise_exception('${REFUSAL}') }}{% endif %}{{ bos_token }}{% for m in messages %}{{ m.content }}{% endfor %}`;

/**
 * stories260K with tokenizer.chat_template added as the first metadata entry. The entry is padded (a Jinja comment
 * after the template's text, which renders as nothing) to a multiple of the file's 32-byte alignment, so the tensor data moves by whole alignment units and
 * the tensor offsets (relative to the data) stay valid.
 */
function withTemplate(gguf: Uint8Array, template: string): Uint8Array {
  const enc = new TextEncoder();
  const key = enc.encode('tokenizer.chat_template');
  const entry = (t: Uint8Array) => 8 + key.length + 4 + 8 + t.length;
  let text = enc.encode(`${template}{##}`);
  const pad = (32 - (entry(text) % 32)) % 32;
  text = enc.encode(`${template}{#${' '.repeat(pad)}#}`);
  const kv = new Uint8Array(entry(text));
  const v = new DataView(kv.buffer);
  v.setBigUint64(0, BigInt(key.length), true);
  kv.set(key, 8);
  v.setUint32(8 + key.length, 8, true); // string
  v.setBigUint64(12 + key.length, BigInt(text.length), true);
  kv.set(text, 20 + key.length);
  const out = new Uint8Array(gguf.length + kv.length);
  out.set(gguf.subarray(0, 24));
  const header = new DataView(out.buffer);
  header.setBigUint64(16, header.getBigUint64(16, true) + 1n, true); // metadata entry count
  out.set(kv, 24);
  out.set(gguf.subarray(24), 24 + kv.length);
  return out;
}

let server: RangeServer;
test.beforeAll(async () => {
  const gguf = new Uint8Array(await readFile(fixture('models/stories260K.gguf')));
  server = await startRangeServer({ '/stories-template.gguf': withTemplate(gguf, TEMPLATE) });
});
test.afterAll(async () => server?.close());

test('a template that fails on a conversation: no note for the model, a text line under the reply that fell back', async ({ page }) => {
  await page.goto(`/chat?model=${encodeURIComponent(`${server.url}/stories-template.gguf`)}&engine=webgpu`);
  await expect(page.getByTestId('chat-model-name')).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId('send')).toBeVisible();
  // The worker renders with the model's template: nothing to say in the composer.
  await expect(page.getByTestId('template-note')).toHaveCount(0);

  await page.getByTestId('temperature').fill('0');
  await page.getByTestId('max-tokens').fill('8');
  await page.getByTestId('prompt').fill('Once upon a time');
  await page.getByTestId('send').click();
  const first = page.getByTestId('assistant-message').nth(0);
  await expect(first.getByTestId('decode-speed')).toBeVisible({ timeout: 90_000 });
  // The template wrote the prompt (BOS + the text): llama.cpp's greedy continuation, and no fallback line.
  await expect(first.locator('.content')).toHaveText(/^, there was a little girl/);
  await expect(first.getByTestId('template-fallback')).toHaveCount(0);

  await page.getByTestId('prompt').fill('Lily went to the park');
  await page.getByTestId('send').click();
  const second = page.getByTestId('assistant-message').nth(1);
  await expect(second.getByTestId('decode-speed')).toBeVisible({ timeout: 90_000 });
  await expect(second.getByTestId('template-fallback')).toHaveText(
    `The model's chat template failed on this conversation (${REFUSAL}); this reply used plain text.`,
  );
  // The template's message is shown as text: its <b> is not markup.
  await expect(second.getByTestId('template-fallback').locator('b')).toHaveCount(0);
});
