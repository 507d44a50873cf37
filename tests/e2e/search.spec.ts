// The hub search on the home page, in the built app in real Chromium, against a local stand-in hub (search API, tree
// listings, files): results with expected verdicts and sizes from their file lists, sorting by size, a click through
// to the model page (which reads the real header from the same hub), a failing hub, and offline.
import { expect, test } from '@playwright/test';
import { matrixCell } from '../../src/lib/compat/matrix.ts';
import { startHubSearchServer, type HubSearchServer, type StandInModel } from '../support/hub-search-server.ts';
import { generateLlamaGguf } from '../support/model-generator.ts';

const GB = 1024 ** 3;
const TINY = 'rbee-test/tiny-llama-GGUF';
const TINY_FILE = 'tiny-llama-Q8_0.gguf';
const TINY_GGUF = generateLlamaGguf({ weightType: 'Q8_0', name: 'tiny search llama' });

const MODELS: StandInModel[] = [
  {
    id: TINY,
    downloads: 1200,
    tags: ['gguf', 'llama', 'text-generation'],
    pipeline_tag: 'text-generation',
    gguf: { architecture: 'llama', total: 1_000_000, context_length: 512 },
    files: { [TINY_FILE]: TINY_GGUF, 'README.md': new Uint8Array(8) },
  },
  {
    id: 'rbee-test/qwen-big',
    downloads: 90_000,
    tags: ['safetensors', 'qwen2', 'text-generation'],
    pipeline_tag: 'text-generation',
    safetensors: { parameters: { BF16: 1_500_000_000 }, total: 1_500_000_000 },
    files: {
      'config.json': new TextEncoder().encode(JSON.stringify({ model_type: 'qwen2', torch_dtype: 'bfloat16' })),
      'model.safetensors': 3 * GB,
    },
  },
  {
    id: 'rbee-test/mamba-GGUF',
    downloads: 40_000,
    tags: ['gguf', 'text-generation'],
    pipeline_tag: 'text-generation',
    gguf: { architecture: 'mamba' },
    files: { 'mamba-Q4_K_M.gguf': 1.5 * GB },
  },
];

let hub: HubSearchServer;
test.beforeAll(async () => {
  hub = await startHubSearchServer(MODELS);
});
test.afterAll(async () => hub?.close());

test('search the hub: results with expected verdicts and sizes, sorted by size, a click opens the model page', async ({ page }) => {
  await page.goto(`/?hub=${encodeURIComponent(hub.url)}`);
  await page.getByTestId('search-input').fill('rbee-test');
  const rows = page.getByTestId('search-result');
  // Most downloaded first, as the hub ranks them; both formats in one list.
  await expect(rows).toHaveCount(3);
  await expect(rows.getByTestId('search-result-link')).toHaveText(['rbee-test/qwen-big', 'rbee-test/mamba-GGUF', TINY]);
  expect(hub.searches.map((s) => s.get('filter')).sort()).toEqual(['gguf', 'safetensors']);
  expect(hub.searches.every((s) => s.get('search') === 'rbee-test' && s.get('pipeline_tag') === 'text-generation')).toBe(true);

  const tiny = rows.filter({ hasText: TINY });
  await expect(tiny.getByTestId('verdict-badge')).toHaveAttribute('data-confidence', matrixCell('llama', 'gguf', 'Q8_0', 'webgpu').confidence);
  await expect(tiny.getByTestId('search-size')).toContainText('Q8_0');
  const qwen = rows.filter({ hasText: 'rbee-test/qwen-big' });
  await expect(qwen.getByTestId('verdict-badge')).toHaveAttribute('data-confidence', matrixCell('qwen2', 'safetensors', 'BF16', 'webgpu').confidence);
  await expect(qwen.getByTestId('search-size')).toContainText('3 GiB');
  const mamba = rows.filter({ hasText: 'rbee-test/mamba-GGUF' });
  await expect(mamba.getByTestId('verdict-badge')).toHaveAttribute('data-confidence', 'unsupported');
  await expect(mamba.getByTestId('search-reason')).toContainText('mamba');
  await expect(mamba.getByTestId('search-size')).toContainText('1.5 GiB');
  // No weights were downloaded to show any of this.
  expect(hub.stats.get(`/${TINY}/resolve/main/${TINY_FILE}`)).toBeUndefined();

  await page.getByTestId('search-sort').selectOption('size-asc');
  await expect(rows.getByTestId('search-result-link')).toHaveText([TINY, 'rbee-test/mamba-GGUF', 'rbee-test/qwen-big']);
  await page.getByTestId('search-sort').selectOption('size-desc');
  await expect(rows.getByTestId('search-result-link')).toHaveText(['rbee-test/qwen-big', 'rbee-test/mamba-GGUF', TINY]);

  await rows.getByRole('link', { name: TINY }).click();
  await expect(page).toHaveURL(new RegExp(`/model\\?model=${encodeURIComponent(TINY)}&file=${TINY_FILE}`));
  await expect(page.getByTestId('architecture')).toHaveText('llama');
  await expect(page.getByTestId('verdict').getByTestId('verdict-badge').first()).toHaveAttribute('data-confidence', /verified|expected/);
});

test('a failing hub shows the error; offline, the search says it needs the network', async ({ page, context }) => {
  const failing = await startHubSearchServer([], { searchStatus: 503 });
  try {
    await page.goto(`/?hub=${encodeURIComponent(failing.url)}`);
    await page.getByTestId('search-input').fill('llama');
    const error = page.getByTestId('hub-search').getByTestId('error');
    await expect(error).toContainText('HTTP 503');
    await expect(error).toHaveAttribute('data-code', 'http');

    await context.setOffline(true);
    await expect(page.getByTestId('search-offline')).toContainText('Search needs the network');
    await expect(page.getByTestId('hub-search').getByTestId('error')).toHaveCount(0);
    await context.setOffline(false);
    // Back online, the same query goes out again.
    await expect(page.getByTestId('hub-search').getByTestId('error')).toContainText('HTTP 503');
    expect(failing.searches.length).toBeGreaterThanOrEqual(4);
  } finally {
    await failing.close();
  }
});
