// The documented schema of /compat.json (static/compat.schema.json), compiled with Ajv (JSON Schema 2020-12) for the
// tests that check the served document and the one compatDocument() builds.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { REPO_ROOT } from './fixtures.ts';

export const COMPAT_SCHEMA: Record<string, unknown> = JSON.parse(readFileSync(resolve(REPO_ROOT, 'static/compat.schema.json'), 'utf8'));

let validate: ReturnType<Ajv2020['compile']> | undefined;

/** Validates a document against the schema: the list of Ajv's errors as text ([] when it is valid). */
export function compatSchemaErrors(document: unknown): string[] {
  // Strict: a typo in the schema (an unknown keyword) fails instead of silently allowing everything.
  validate ??= new Ajv2020({ allErrors: true, strict: true, strictRequired: false }).compile(COMPAT_SCHEMA);
  if (validate(document)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? e.keyword}`);
}
