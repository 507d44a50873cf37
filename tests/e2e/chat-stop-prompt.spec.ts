// Stop while a long prompt is read (issue 17 item 4), in the built app on real Chromium WebGPU: a generated
// random-weight Llama (Q4_K, 512 × 6 layers, synthetic vocabulary: a digit is one byte-fallback token, so 1000 digits
// are ~1000 prompt tokens) whose prefill takes seconds here. While the worker reads the prompt the reply says
// "Reading the prompt… N/M tokens" with N growing; Stop turns into "Stopping…" and the reply ends, marked stopped,
// long before the whole prompt could have been read (a generous bound, not a timing claim). The address names the
// WebGPU engine (&engine=webgpu): on this software adapter the app would otherwise run GGUF on the CPU engine.
import { expect, test } from '@playwright/test';
import { generateLlamaGguf } from '../support/model-generator.ts';
import { startRangeServer, type RangeServer } from '../support/range-server.ts';

let server: RangeServer;
test.beforeAll(async () => {
  const model = generateLlamaGguf({
    weightType: 'Q4_K',
    embeddingLength: 512,
    feedForwardLength: 1536,
    blockCount: 6,
    headCount: 8,
    headCountKv: 2,
    contextLength: 2048,
    name: 'slow prefill',
  });
  server = await startRangeServer({ '/slow-prefill.gguf': model });
});
test.afterAll(async () => server?.close());

const DIGITS = Array.from({ length: 1000 }, (_, i) => String((i * 7) % 10)).join('');

test('a long prompt shows "Reading the prompt… N/M tokens", and Stop says "Stopping…" and ends it within a slice', async ({ page }) => {
  test.setTimeout(240_000);
  await page.goto(`/chat?model=${encodeURIComponent(`${server.url}/slow-prefill.gguf`)}&engine=webgpu`);
  await expect(page.getByTestId('chat-model-name')).toBeVisible({ timeout: 120_000 });
  await page.getByTestId('temperature').fill('0');
  await page.getByTestId('max-tokens').fill('16');
  await page.getByTestId('prompt').fill(DIGITS);
  await page.getByTestId('send').click();

  const progress = page.getByTestId('prompt-progress');
  await expect(progress).toHaveText(/^Reading the prompt… \d+\/\d+ tokens$/, { timeout: 60_000 });
  const read = async () => {
    const [done, total] = (await progress.textContent())!.match(/(\d+)\/(\d+)/)!.slice(1).map(Number) as [number, number];
    return { done, total };
  };
  const first = await read();
  const firstAt = Date.now();
  expect(first.total).toBeGreaterThan(900);
  // The count moves as slices finish.
  await expect.poll(async () => (await read()).done, { timeout: 60_000 }).toBeGreaterThan(first.done);
  const atStop = await read();
  const tokensPerSecond = (atStop.done - first.done) / Math.max(0.001, (Date.now() - firstAt) / 1000);
  expect(atStop.done).toBeLessThan(atStop.total);

  // Every label the Stop button shows from the click on, recorded in the page (the "Stopping…" state may be short).
  await page.evaluate(() => {
    const labels: string[] = [];
    (window as unknown as { stopLabels: string[] }).stopLabels = labels;
    const record = () => {
      const b = document.querySelector('[data-testid="stop"]');
      if (b && labels.at(-1) !== b.textContent) labels.push(b.textContent ?? '');
    };
    new MutationObserver(record).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  const clicked = Date.now();
  await page.getByTestId('stop').click();
  const reply = page.getByTestId('assistant-message');
  await expect(reply).toContainText('stopped', { timeout: 60_000 });
  await expect(page.getByTestId('send')).toBeVisible();
  const stopSeconds = (Date.now() - clicked) / 1000;
  expect(await page.evaluate(() => (window as unknown as { stopLabels: string[] }).stopLabels)).toContain('Stopping…');
  await expect(progress).toHaveCount(0);
  await expect(reply.getByTestId('generated-tokens')).toHaveText('0 tokens');
  // Generous bounds: well under what reading the rest of the prompt would have taken at the rate seen so far.
  const restSeconds = (atStop.total - atStop.done) / tokensPerSecond;
  expect(stopSeconds).toBeLessThan(30);
  expect(stopSeconds).toBeLessThan(restSeconds / 2);
});
