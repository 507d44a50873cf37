// Streaming detokenization: pieces never hold half a character, and together they are the text.
import { describe, expect, test } from 'vitest';
import { tokenizerFromGguf } from '../../../src/lib/tokenizer/index.ts';
import { HAS_FIXTURES } from '../../support/fixtures.ts';
import { randomTexts } from './random-text.ts';
import { VOCABS, vocabMetadata } from './vocab-fixtures.ts';

const wellFormed = (s: string) => !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);

describe.skipIf(!HAS_FIXTURES)('stream decoder', () => {
  test('a llama made of four byte tokens appears once, whole', async () => {
    const tokenizer = tokenizerFromGguf(await vocabMetadata('llama-spm'));
    const ids = tokenizer.encode('🦙', { addSpecial: false, parseSpecial: false });
    // ▁ then <0xF0> <0x9F> <0xA6> <0x99>: the vocabulary has no llama.
    expect(ids.map((id) => tokenizer.tokenText(id))).toEqual(['▁', '<0xF0>', '<0x9F>', '<0xA6>', '<0x99>']);
    const decoder = tokenizer.streamDecoder();
    expect(ids.map((id) => decoder.push(id))).toEqual([' ', '', '', '', '🦙']);
    expect(decoder.flush()).toBe('');
  });

  test('an unfinished character at the end comes out as U+FFFD on flush, not before', async () => {
    const tokenizer = tokenizerFromGguf(await vocabMetadata('llama-spm'));
    const decoder = tokenizer.streamDecoder();
    const f0 = tokenizer.vocab.ids.get('<0xF0>')!;
    expect(decoder.push(f0)).toBe('');
    expect(decoder.flush()).toBe('\uFFFD');
  });

  test('control tokens render as nothing unless asked; BOS does not eat the leading space', async () => {
    const tokenizer = tokenizerFromGguf(await vocabMetadata('llama-spm'));
    const ids = tokenizer.encode('Hello world');
    expect(ids[0]).toBe(1);
    const plain = tokenizer.streamDecoder();
    expect(ids.map((id) => plain.push(id)).join('')).toBe(' Hello world');
    const special = tokenizer.streamDecoder({ special: true, stripLeadingSpace: true });
    expect(ids.map((id) => special.push(id)).join('')).toBe('<s> Hello world');
    // llama_detokenize: without BOS the model's leading space is dropped; after a BOS it stays unless removeSpecial.
    expect(tokenizer.decode(ids.slice(1))).toBe('Hello world');
    expect(tokenizer.decode(ids)).toBe(' Hello world');
    // (llama.cpp keeps the space when it removes the BOS: remove_space is cleared with it.)
    expect(tokenizer.decode(ids, { removeSpecial: true })).toBe(' Hello world');
  });

  test.each(VOCABS)('%s: random texts stream back exactly, piece by piece well-formed', async (name) => {
    const tokenizer = tokenizerFromGguf(await vocabMetadata(name));
    const bad: unknown[] = [];
    // SentencePiece spells spaces '▁', so a literal '▁' in the text comes back as a space (in llama.cpp too).
    const texts = randomTexts(80, 77).filter((t) => tokenizer.kind !== 'spm' || !t.includes('\u2581'));
    expect(texts.length).toBeGreaterThan(60);
    for (const text of texts) {
      const ids = tokenizer.encode(text, { addSpecial: false, parseSpecial: false });
      const decoder = tokenizer.streamDecoder({ stripLeadingSpace: tokenizer.kind === 'spm' });
      const pieces = ids.map((id) => decoder.push(id));
      pieces.push(decoder.flush());
      const joined = pieces.join('');
      if (joined !== text || !pieces.every(wellFormed) || pieces.some((p) => p.includes('\uFFFD'))) bad.push({ text, pieces });
    }
    expect(bad).toEqual([]);
  });
});
