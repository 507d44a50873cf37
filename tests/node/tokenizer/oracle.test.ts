// Against llama.cpp itself (node-llama-cpp, vocabulary-only loads of the same files): seeded random strings with
// mixed scripts, emoji, whitespace runs, digits and special-token look-alikes; special-token parsing; detokenization;
// the special ids and the end-of-generation set.
import { getLlama, LlamaLogLevel, type Llama, type LlamaModel, type Token } from 'node-llama-cpp';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { tokenizerFromGguf, type GgufTokenizer } from '../../../src/lib/tokenizer/index.ts';
import { HAS_FIXTURES } from '../../support/fixtures.ts';
import { randomTexts } from './random-text.ts';
import { VOCABS, vocabMetadata, vocabPath, type VocabName } from './vocab-fixtures.ts';

const RANDOM_PER_VOCAB = 200;

describe.skipIf(!HAS_FIXTURES)('tokenizers equal llama.cpp (node-llama-cpp)', () => {
  let llama: Llama;
  beforeAll(async () => {
    llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.disabled });
  });
  afterAll(async () => {
    await llama?.dispose();
  });

  async function both(name: VocabName): Promise<{ ours: GgufTokenizer; model: LlamaModel }> {
    const model = await llama.loadModel({ modelPath: vocabPath(name), vocabOnly: true });
    return { ours: tokenizerFromGguf(await vocabMetadata(name)), model };
  }

  test.each(VOCABS)('%s', async (name) => {
    const { ours, model } = await both(name);
    try {
      const texts = randomTexts(RANDOM_PER_VOCAB, 0x5eed + name.length);
      const plain: unknown[] = [];
      const special: unknown[] = [];
      const detok: unknown[] = [];
      for (const text of texts) {
        const expected = Array.from(model.tokenize(text, false));
        const got = ours.encode(text, { addSpecial: false, parseSpecial: false });
        if (JSON.stringify(got) !== JSON.stringify(expected)) plain.push({ text, expected, got });
        // node-llama-cpp's tokenize(text, true) parses special tokens but adds no BOS.
        const expectedSpecial = Array.from(model.tokenize(text, true));
        const gotSpecial = ours.encode(text, { addSpecial: false, parseSpecial: true });
        if (JSON.stringify(gotSpecial) !== JSON.stringify(expectedSpecial)) special.push({ text, expectedSpecial, gotSpecial });
        // llama_detokenize(remove_special = false), with and without rendering special tokens.
        for (const renderSpecial of [false, true]) {
          const ids = renderSpecial ? expectedSpecial : expected;
          const want = model.detokenize(ids, renderSpecial);
          const have = ours.decode(ids, { special: renderSpecial });
          if (want !== have) detok.push({ ids, want, have });
        }
      }
      expect(plain).toEqual([]);
      expect(special).toEqual([]);
      expect(detok).toEqual([]);

      // BOS / EOS as llama.cpp adds them.
      expect(ours.bos).toBe(model.tokens.bos ?? undefined);
      expect(ours.eos).toBe(model.tokens.eos ?? undefined);
      expect(ours.eot).toBe(model.tokens.eot ?? undefined);
      expect(ours.addBos).toBe(model.tokens.shouldPrependBosToken);
      const withSpecial = ours.encode('Hello <|im_start|> world');
      expect(withSpecial[0] === ours.bos).toBe(ours.addBos);
      expect(withSpecial.slice(ours.addBos ? 1 : 0)).toEqual(Array.from(model.tokenize('Hello <|im_start|> world', true)));

      // The end-of-generation set.
      const eog: number[] = [];
      for (let id = 0; id < ours.vocabSize; id++) if (model.isEogToken(id as Token)) eog.push(id);
      expect(ours.eogIds).toEqual(eog);
    } finally {
      await model.dispose();
    }
  });
});
