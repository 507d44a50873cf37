// The honesty rule: a cell may say "verified" only when it names a test in this repository that exists and whose
// source holds that test's title. Nothing else may claim verified; a verified claim without its test fails here.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { listMatrix, matrixCell, VERIFIED } from '../../../src/lib/compat/matrix.ts';
import type { MatrixCell } from '../../../src/lib/compat/verdict.ts';
import { REPO_ROOT } from '../../support/fixtures.ts';

/** Every way a cell can break the rule, one line each (empty: honest). */
function dishonesty(cells: MatrixCell[], root = REPO_ROOT): string[] {
  const problems: string[] = [];
  for (const c of cells) {
    const where = `${c.architecture}/${c.format}/${c.weightType}/${c.backend}`;
    if (c.confidence !== 'verified') {
      if (c.test) problems.push(`${where} names a test but is ${c.confidence}`);
      continue;
    }
    if (!c.test) {
      problems.push(`${where} is verified but names no test`);
      continue;
    }
    const file = resolve(root, c.test.file);
    if (!c.test.file.startsWith('tests/') || !existsSync(file)) {
      problems.push(`${where}: test file ${c.test.file} does not exist under tests/`);
      continue;
    }
    // It must be a file the test runners pick up (vite.config.ts projects, playwright.config.ts), or it never runs in CI.
    if (!/^tests\/(node|cli|parity|browser)\/.+\.test\.ts$|^tests\/e2e\/.+\.(spec|test)\.ts$/.test(c.test.file)) {
      problems.push(`${where}: ${c.test.file} is not where the test runners look (tests/node|cli|parity|browser/**/*.test.ts, tests/e2e/**/*.spec|test.ts)`);
      continue;
    }
    const source = readFileSync(file, 'utf8');
    // The title as a string literal, so a comment mentioning it does not count.
    const quoted = ["'", '"', '`'].some((q) => source.includes(`${q}${c.test!.name}${q}`));
    if (c.test.name.trim() === '' || !quoted) problems.push(`${where}: ${c.test.file} has no test titled "${c.test.name}"`);
    // A parameterised test covers a cell only through a case it lists in its own file.
    if (c.test.case !== undefined) {
      const listed = ["'", '"', '`'].some((q) => source.includes(`${q}${c.test!.case}${q}`));
      if (!c.test.name.includes('%s') || !listed) problems.push(`${where}: ${c.test.file} lists no case '${c.test.case}' for "${c.test.name}"`);
    }
  }
  return problems;
}

describe('the compatibility matrix is honest', () => {
  test('every verified cell names a test file that exists and contains the named test title', () => {
    const listed = listMatrix();
    // VERIFIED lines are checked through matrixCell too, so a line for an unlisted combination cannot hide.
    const claimed = VERIFIED.map((v) => matrixCell(v.architecture, v.format, v.weightType, v.backend));
    expect(claimed.every((c) => c.confidence === 'verified')).toBe(true);
    expect(dishonesty([...listed, ...claimed])).toEqual([]);
    // Each VERIFIED line surfaces in the listing (the /compat page shows what is verified).
    for (const v of VERIFIED) {
      expect(listed.some((c) => c.architecture === v.architecture && c.format === v.format && c.weightType === v.weightType && c.backend === v.backend && c.confidence === 'verified')).toBe(true);
    }
  });

  test('verified appears only where VERIFIED lists it', () => {
    const verifiedCells = listMatrix().filter((c) => c.confidence === 'verified');
    expect(verifiedCells.length).toBe(VERIFIED.length);
  });

  test('the rule catches a verified cell whose test is missing, misnamed or absent', () => {
    const base: MatrixCell = {
      architecture: 'llama',
      format: 'gguf',
      weightType: 'F32',
      backend: 'webgpu',
      engine: 'webgpu',
      confidence: 'verified',
      reason: 'test of the rule',
    };
    expect(dishonesty([base])).toHaveLength(1);
    expect(dishonesty([{ ...base, test: { file: 'tests/node/compat/no-such-file.test.ts', name: 'x' } }])[0]).toMatch(/does not exist/);
    expect(dishonesty([{ ...base, test: { file: 'tests/node/compat/honesty.test.ts', name: ['a title', 'no test here has'].join(' ') } }])[0]).toMatch(/no test titled/);
    // This very file and one of its titles: honest.
    expect(dishonesty([{ ...base, test: { file: 'tests/node/compat/honesty.test.ts', name: 'verified appears only where VERIFIED lists it' } }])).toEqual([]);
    expect(dishonesty([{ ...base, test: { file: 'tests/support/fixtures.ts', name: 'x' } }])[0]).toMatch(/not where the test runners look/);
    expect(dishonesty([{ ...base, confidence: 'expected', test: { file: 'tests/node/compat/honesty.test.ts', name: 'x' } }])[0]).toMatch(/names a test but is expected/);
    // A parameterised test: its template must be there and the case listed in the same file.
    const parity = 'tests/parity/llama-cpp-parity.test.ts';
    const template = '%s: equal to llama.cpp on its exact F32 twin (near-tie 0.03, |Δp| ≤ 0.02)';
    expect(dishonesty([{ ...base, test: { file: parity, name: template, case: 'Q4_K' } }])).toEqual([]);
    expect(dishonesty([{ ...base, test: { file: parity, name: template, case: 'IQ2_XS' } }])[0]).toMatch(/lists no case/);
  });
});
