// The model page's big views, mounted in real Chromium: they must stay small in the DOM however big the model is,
// and show everything from the file as text.
import { flushSync, mount, unmount } from 'svelte';
import { afterEach, expect, test } from 'vitest';
import type { TensorInfo } from '../../../src/lib/formats/descriptor.ts';
import MetadataView from '../../../src/lib/ui/MetadataView.svelte';
import TensorTable from '../../../src/lib/ui/TensorTable.svelte';

let mounted: ReturnType<typeof mount> | undefined;
afterEach(() => {
  if (mounted) unmount(mounted);
  mounted = undefined;
  document.body.innerHTML = '';
});

function tensors(count: number): TensorInfo[] {
  return Array.from({ length: count }, (_, i) => ({
    name: `blk.${i}.ffn_down.weight`,
    dims: [4096, 11008],
    type: i % 2 ? 12 : 14,
    typeName: i % 2 ? 'Q4_K' : 'Q6_K',
    offset: i * 1000,
    size: 1000,
    file: 0,
  }));
}

const bodyRows = (): HTMLTableRowElement[] =>
  [...document.querySelectorAll<HTMLTableRowElement>('[data-testid="tensor-table"] tbody tr:not(.spacer)')];

test('20,000 tensors: only a window of rows is in the DOM, and scrolling moves the window', async () => {
  mounted = mount(TensorTable, { target: document.body, props: { tensors: tensors(20_000) } });
  flushSync();
  expect(document.querySelector('[data-testid="tensor-count"]')!.textContent).toContain('20,000 of 20,000 tensors');
  expect(bodyRows().length).toBeGreaterThan(5);
  expect(bodyRows().length).toBeLessThan(80);
  expect(bodyRows()[0]!.textContent).toContain('blk.0.ffn_down.weight');

  const viewport = document.querySelector<HTMLDivElement>('.viewport')!;
  viewport.scrollTop = viewport.scrollHeight;
  viewport.dispatchEvent(new Event('scroll'));
  flushSync();
  const rows = bodyRows();
  expect(rows.length).toBeLessThan(80);
  expect(rows.at(-1)!.textContent).toContain('blk.19999.ffn_down.weight');
  // The scrollbar stays true to the whole list: spacer rows stand in for the rest.
  expect(viewport.scrollHeight).toBeGreaterThan(20_000 * 25);
});

test('the tensor filter matches name fragments and exact type names together', () => {
  mounted = mount(TensorTable, { target: document.body, props: { tensors: tensors(1000) } });
  flushSync();
  const input = document.querySelector<HTMLInputElement>('#tensor-filter')!;
  input.value = 'blk.99 q4_k';
  input.dispatchEvent(new Event('input', { bubbles: true }));
  flushSync();
  // blk.99, blk.990 … blk.999: 11 names, of which the odd ones are Q4_K.
  expect(bodyRows().map((r) => r.cells[0]!.textContent)).toEqual(
    ['99', '991', '993', '995', '997', '999'].map((n) => `blk.${n}.ffn_down.weight`),
  );
  expect(document.querySelector('[data-testid="tensor-count"]')!.textContent).toContain('6 of 1,000 tensors');
});

test('a 150,000-item array shows its length and 8 items, grows in pages, and HTML stays text', () => {
  const vocab = Array.from({ length: 150_000 }, (_, i) => (i === 1 ? '<img src=x onerror="window.__xss=1">' : `tok${i}`));
  mounted = mount(MetadataView, {
    target: document.body,
    props: { entries: { 'tokenizer.ggml.tokens': vocab, 'general.name': '<b>bold</b>' } },
  });
  flushSync();
  const table = document.querySelector('[data-testid="metadata-table"]')!;
  expect(table.textContent).toContain('array of 150,000 strings');
  expect(table.querySelectorAll('.item')).toHaveLength(8);
  expect(table.textContent).toContain('<img src=x onerror="window.__xss=1">');
  expect(table.textContent).toContain('<b>bold</b>');
  expect(table.querySelector('img, b')).toBeNull();

  table.querySelector<HTMLButtonElement>('button')!.click();
  flushSync();
  expect(table.querySelectorAll('.item')).toHaveLength(200);
  expect(table.querySelector('button')!.textContent).toContain('149,800 of 150,000 not shown yet');
});

test('nested arrays and a long multi-line template fold until asked', () => {
  const template = `{% for m in messages %}\n${'x'.repeat(500)}\n{% endfor %}`;
  mounted = mount(MetadataView, {
    target: document.body,
    props: { entries: { 'tokenizer.chat_template': template, nested: [[1, 2], [3]] } },
  });
  flushSync();
  const table = document.querySelector('[data-testid="metadata-table"]')!;
  expect(table.textContent).toContain('array of 2 arrays');
  expect(table.querySelector('pre')).toBeNull();
  const show = [...table.querySelectorAll('button')].find((b) => b.textContent?.includes('show all'))!;
  expect(show.textContent).toContain(`show all ${template.length} characters`);
  show.click();
  flushSync();
  expect(table.querySelector('pre')!.textContent).toBe(template);
});
