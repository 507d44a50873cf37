// The chat's note when rbee-web's fallback, not the model's template, shapes the prompt: which fallback (ChatML or
// plain text) by the same rule the inference worker applies, from a real model's header and from chosen metadata.
import { describe, expect, it } from 'vitest';
import type { ModelDescriptor } from '../../../src/lib/formats/descriptor.ts';
import { readGguf } from '../../../src/lib/formats/gguf.ts';
import { NodeFileSource } from '../../../src/lib/formats/node-file-source.ts';
import { textForModel } from '../../../src/lib/engine/tokenizer-choice.ts';
import type { GenerationTimings } from '../../../src/lib/engine/worker-protocol.ts';
import { chatFormatNote, templateFailedNote, templateFallbackNote } from '../../../src/lib/ui/chat/template-note.ts';
import { figuresFromTimings } from '../../../src/lib/ui/chat/transcript.ts';
import { fixture, HAS_FIXTURES } from '../../support/fixtures.ts';
import { HOSTILE_TEMPLATES } from '../../support/hostile-templates.ts';
import { TEMPLATE_LIMITS } from '../../../src/lib/tokenizer/template-budget.ts';

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

  it('a runaway template in the header is parsed, never run, on the page (the worker renders it within budget)', () => {
    for (const template of Object.values(HOSTILE_TEMPLATES)) {
      const started = performance.now();
      expect(templateFallbackNote(gguf({ ...CHATML_VOCAB, 'tokenizer.chat_template': template }))).toBeUndefined();
      // Rendering any of them takes the whole render budget; parsing takes milliseconds.
      expect(performance.now() - started).toBeLessThan(TEMPLATE_LIMITS.milliseconds / 4);
    }
  });

  it("the model's own template: no note; a template that does not parse: says so, and which fallback", () => {
    expect(templateFallbackNote(gguf({ ...CHATML_VOCAB, 'tokenizer.chat_template': '{% for m in messages %}{{ m.content }}{% endfor %}' }))).toBeUndefined();
    const note = templateFallbackNote(gguf({ ...CHATML_VOCAB, 'tokenizer.chat_template': '{% for m in messages %}' }));
    expect(note).toMatch(/^This model's chat template cannot be read \(.+\), so rbee-web writes the conversation as ChatML/);
    expect(note).not.toMatch(/\(The model's chat template/); // the parser's words, not a second sentence about it
  });

  it('SafeTensors: no note with a template; without one, both fallbacks named (the vocabulary is not read here)', () => {
    const st = (hasChatTemplate: boolean) => ({ format: 'safetensors', hasChatTemplate }) as unknown as ModelDescriptor;
    expect(templateFallbackNote(st(true))).toBeUndefined();
    expect(templateFallbackNote(st(false))).toMatch(/no chat template.*ChatML if its vocabulary has <\|im_start\|>, else as plain text/);
  });
});

describe("the worker's answer (LoadedModelInfo.chatFormat) as the composer's note", () => {
  it('template: no note; each fallback named exactly, with the parser’s message when the template cannot be read', () => {
    expect(chatFormatNote({ kind: 'template' })).toBeUndefined();
    expect(chatFormatNote({ kind: 'chatml-fallback', reason: 'missing' })).toMatch(/^This model has no chat template, so rbee-web writes the conversation as ChatML \(/);
    const plain = chatFormatNote({ kind: 'plain-fallback', reason: 'missing' });
    expect(plain).toMatch(/as plain text for the model to continue/);
    // Exact, unlike the SafeTensors header note that has to name both.
    expect(plain).not.toContain('ChatML');
    expect(chatFormatNote({ kind: 'plain-fallback', reason: 'invalid', error: 'Unexpected end of template' })).toBe(
      "This model's chat template cannot be read (Unexpected end of template), so rbee-web writes the conversation as plain text for the model to continue, with no roles: a base model completes text rather than chats.",
    );
  });

  it.skipIf(!HAS_FIXTURES)('stories260K: the loaded model’s note is the one the header gave (same rule, same answer)', async () => {
    const source = await NodeFileSource.open(fixture('models/stories260K.gguf'));
    try {
      const d = await readGguf(source);
      const text = await textForModel(d.gguf!.metadata);
      expect(chatFormatNote(text.chatFormat!)).toBe(templateFallbackNote(d));
    } finally {
      await source.close();
    }
  });
});

describe('a reply whose prompt fell back because the template failed on the conversation', () => {
  const timings: GenerationTimings = { promptTokens: 9, generatedTokens: 4, prefillSeconds: 0.1, decodeSeconds: 0.2, prefillTokensPerSecond: 90, decodeTokensPerSecond: 15 };

  it('says so under the reply, with the template’s message as text and the format used', () => {
    expect(templateFailedNote({ kind: 'chatml-fallback', error: 'System role not supported' })).toBe(
      "The model's chat template failed on this conversation (System role not supported); this reply used ChatML.",
    );
    const figures = figuresFromTimings(timings, false, { kind: 'plain-fallback', error: '<b>Conversation roles must alternate</b>' });
    // Kept as the raw text (the transcript shows it as text, never HTML).
    expect(figures.templateFallback).toBe("The model's chat template failed on this conversation (<b>Conversation roles must alternate</b>); this reply used plain text.");
    expect(figuresFromTimings(timings, false).templateFallback).toBeUndefined();
  });
});
