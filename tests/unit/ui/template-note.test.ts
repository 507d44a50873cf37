// The chat's note when rbee-web's fallback, not the model's template, shapes the prompt: which fallback (ChatML or
// plain text) by the same rule the inference worker applies, from a real model's header and from chosen metadata.
import { describe, expect, it } from 'vitest';
import type { ModelDescriptor } from '../../../src/lib/loaders/descriptor.ts';
import { readGguf } from '../../../src/lib/loaders/gguf.ts';
import { NodeFileSource } from '../../../src/lib/loaders/node-file-source.ts';
import { templateFallbackNote } from '../../../src/lib/ui/chat/template-note.ts';
import { fixture, HAS_FIXTURES } from '../../support/fixtures.ts';

const gguf = (metadata: Record<string, unknown>) => ({ format: 'gguf', hasChatTemplate: 'tokenizer.chat_template' in metadata, gguf: { metadata } }) as unknown as ModelDescriptor;
const CHATML_VOCAB = { 'tokenizer.ggml.tokens': ['<s>', '</s>', '<|im_start|>', '<|im_end|>', 'a'] };

describe('template fallback note', () => {
  it.skipIf(!HAS_FIXTURES)('stories260K (no template, no chat tokens): plain text to continue', async () => {
    const source = await NodeFileSource.open(fixture('models/stories260K.gguf'));
    try {
      const note = templateFallbackNote(await readGguf(source));
      expect(note).toMatch(/^This model has no chat template, so rbee-web writes the conversation as plain text for the model to continue/);
      expect(note).not.toContain('ChatML');
    } finally {
      await source.close();
    }
  });

  it('a vocabulary with <|im_start|> and <|im_end|> but no template: ChatML', () => {
    expect(templateFallbackNote(gguf(CHATML_VOCAB))).toMatch(/^This model has no chat template, so rbee-web writes the conversation as ChatML/);
    // One of the two is not enough for ChatML.
    expect(templateFallbackNote(gguf({ 'tokenizer.ggml.tokens': ['<|im_start|>', 'a'] }))).toContain('plain text');
  });

  it("the model's own template: no note; a template that does not parse: says so, and which fallback", () => {
    expect(templateFallbackNote(gguf({ ...CHATML_VOCAB, 'tokenizer.chat_template': '{% for m in messages %}{{ m.content }}{% endfor %}' }))).toBeUndefined();
    const note = templateFallbackNote(gguf({ ...CHATML_VOCAB, 'tokenizer.chat_template': '{% for m in messages %}' }));
    expect(note).toMatch(/^This model's chat template cannot be read \(.+\), so rbee-web writes the conversation as ChatML/);
  });

  it('SafeTensors: no note with a template; without one, both fallbacks named (the vocabulary is not read here)', () => {
    const st = (hasChatTemplate: boolean) => ({ format: 'safetensors', hasChatTemplate }) as unknown as ModelDescriptor;
    expect(templateFallbackNote(st(true))).toBeUndefined();
    expect(templateFallbackNote(st(false))).toMatch(/no chat template.*ChatML if its vocabulary has <\|im_start\|>, else as plain text/);
  });
});
