// End to end: `rbee-web companion` (the real CLI, llama.cpp on the CPU) paired with the app in real Chromium. The app
// finds it, shows what it runs, and chats through it; the streamed text equals llama.cpp's greedy continuation.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const FIXTURES = process.env.RBEE_FIXTURES ?? resolve(REPO_ROOT, '../shared/fixtures');
const MODEL = resolve(FIXTURES, 'models/stories260K.gguf');
const APP_ORIGIN = 'http://127.0.0.1:4319';
const TOKEN = 'e2e-pairing-token-4242';

/** llama.cpp's greedy continuation, computed by node-llama-cpp directly (not through the companion). */
async function greedy(prompt: string, maxTokens: number): Promise<string> {
  const { getLlama, LlamaLogLevel } = await import('node-llama-cpp');
  const llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error });
  const model = await llama.loadModel({ modelPath: MODEL });
  const context = await model.createContext({ threads: 1, contextSize: 512 });
  const out = [];
  for await (const token of context.getSequence().evaluate([model.tokens.bos!, ...model.tokenize(prompt, false)], { temperature: 0 })) {
    if (model.isEogToken(token) || out.push(token) >= maxTokens) break;
  }
  const text = model.detokenize(out);
  await llama.dispose();
  return text;
}

test.describe.configure({ mode: 'serial' });
test.skip(!existsSync(MODEL), 'needs ../shared/fixtures/models/stories260K.gguf');

let companion: ChildProcess;
let companionUrl: string;

test.beforeAll(async () => {
  companion = spawn(
    process.execPath,
    [resolve(REPO_ROOT, 'bin/rbee-web.mjs'), 'companion', '--model', MODEL, '--port', '0', '--threads', '1', '--token', TOKEN, '--allow-origin', APP_ORIGIN],
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  companion.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  companionUrl = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`companion did not start:\n${output}`)), 30_000);
    companion.stdout!.on('data', (c: Buffer) => {
      output += c.toString();
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolveUrl(match[1]!);
      }
    });
    companion.on('exit', () => reject(new Error(`companion exited:\n${output}`)));
  });
});

test.afterAll(() => {
  companion?.kill('SIGTERM');
});

test('the pairing link pairs, the page shows the native worker, and a chat streams llama.cpp\'s greedy text', async ({ page }) => {
  const expected = await greedy('Once upon a time', 40);
  expect(expected.startsWith(', there was a little girl named Lily. She loved to play')).toBe(true);

  await page.goto(`/settings?companion=${encodeURIComponent(companionUrl)}&token=${TOKEN}`);
  // A link only asks (pairing.spec.ts): the user confirms the host.
  await page.getByRole('button', { name: `Pair with ${new URL(companionUrl).host}` }).click();
  await expect(page.getByTestId('native-worker')).toContainText('native worker: stories260K on cpu');
  // The token left the address bar (and history) once stored.
  await expect(page).toHaveURL(/\/settings$/);
  await expect(page.locator('#companion-url')).toHaveValue(companionUrl);

  await page.locator('#native-prompt').fill('Once upon a time');
  await page.getByTestId('native-max-tokens').fill('40');
  await page.getByTestId('native-temperature').fill('0');
  await page.getByRole('button', { name: 'Generate' }).click();
  await expect(page.getByTestId('native-stats')).toContainText('40 tokens');
  await expect(page.getByTestId('native-stats')).toContainText(/first token \d+ ms/);
  await expect(page.getByTestId('native-output')).toHaveText(expected);
});

test('pasting address and token works too; "Find local rbee" finds it; a wrong token is flagged', async ({ page }) => {
  await page.goto('/settings');
  await page.locator('#companion-url').fill(companionUrl);
  await page.locator('#companion-token').fill('not-the-right-token');
  await page.getByRole('button', { name: 'Save' }).last().click();
  await expect(page.getByTestId('token-refused')).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Chat on native worker' })).toHaveCount(0);

  await page.locator('#companion-token').fill(TOKEN);
  await page.getByRole('button', { name: 'Save' }).last().click();
  await expect(page.getByTestId('native-worker')).toContainText('stories260K on cpu');
  await page.reload();
  await expect(page.getByTestId('native-worker')).toContainText('stories260K on cpu');
  await page.getByRole('button', { name: 'Find local rbee' }).click();
  await expect(page.getByTestId('native-worker').first()).toContainText('stories260K on cpu');
  await expect(page.getByRole('heading', { name: 'Chat on native worker' })).toBeVisible();
});

test('Stop ends the generation on the worker', async ({ page }) => {
  await page.goto(`/settings?companion=${encodeURIComponent(companionUrl)}&token=${TOKEN}`);
  await page.getByRole('button', { name: `Pair with ${new URL(companionUrl).host}` }).click();
  await page.getByTestId('native-max-tokens').fill('1500');
  await page.getByRole('button', { name: 'Generate' }).click();
  await expect(page.getByTestId('native-output')).toContainText('Lily');
  await page.getByRole('button', { name: 'Stop' }).click();
  await expect(page.getByTestId('native-stats')).toContainText('stopped');
  // The page stops reading at once; the companion notices the closed stream a moment later and ends the job.
  await expect
    .poll(async () => (await (await fetch(`${companionUrl}/v1/info`)).json()).busy, { timeout: 10_000 })
    .toBe(false);
  const tokens = Number(/(\d+) tokens/.exec((await page.getByTestId('native-stats').textContent()) ?? '')![1]);
  expect(tokens).toBeLessThan(1500);
});

test('a page on another origin cannot use the companion', async ({ page }) => {
  // Same app, other origin (localhost instead of 127.0.0.1): not in --allow-origin.
  await page.goto('http://localhost:4319/settings');
  const outcome = await page.evaluate(async (url) => {
    try {
      const r = await fetch(`${url}/v1/info`);
      return `answered ${r.status}`;
    } catch {
      return 'refused';
    }
  }, companionUrl);
  expect(outcome).toBe('refused');
  await page.locator('#companion-url').fill(companionUrl);
  await page.locator('#companion-token').fill(TOKEN);
  await page.getByRole('button', { name: 'Save' }).last().click();
  await expect(page.getByTestId('companion-sightings')).toContainText('--allow-origin http://localhost:4319');
});
