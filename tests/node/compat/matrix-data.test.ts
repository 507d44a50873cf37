// /compat.json is the matrix itself, in the shape its documented schema (static/compat.schema.json) declares: every
// listed cell once, nothing else, and the schema's fixed vocabularies are the code's.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { expect, test } from 'vitest';
import { COMPAT_SCHEMA_VERSION, compatDocument } from '../../../src/lib/compat/matrix-data.ts';
import { listMatrix } from '../../../src/lib/compat/matrix.ts';
import { BACKENDS, CONFIDENCE_ORDER, MATRIX_FORMATS } from '../../../src/lib/compat/verdict.ts';
import { COMPAT_SCHEMA, compatSchemaErrors } from '../../support/compat-schema.ts';
import { REPO_ROOT } from '../../support/fixtures.ts';

const VERSION = JSON.parse(readFileSync(resolve(REPO_ROOT, 'package.json'), 'utf8')).version as string;
const cellKey = (c: { architecture: string; format: string; weightType: string; backend: string }): string =>
  `${c.architecture}/${c.format}/${c.weightType}/${c.backend}`;

test('the document validates against its schema', () => {
  expect(compatSchemaErrors(compatDocument(VERSION))).toEqual([]);
});

test('it has exactly the cells of the matrix, each once, with the same confidence, engine, reason and test', () => {
  const doc = compatDocument(VERSION);
  const matrix = listMatrix();
  expect(doc.cells).toHaveLength(matrix.length);
  expect(new Set(doc.cells.map(cellKey)).size).toBe(doc.cells.length);
  const byKey = new Map(doc.cells.map((c) => [cellKey(c), c]));
  for (const m of matrix) {
    const c = byKey.get(cellKey(m));
    expect(c, cellKey(m)).toBeDefined();
    expect([c!.confidence, c!.engine, c!.reason]).toEqual([m.confidence, m.engine, m.reason]);
    expect(c!.test?.file).toBe(m.test?.file);
    if (m.test) expect(c!.test!.title).toBe(m.test.case === undefined ? m.test.name : m.test.name.replace('%s', m.test.case));
  }
  // Every backend of the matrix, and each cell on one of them (a backend added to the matrix appears by itself).
  expect(doc.backends).toEqual([...BACKENDS]);
  expect(new Set(doc.cells.map((c) => c.backend))).toEqual(new Set(BACKENDS));
  expect(doc.cells.filter((c) => c.confidence === 'verified').length).toBeGreaterThan(0);
});

test("the schema's fixed words are the code's: version, confidences, formats", () => {
  const props = COMPAT_SCHEMA.properties as Record<string, { const?: unknown }>;
  const defs = COMPAT_SCHEMA.$defs as Record<string, { enum?: unknown[]; properties?: Record<string, { enum?: unknown[] }> }>;
  expect(props.schemaVersion!.const).toBe(COMPAT_SCHEMA_VERSION);
  expect(defs.confidence!.enum).toEqual([...CONFIDENCE_ORDER]);
  expect(defs.cell!.properties!.format!.enum).toEqual([...MATRIX_FORMATS]);
  expect(compatDocument(VERSION).app).toEqual({ name: 'rbee-web', version: VERSION });
});

test('the schema rejects what a reader must not meet: a verified cell without its test, an unknown confidence, a test on an unverified cell', () => {
  const doc = compatDocument(VERSION);
  const verified = doc.cells.findIndex((c) => c.confidence === 'verified');
  const expected = doc.cells.findIndex((c) => c.confidence === 'expected');
  const withoutTest = structuredClone(doc);
  delete withoutTest.cells[verified]!.test;
  expect(compatSchemaErrors(withoutTest).join('\n')).toMatch(new RegExp(`/cells/${verified} must have required property 'test'`));
  const unknown = structuredClone(doc) as unknown as { cells: { confidence: string }[] };
  unknown.cells[0]!.confidence = 'probably';
  expect(compatSchemaErrors(unknown).join('\n')).toMatch(/\/cells\/0\/confidence must be equal to one of the allowed values/);
  const testOnExpected = structuredClone(doc);
  testOnExpected.cells[expected]!.test = { file: 'tests/x.test.ts', title: 'x' };
  expect(compatSchemaErrors(testOnExpected).length).toBeGreaterThan(0);
  expect(compatSchemaErrors({ ...doc, schemaVersion: 2 }).length).toBeGreaterThan(0);
});
