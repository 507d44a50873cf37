// Every pre-tokenizer regex list against llama.cpp: the GPT-2 vocabulary re-written into GGUF files that name each
// tokenizer.ggml.pre in turn (llama.cpp selects its regexes by that name alone), loaded by node-llama-cpp and by us.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getLlama, LlamaLogLevel, type Llama } from 'node-llama-cpp';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { isRbeeError } from '../../../src/lib/errors.ts';
import type { GgufValue } from '../../../src/lib/formats/descriptor.ts';
import { tokenizerFromGguf } from '../../../src/lib/tokenizer/index.ts';
import { writeGguf, type GgufTyped } from '../../support/gguf-writer.ts';
import { HAS_FIXTURES } from '../../support/fixtures.ts';
import { randomTexts } from './random-text.ts';
import { vocabMetadata } from './vocab-fixtures.ts';

// (mpt, gpt-2, starcoder and deepseek-llm have their own vocabularies in oracle.test.ts.) command-r shares
// starcoder's regexes but keeps tokenization spaces when decoding.
const PRE_NAMES = ['llama-bpe', 'qwen2', 'deepseek-coder', 'falcon', 'refact', 'default', 'command-r'];

/** The GPT-2 vocabulary file with another pre-tokenizer name (and the hyperparameters a vocab-only load reads). */
function gpt2VocabWithPre(m: Record<string, GgufValue>, pre: string): Uint8Array {
  const u32 = (key: string): [string, GgufTyped] => [key, { type: 'u32', value: Number(m[key]) }];
  return writeGguf({
    metadata: [
      ['general.architecture', { type: 'string', value: 'gpt2' }],
      ['general.name', { type: 'string', value: `gpt-2 as ${pre}` }],
      u32('gpt2.block_count'),
      u32('gpt2.context_length'),
      u32('gpt2.embedding_length'),
      u32('gpt2.feed_forward_length'),
      u32('gpt2.attention.head_count'),
      ['gpt2.attention.layer_norm_epsilon', { type: 'f32', value: Number(m['gpt2.attention.layer_norm_epsilon']) }],
      ['tokenizer.ggml.model', { type: 'string', value: 'gpt2' }],
      ['tokenizer.ggml.pre', { type: 'string', value: pre }],
      ['tokenizer.ggml.tokens', { type: 'array', itemType: 'string', value: m['tokenizer.ggml.tokens'] as string[] }],
      ['tokenizer.ggml.token_type', { type: 'array', itemType: 'i32', value: m['tokenizer.ggml.token_type'] as number[] }],
      ['tokenizer.ggml.merges', { type: 'array', itemType: 'string', value: m['tokenizer.ggml.merges'] as string[] }],
      u32('tokenizer.ggml.bos_token_id'),
      u32('tokenizer.ggml.eos_token_id'),
    ],
    tensors: [],
  });
}

describe.skipIf(!HAS_FIXTURES)('pre-tokenizers equal llama.cpp', () => {
  let llama: Llama;
  let dir: string;
  let metadata: Record<string, GgufValue>;
  beforeAll(async () => {
    llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.disabled });
    dir = mkdtempSync(join(tmpdir(), 'rbee-pre-'));
    metadata = await vocabMetadata('gpt-2');
  });
  afterAll(async () => {
    await llama?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test.each(PRE_NAMES)('%s', async (pre) => {
    const path = join(dir, `gpt2-${pre}.gguf`);
    writeFileSync(path, gpt2VocabWithPre(metadata, pre));
    const model = await llama.loadModel({ modelPath: path, vocabOnly: true });
    try {
      const ours = tokenizerFromGguf({ ...metadata, 'tokenizer.ggml.pre': pre, 'general.name': `gpt-2 as ${pre}` });
      expect(ours.addBos).toBe(model.tokens.shouldPrependBosToken);
      const wrong: unknown[] = [];
      for (const text of randomTexts(100, 0xbee + pre.length)) {
        const expected = Array.from(model.tokenize(text, false));
        const got = ours.encode(text, { addSpecial: false, parseSpecial: false });
        if (JSON.stringify(got) !== JSON.stringify(expected)) wrong.push({ text, expected, got });
        const detokenized = model.detokenize(expected, false);
        if (ours.decode(expected) !== detokenized) wrong.push({ text, detokenized, decoded: ours.decode(expected) });
      }
      expect(wrong).toEqual([]);
    } finally {
      await model.dispose();
    }
  });

  test('an unknown pre-tokenizer, tokenizer type or missing merges is an RbeeError "tokenizer"', () => {
    const codeOf = (m: Record<string, GgufValue>) => {
      try {
        tokenizerFromGguf(m);
        return 'no error';
      } catch (e) {
        return isRbeeError(e) ? `${e.code}: ${e.message}` : 'not an RbeeError';
      }
    };
    expect(codeOf({ ...metadata, 'tokenizer.ggml.pre': 'no-such-pre' })).toMatch(/^tokenizer: .*no-such-pre/);
    expect(codeOf({ ...metadata, 'tokenizer.ggml.model': 'bert' })).toMatch(/^tokenizer: .*'bert'/);
    const { ['tokenizer.ggml.merges']: _merges, ...noMerges } = metadata;
    expect(codeOf(noMerges)).toMatch(/^tokenizer: .*merges/);
    const { ['tokenizer.ggml.model']: _model, ...noModel } = metadata;
    expect(codeOf(noModel)).toMatch(/^tokenizer: .*no tokenizer/);
  });
});
