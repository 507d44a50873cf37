// The README's compatibility summary is the matrix's own: a cell flipped in src/lib/compat/matrix.ts without
// `npx tsx scripts/readme-matrix.ts` fails here, so the README never claims what the matrix does not.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { expect, test } from 'vitest';
import { README_MATRIX_END, README_MATRIX_START, matrixSummaryMarkdown } from '../../../src/lib/compat/matrix-summary.ts';
import { REPO_ROOT } from '../../support/fixtures.ts';

test("the README's matrix summary equals the matrix", () => {
  const readme = readFileSync(resolve(REPO_ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf(README_MATRIX_START);
  const end = readme.indexOf(README_MATRIX_END);
  expect(start).toBeGreaterThan(-1);
  expect(end).toBeGreaterThan(start);
  expect(readme.slice(start, end + README_MATRIX_END.length)).toBe(matrixSummaryMarkdown());
});

test('the summary shows every confidence the WebGPU llama GGUF cells have, by name', () => {
  const summary = matrixSummaryMarkdown();
  const llamaGguf = summary.split('\n').find((l) => l.startsWith('| Llama') && l.includes('| GGUF |'))!;
  expect(llamaGguf).toMatch(/verified: F32 /);
  expect(llamaGguf).toMatch(/planned: .*IQ2_XS/);
});
