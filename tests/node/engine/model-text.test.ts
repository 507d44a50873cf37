import { describe, expect, test } from 'vitest';
import { RbeeError } from '../../../src/lib/errors.ts';
import { ModelText } from '../../../src/lib/engine/model-text.ts';
import { textForModel } from '../../../src/lib/engine/tokenizer-choice.ts';
import { readGguf } from '../../../src/lib/formats/gguf.ts';
import { NodeFileSource } from '../../../src/lib/formats/node-file-source.ts';
import { fixture, HAS_FIXTURES } from '../../support/fixtures.ts';

async function metadataOf(path: string) {
  const source = await NodeFileSource.open(path);
  try {
    return (await readGguf(source)).gguf!.metadata;
  } finally {
    await source.close();
  }
}

describe.runIf(HAS_FIXTURES)('model text from a real GGUF vocabulary (stories260K)', () => {
  test('text prompts are tokenized with BOS; generated ids stream back to the same text', async () => {
    const text = await textForModel(await metadataOf(fixture('models/stories260K.gguf')));
    expect(text.canEncode).toBe(true);
    expect(text.promptTokens({ text: 'Once upon a time' })).toEqual([1, 403, 407, 261, 378]);
    expect(text.eogTokens).toContain(2);
    // llama.cpp's greedy continuation of "Once upon a time" on this model
    const ids = [432, 383, 286, 261, 376, 298, 315, 421];
    const stream = text.stream();
    expect(ids.map((id) => stream.push(id)).join('') + stream.flush()).toBe(', there was a little girl');
    expect(text.decode(ids)).toBe(', there was a little girl');
    // No chat template: the plain continuation fallback, so a one-message chat is the text with BOS.
    expect(text.promptTokens({ messages: [{ role: 'user', content: 'Once upon a time' }] })).toEqual([1, 403, 407, 261, 378]);
  });

  test('token prompts are checked against the vocabulary', async () => {
    const text = await textForModel(await metadataOf(fixture('models/stories260K.gguf')));
    expect(text.promptTokens({ tokens: [1, 511] })).toEqual([1, 511]);
    expect(() => text.promptTokens({ tokens: [512] })).toThrow(RbeeError);
  });
});

test('without a tokenizer: vocabulary pieces for output, token prompts only, a tokenizer error for text', () => {
  const text = ModelText.create({ 'tokenizer.ggml.tokens': ['<s>', '▁a', 'b'], 'tokenizer.ggml.eos_token_id': 0 });
  expect(text.canEncode).toBe(false);
  expect(text.decode([1, 2])).toBe(' ab');
  expect(text.eogTokens).toEqual([0]);
  expect(text.promptTokens({ tokens: [1, 2] })).toEqual([1, 2]);
  let error: unknown;
  try {
    text.promptTokens({ text: 'a' });
  } catch (e) {
    error = e;
  }
  expect((error as RbeeError).code).toBe('tokenizer');
});
