// llama.cpp's own tokenizer test vectors (models/ggml-vocab-*.gguf.inp/.out): no BOS, special tokens not parsed.
import { describe, expect, test } from 'vitest';
import { tokenizerFromGguf } from '../../../src/lib/tokenizer/index.ts';
import { HAS_FIXTURES } from '../../support/fixtures.ts';
import { VOCABS, vectors, vocabMetadata } from './vocab-fixtures.ts';

describe.skipIf(!HAS_FIXTURES)('llama.cpp tokenizer vectors', () => {
  test.each(VOCABS)('%s: every case equal', async (name) => {
    const tokenizer = tokenizerFromGguf(await vocabMetadata(name));
    const cases = vectors(name);
    expect(cases.length).toBeGreaterThanOrEqual(40);
    const mismatches = cases
      .map((c) => ({ text: c.text, expected: c.ids, got: tokenizer.encode(c.text, { addSpecial: false, parseSpecial: false }) }))
      .filter((r) => JSON.stringify(r.got) !== JSON.stringify(r.expected));
    expect(mismatches).toEqual([]);
  });
});
