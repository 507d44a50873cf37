// Chat templates: the model's own (GGUF tokenizer.chat_template) rendered with @huggingface/jinja, the fallbacks,
// broken templates, stop strings, and the prompt's ids.
import { describe, expect, test } from 'vitest';
import { isRbeeError } from '../../../src/lib/errors.ts';
import { readGguf } from '../../../src/lib/formats/gguf.ts';
import { NodeFileSource } from '../../../src/lib/formats/node-file-source.ts';
import {
  chatFormatFor,
  encodeChatPrompt,
  findStopString,
  pendingStopPrefix,
  renderChatTemplate,
  tokenizerFromGguf,
} from '../../../src/lib/tokenizer/index.ts';
import { fixture, HAS_FIXTURES } from '../../support/fixtures.ts';
import { vocabMetadata } from './vocab-fixtures.ts';

// Meta's Llama 3 instruct template (as published in its tokenizer_config.json).
const LLAMA3_TEMPLATE =
  "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}";

// A template that refuses conversations that do not alternate (as Mistral's and Llama 2's do).
const STRICT_TEMPLATE =
  "{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}[{{ message['role'] }}] {{ message['content'] }}\n{% endfor %}";

const conversation = [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content: 'Hi!' },
  { role: 'assistant', content: 'Hello.' },
  { role: 'user', content: 'What is 2+2?' },
];

describe('chat templates', () => {
  test('renders a Llama 3 template, multi-turn with a system prompt, and finds <|eot_id|> as the end of turn', () => {
    const format = chatFormatFor({ template: LLAMA3_TEMPLATE, bosToken: '<|begin_of_text|>', eosToken: '<|end_of_text|>' });
    expect(format.source).toBe('model');
    expect(format.render(conversation)).toBe(
      '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are terse.<|eot_id|>' +
        '<|start_header_id|>user<|end_header_id|>\n\nHi!<|eot_id|>' +
        '<|start_header_id|>assistant<|end_header_id|>\n\nHello.<|eot_id|>' +
        '<|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|>' +
        '<|start_header_id|>assistant<|end_header_id|>\n\n',
    );
    expect(format.render(conversation, { addGenerationPrompt: false }).endsWith('What is 2+2?<|eot_id|>')).toBe(true);
    expect(format.stopStrings).toContain('<|eot_id|>');
    expect(format.stopStrings).toContain('<|end_of_text|>');
  });

  test('ChatML fallback when the vocabulary has <|im_start|> but the model has no template', () => {
    const format = chatFormatFor({ hasChatMlTokens: true, eosToken: '<|endoftext|>' });
    expect(format.source).toBe('fallback');
    expect(format.fallback).toBe('chatml');
    expect(format.fallbackReason).toBe('missing');
    expect(format.render(conversation)).toBe(
      '<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\nHello.<|im_end|>\n' +
        '<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n',
    );
    expect(format.stopStrings).toContain('<|im_end|>');
  });

  test('a syntax error gives RbeeError "template" and the fallback, flagged as invalid', () => {
    let caught: unknown;
    try {
      renderChatTemplate('{% for m in messages %}{{ m.content }', conversation);
    } catch (e) {
      caught = e;
    }
    expect(isRbeeError(caught) && caught.code).toBe('template');
    const format = chatFormatFor({ template: '{% if %}' });
    expect(format.source).toBe('fallback');
    expect(format.fallbackReason).toBe('invalid');
    expect(format.error?.code).toBe('template');
    expect(format.render([{ role: 'user', content: 'Once upon a time' }])).toBe('Once upon a time');
  });

  test('raise_exception in a template: a clear error from render, the fallback from renderOrFallback', () => {
    const format = chatFormatFor({ template: STRICT_TEMPLATE, hasChatMlTokens: true });
    const ok = [{ role: 'user', content: 'a' }, { role: 'assistant', content: 'b' }];
    expect(format.render(ok, { addGenerationPrompt: false })).toBe('[user] a\n[assistant] b\n');
    const bad = [{ role: 'user', content: 'a' }, { role: 'user', content: 'b' }];
    expect(() => format.render(bad)).toThrowError(/roles must alternate/);
    try {
      format.render(bad);
    } catch (e) {
      expect(isRbeeError(e) && e.code).toBe('template');
    }
    const fallback = format.renderOrFallback(bad);
    expect(fallback.usedFallback).toBe(true);
    expect(fallback.error?.code).toBe('template');
    expect(fallback.text).toBe('<|im_start|>user\na<|im_end|>\n<|im_start|>user\nb<|im_end|>\n<|im_start|>assistant\n');
  });

  test('message text is passed through as text: no HTML escaping, markup stays literal', () => {
    const text = renderChatTemplate(LLAMA3_TEMPLATE, [{ role: 'user', content: '<script>alert(1)</script> & "x"' }], { bos_token: '' });
    expect(text).toContain('<script>alert(1)</script> & "x"');
  });

  test('stop strings: where to cut, and how much to hold back while streaming', () => {
    expect(findStopString('Four.<|im_end|>\n<|im_start|>', ['<|im_end|>'])).toBe(5);
    expect(findStopString('Four.', ['<|im_end|>'])).toBe(-1);
    expect(pendingStopPrefix('Four.<|im_', ['<|im_end|>'])).toBe(5);
    expect(pendingStopPrefix('Four.', ['<|im_end|>'])).toBe(0);
  });
});

describe.skipIf(!HAS_FIXTURES)('chat prompts from GGUF models', () => {
  test("Phi-3's own template: rendered, and its prompt ids (one BOS, special tokens parsed, <|end|> stops)", async () => {
    const tokenizer = tokenizerFromGguf(await vocabMetadata('phi-3'));
    const format = tokenizer.chatFormat();
    expect(format.source).toBe('model');
    const text = format.render([{ role: 'user', content: 'Hello' }]);
    expect(text).toBe('<s><|user|>\nHello<|end|>\n<|assistant|>\n');
    // llama.cpp: <|user|> etc. right-strip the newline after them for Phi-3.
    expect(encodeChatPrompt(tokenizer, text)).toEqual([1, 32010, 15043, 32007, 32001]);
    expect(format.stopStrings).toContain('<|end|>');
    expect(tokenizer.isEog(32007)).toBe(true);
  });

  test('stories260K has no template: the plain fallback continues "Once upon a time" as llama.cpp does', async () => {
    const source = await NodeFileSource.open(fixture('models/stories260K.gguf'));
    const metadata = (await readGguf(source)).gguf!.metadata;
    await source.close();
    const tokenizer = tokenizerFromGguf(metadata);
    const format = tokenizer.chatFormat();
    expect(format.source).toBe('fallback');
    expect(format.fallback).toBe('plain');
    expect(format.fallbackReason).toBe('missing');
    const text = format.render([{ role: 'user', content: 'Once upon a time' }]);
    expect(encodeChatPrompt(tokenizer, text)).toEqual([1, 403, 407, 261, 378]);
  });
});
