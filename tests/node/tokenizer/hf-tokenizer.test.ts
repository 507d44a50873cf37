// The tokenizer.json adapter (@huggingface/tokenizers behind our Tokenizer interface). No tokenizer.json fixture is
// shared, so one is assembled from the GPT-2 vocabulary and merges in ggml-vocab-gpt-2.gguf (the same data
// convert_hf_to_gguf.py copied out of GPT-2's tokenizer.json), and the two independent implementations must agree.
import { describe, expect, test } from 'vitest';
import { isRbeeError } from '../../../src/lib/errors.ts';
import { tokenizerFromGguf, tokenizerFromHf } from '../../../src/lib/tokenizer/index.ts';
import { HAS_FIXTURES } from '../../support/fixtures.ts';
import { vocabMetadata } from './vocab-fixtures.ts';

async function gpt2TokenizerJson(): Promise<object> {
  const m = await vocabMetadata('gpt-2');
  const tokens = m['tokenizer.ggml.tokens'] as string[];
  const vocab: Record<string, number> = {};
  tokens.forEach((t, i) => {
    if (i !== 50256) vocab[t] = i;
  });
  return {
    version: '1.0',
    added_tokens: [{ id: 50256, content: '<|endoftext|>', single_word: false, lstrip: false, rstrip: false, normalized: true, special: true }],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false, vocab, merges: m['tokenizer.ggml.merges'] },
  };
}

const TEXTS = [
  'Hello world',
  " Hello World! It's a test; we've 3 cases, don't we?",
  'Ελληνικά και русский язык 日本語 🦙 emoji 👍🏽',
  'def f(x):\n    return x * 2  # comment\n\n\tindented',
  '1234567890 3.14159 1,000,000',
];

describe.skipIf(!HAS_FIXTURES)('tokenizer.json through @huggingface/tokenizers', () => {
  test('agrees with our GGUF BPE on the same vocabulary; special tokens, EOS and EOG from tokenizer_config.json', async () => {
    const hf = tokenizerFromHf(await gpt2TokenizerJson(), {
      bos_token: '<|endoftext|>',
      eos_token: { content: '<|endoftext|>' },
      chat_template: [{ name: 'default', template: "{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}{% if add_generation_prompt %}assistant:{% endif %}" }],
    });
    const gguf = tokenizerFromGguf(await vocabMetadata('gpt-2'));
    expect(hf.kind).toBe('tokenizer.json');
    expect(hf.vocabSize).toBe(50257);
    for (const text of TEXTS) {
      const ids = hf.encode(text, { addSpecial: false });
      expect(ids).toEqual(gguf.encode(text, { addSpecial: false, parseSpecial: false }));
      expect(hf.decode(ids)).toBe(text);
    }
    expect(hf.eos).toBe(50256);
    expect(hf.isEog(50256)).toBe(true);
    expect(hf.addBos).toBe(false);
    expect(hf.encode('a<|endoftext|>b')).toEqual([64, 50256, 65]);
    expect(hf.decode([64, 50256, 65])).toBe('ab');
    expect(hf.decode([64, 50256, 65], { special: true })).toBe('a<|endoftext|>b');
    const format = hf.chatFormat();
    expect(format.source).toBe('model');
    expect(format.render([{ role: 'user', content: 'hi' }])).toBe('user: hi\nassistant:');
  });

  test('streams a multi-token emoji whole', async () => {
    const hf = tokenizerFromHf(await gpt2TokenizerJson(), { eos_token: '<|endoftext|>' });
    const ids = hf.encode(' 🦙!', { addSpecial: false });
    expect(ids.length).toBeGreaterThan(2);
    const decoder = hf.streamDecoder();
    const pieces = ids.map((id) => decoder.push(id));
    pieces.push(decoder.flush());
    expect(pieces.join('')).toBe(' 🦙!');
    expect(pieces.some((p) => p.includes('\uFFFD'))).toBe(false);
  });
});

test('a tokenizer.json that is not one is an RbeeError', () => {
  let caught: unknown;
  try {
    tokenizerFromHf({ hello: 'world' });
  } catch (e) {
    caught = e;
  }
  expect(isRbeeError(caught) && caught.code).toBe('bad-json');
});
