// Which chat format the inference worker reports (LoadedModelInfo.chatFormat) and when a request's prompt fell back
// (GenerationResult.templateFallback): both come from ModelText, built by tokenizer-choice exactly as the worker builds
// it, so these tests read real models the way the worker does — stories260K's GGUF vocabulary (no template), the same
// vocabulary with <|im_start|>/<|im_end|> added as control tokens (as ChatML models carry them), phi-3's vocabulary
// with its real template, and a SafeTensors twin of stories260K with tokenizer.json (+ tokenizer_config.json).
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { localFileSet } from '../../../src/cli/local-file-set.ts';
import { textForModel, textForSafetensors } from '../../../src/lib/engine/tokenizer-choice.ts';
import type { GgufValue } from '../../../src/lib/formats/descriptor.ts';
import { readGguf } from '../../../src/lib/formats/gguf.ts';
import { inspectSet } from '../../../src/lib/model/inspect.ts';
import { MemoryByteSource } from '../../../src/lib/formats/memory-source.ts';
import { CHATML_TEMPLATE, renderChatTemplate } from '../../../src/lib/tokenizer/chat-template.ts';
import { tokenizerFromGguf } from '../../../src/lib/tokenizer/index.ts';
import { fixture, HAS_FIXTURES } from '../../support/fixtures.ts';
import { writeSafetensorsTwin } from '../../support/safetensors-twin.ts';
import { spmTokenizerFiles } from '../../support/spm-tokenizer-json.ts';

const CONTROL = 3;
const HI = [{ role: 'user' as const, content: 'Once upon a time' }];
const WITH_SYSTEM = [{ role: 'system' as const, content: 'Be brief.' }, ...HI];
// A template that refuses one kind of conversation, as many real ones do (Gemma's and Mistral's reject a system turn).
const NO_SYSTEM_TEMPLATE =
  "{{ bos_token }}{% for m in messages %}{% if m.role == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}" +
  "{{ m.role }}: {{ m.content }}\n{% endfor %}{% if add_generation_prompt %}assistant:{% endif %}";

async function metadataOf(path: string): Promise<Record<string, GgufValue>> {
  return (await readGguf(new MemoryByteSource(new Uint8Array(await readFile(path)), path))).gguf!.metadata;
}

/** stories260K's vocabulary with <|im_start|> and <|im_end|> appended as control tokens (ids 512, 513). */
function withChatMlTokens(md: Record<string, GgufValue>): Record<string, GgufValue> {
  return {
    ...md,
    'tokenizer.ggml.tokens': [...(md['tokenizer.ggml.tokens'] as string[]), '<|im_start|>', '<|im_end|>'],
    'tokenizer.ggml.scores': [...(md['tokenizer.ggml.scores'] as number[]), 0, 0],
    'tokenizer.ggml.token_type': [...(md['tokenizer.ggml.token_type'] as number[]), CONTROL, CONTROL],
  };
}

let stories: Record<string, GgufValue>;
let dir: string;
beforeAll(async () => {
  if (!HAS_FIXTURES) return;
  stories = await metadataOf(fixture('models/stories260K.gguf'));
  dir = await mkdtemp(join(tmpdir(), 'rbee-chat-format-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe.runIf(HAS_FIXTURES)('the chat format the worker reports, from real vocabularies', () => {
  test('stories260K GGUF (no template, no ChatML tokens): plain-fallback, missing', async () => {
    const text = await textForModel(stories);
    expect(text.chatFormat).toEqual({ kind: 'plain-fallback', reason: 'missing' });
    // No template to fail: the fallback is the format, not news about this conversation.
    expect(text.prompt({ messages: WITH_SYSTEM }).templateFallback).toBeUndefined();
  });

  test('the same vocabulary with <|im_start|>/<|im_end|>: chatml-fallback, and the prompt is ChatML with those tokens', async () => {
    const text = await textForModel(withChatMlTokens(stories));
    expect(text.chatFormat).toEqual({ kind: 'chatml-fallback', reason: 'missing' });
    const { tokens } = text.prompt({ messages: HI });
    expect(tokens.filter((t) => t === 512)).toHaveLength(2); // the user turn and the generation prompt
    expect(tokens).toContain(513);
  });

  test('a template that does not parse: the fallback, reason invalid, with the parser’s message', async () => {
    const text = await textForModel({ ...withChatMlTokens(stories), 'tokenizer.chat_template': '{% for m in messages %}' });
    const format = text.chatFormat!;
    expect(format.kind).toBe('chatml-fallback');
    expect(format.reason).toBe('invalid');
    expect(format.error).toMatch(/\S/);
    expect(format.error).not.toMatch(/chat template/);
  });

  test('phi-3’s vocabulary with its own template: template; a conversation it renders does not fall back', async () => {
    const text = await textForModel(await metadataOf(fixture('tokenizers/ggml-vocab-phi-3.gguf')));
    expect(text.chatFormat).toEqual({ kind: 'template' });
    const prompt = text.prompt({ messages: WITH_SYSTEM });
    expect(prompt.templateFallback).toBeUndefined();
    expect(prompt.tokens.length).toBeGreaterThan(5);
  });

  test('a template that throws on some conversations: the flag and the message on those only, the fallback’s tokens', async () => {
    const md = { ...withChatMlTokens(stories), 'tokenizer.chat_template': NO_SYSTEM_TEMPLATE };
    const text = await textForModel(md);
    expect(text.chatFormat).toEqual({ kind: 'template' });
    const fine = text.prompt({ messages: HI });
    expect(fine.templateFallback).toBeUndefined();
    expect(fine.tokens).toEqual(tokenizerFromGguf(md).encode('user: Once upon a time\nassistant:', { parseSpecial: true }));

    const refused = text.prompt({ messages: WITH_SYSTEM });
    expect(refused.templateFallback?.kind).toBe('chatml-fallback');
    // The template's own words, not wrapped in another sentence (the chat page writes its own around them).
    expect(refused.templateFallback?.error).toBe('System role not supported');
    const chatml = renderChatTemplate(CHATML_TEMPLATE, WITH_SYSTEM, { addGenerationPrompt: true });
    expect(refused.tokens).toEqual(tokenizerFromGguf(md).encode(chatml, { parseSpecial: true }));
    // Without ChatML tokens the same refusal falls back to plain text.
    const plain = (await textForModel({ ...stories, 'tokenizer.chat_template': NO_SYSTEM_TEMPLATE })).prompt({ messages: WITH_SYSTEM });
    expect(plain.templateFallback?.kind).toBe('plain-fallback');
  });

  test('SafeTensors: the worker knows from tokenizer.json / tokenizer_config.json what the header alone cannot say', async () => {
    const folder = async (name: string, template: string | undefined, tokenizer = true) => {
      const path = join(dir, name);
      await writeSafetensorsTwin(fixture('models/stories260K.gguf'), path);
      if (tokenizer) {
        const { tokenizerJson, tokenizerConfig } = spmTokenizerFiles(stories, template);
        await writeFile(join(path, 'tokenizer.json'), JSON.stringify(tokenizerJson));
        await writeFile(join(path, 'tokenizer_config.json'), JSON.stringify(tokenizerConfig));
      }
      const set = localFileSet(path);
      return textForSafetensors((await inspectSet(set)).descriptor, set, '');
    };
    expect((await folder('template', NO_SYSTEM_TEMPLATE)).chatFormat).toEqual({ kind: 'template' });
    const refused = (await folder('template-2', NO_SYSTEM_TEMPLATE)).prompt({ messages: WITH_SYSTEM });
    expect(refused.templateFallback).toMatchObject({ kind: 'plain-fallback', error: expect.stringContaining('System role not supported') });
    expect((await folder('no-template', undefined)).chatFormat).toEqual({ kind: 'plain-fallback', reason: 'missing' });
    // No tokenizer.json: no text prompts, so no chat format to report.
    expect((await folder('no-tokenizer', undefined, false)).chatFormat).toBeUndefined();
  });
});
