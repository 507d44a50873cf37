// `rbee-web tokenize`, spawned as users run it.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { fixture, HAS_FIXTURES, REPO_ROOT } from '../support/fixtures.ts';
import { vectors, vocabPath } from '../node/tokenizer/vocab-fixtures.ts';

function rbee(args: string[], stdin: string) {
  const r = spawnSync(process.execPath, [resolve(REPO_ROOT, 'bin/rbee-web.mjs'), 'tokenize', ...args], { input: stdin, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe.skipIf(!HAS_FIXTURES)('rbee-web tokenize', () => {
  test('--no-special --json on a llama.cpp vocabulary gives llama.cpp test vectors', () => {
    const cases = vectors('starcoder');
    const r = rbee(['--model', vocabPath('starcoder'), '--no-special', '--json'], JSON.stringify(cases.map((c) => c.text)));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(cases.map((c) => c.ids));
  });

  test('without --no-special: BOS added and special tokens parsed', () => {
    const r = rbee(['--model', fixture('models/stories260K.gguf'), '--json'], JSON.stringify(['Once upon a time', '<s>']));
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([[1, 403, 407, 261, 378], [1, 1]]);
  });

  test('input that is not a JSON array of strings: exit 1 with the error code', () => {
    const r = rbee(['--model', fixture('models/stories260K.gguf'), '--json'], '{"text": 1}');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('bad-json');
  });
});
