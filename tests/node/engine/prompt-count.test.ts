// The count the inference worker answers a count-prompt request with (ModelText.promptLength on the model the worker
// opened) against the prompt its generate then evaluates (ModelText.prompt → runGeneration), for models opened by the
// worker's own prepareModel: stories260K's GGUF and a SafeTensors twin of it with tokenizer.json (+ tokenizer_config.json
// with and without a chat template) — the SafeTensors case the page could not count before, since only the worker
// reads tokenizer.json. (The worker round trip itself is tests/browser/engine/prompt-count.test.ts.)
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { fitConversation } from '../../../src/lib/runtime/conversation-window.ts';
import { runGeneration, type LogitsModel } from '../../../src/lib/engine/generation.ts';
import { prepareModel, type PreparedModel } from '../../../src/lib/engine/model-opening.ts';
import type { Prompt } from '../../../src/lib/engine/worker-protocol.ts';
import type { GgufValue } from '../../../src/lib/formats/descriptor.ts';
import { readGguf } from '../../../src/lib/formats/gguf.ts';
import { MemoryByteSource } from '../../../src/lib/formats/memory-source.ts';
import type { ChatMessage } from '../../../src/lib/tokenizer/types.ts';
import { fixture, HAS_FIXTURES } from '../../support/fixtures.ts';
import { writeSafetensorsTwin } from '../../support/safetensors-twin.ts';
import { spmTokenizerFiles } from '../../support/spm-tokenizer-json.ts';

const ROLE_TEMPLATE = "{% for m in messages %}<<{{ m.role }}>> {{ m.content }}\n{% endfor %}{% if add_generation_prompt %}<<assistant>>{% endif %}";
const turn = (role: ChatMessage['role'], content: string): ChatMessage => ({ role, content });
const CONVERSATIONS: ChatMessage[][] = [
  [turn('user', 'Once upon a time')],
  [turn('system', 'Be brief.'), turn('user', 'Tell me a story.'), turn('assistant', ' Lily went to the park.'), turn('user', 'And then?')],
];

/** A model that records what generation feeds it and answers with flat logits (the count does not depend on them). */
function recordingModel(vocab: number): LogitsModel & { fed: number[] } {
  const fed: number[] = [];
  const logits = () => Promise.resolve(new Float32Array(vocab));
  return {
    fed,
    prefill: (tokens) => (fed.push(...tokens), logits()),
    decode: (token) => (fed.push(token), logits()),
    get position() {
      return fed.length;
    },
    get cachedTokens() {
      return fed;
    },
    truncate: (n) => void fed.splice(n),
    reset: () => void fed.splice(0),
  };
}

/** What the worker's generate evaluates for `prompt` (its prompt tokens, as runGeneration reports and is fed them). */
async function evaluated(opened: PreparedModel, prompt: Prompt): Promise<number> {
  const model = recordingModel(opened.text.vocabSize);
  const { tokens } = opened.text.prompt(prompt);
  const r = await runGeneration(model, { promptTokens: tokens, sampling: { temperature: 0 }, maxTokens: 1, stopTokens: [], contextLength: 4096 });
  expect(model.fed.slice(0, tokens.length)).toEqual(tokens);
  return r.timings.promptTokens;
}

async function filesOf(dir: string): Promise<File[]> {
  return Promise.all((await readdir(dir)).map(async (name) => new File([await readFile(join(dir, name))], name)));
}

let dir: string;
let stories: Record<string, GgufValue>;
let gguf: PreparedModel;
beforeAll(async () => {
  if (!HAS_FIXTURES) return;
  dir = await mkdtemp(join(tmpdir(), 'rbee-prompt-count-'));
  const path = fixture('models/stories260K.gguf');
  stories = (await readGguf(new MemoryByteSource(new Uint8Array(await readFile(path)), path))).gguf!.metadata;
  gguf = await prepareModel({ kind: 'local', id: 'test' }, { reach: { files: [new File([await readFile(path)], 'stories260K.gguf')] }});
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The SafeTensors twin of stories260K with its tokenizer as tokenizer.json, opened as the worker opens dropped files. */
async function safetensors(name: string, template?: string): Promise<PreparedModel> {
  const folder = join(dir, name);
  await writeSafetensorsTwin(fixture('models/stories260K.gguf'), folder);
  const { tokenizerJson, tokenizerConfig } = spmTokenizerFiles(stories, template);
  await writeFile(join(folder, 'tokenizer.json'), JSON.stringify(tokenizerJson));
  await writeFile(join(folder, 'tokenizer_config.json'), JSON.stringify(tokenizerConfig));
  const opened = await prepareModel({ kind: 'local', id: 'test' }, { reach: { files: await filesOf(folder) }});
  expect(opened.descriptor.format).toBe('safetensors');
  return opened;
}

describe.runIf(HAS_FIXTURES)('the worker’s prompt count equals the prompt it evaluates', () => {
  test('GGUF (stories260K): conversations and text', async () => {
    for (const messages of CONVERSATIONS) expect(gguf.text.promptLength({ messages })).toBe(await evaluated(gguf, { messages }));
    expect(gguf.text.promptLength({ text: 'The dog ran.' })).toBe(await evaluated(gguf, { text: 'The dog ran.' }));
  });

  test('SafeTensors with tokenizer.json, no template: the same counts as the GGUF it was made from', async () => {
    const twin = await safetensors('plain');
    for (const messages of CONVERSATIONS) {
      const count = twin.text.promptLength({ messages });
      expect(count).toBe(await evaluated(twin, { messages }));
      expect(count).toBe(gguf.text.promptLength({ messages }));
    }
  });

  test('SafeTensors with a chat template in tokenizer_config.json: counted as that template renders', async () => {
    const twin = await safetensors('template', ROLE_TEMPLATE);
    expect(twin.text.chatFormat).toEqual({ kind: 'template' });
    for (const messages of CONVERSATIONS) {
      const count = twin.text.promptLength({ messages });
      expect(count).toBe(await evaluated(twin, { messages }));
      // The template's own markers are counted: not the plain fallback's length.
      expect(count).not.toBe(gguf.text.promptLength({ messages }));
    }
    // Fitting a long conversation with this count leaves a prompt that fits beside the reply.
    const long = 'One day, a little girl named Lily found a shiny red ball in the park and ran home. ';
    const history = Array.from({ length: 8 }, (_, i) => turn(i % 2 ? 'assistant' : 'user', `${long}${i}`));
    history.push(turn('user', 'What happened next?'));
    const window = await fitConversation(history, { contextLength: 256, maxTokens: 32, countPrompt: (m) => twin.text.promptLength({ messages: m }) });
    expect(window.dropped).toBeGreaterThan(0);
    expect(await evaluated(twin, { messages: window.messages })).toBeLessThanOrEqual(256 - 32);
  });
});
