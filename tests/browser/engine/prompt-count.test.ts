// The worker's count-prompt request (InferenceClient.countPrompt) on the real thing: the app's inference worker in
// headless Chromium's WebGPU with stories260K. Each count is checked against the prompt the same worker then
// evaluates (the done event's timings.promptTokens), which is what the chat's context fitting relies on.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { isRbeeError } from '../../../src/lib/errors.ts';
import { InferenceClient } from '../../../src/lib/runtime/inference-client.ts';
import { fitConversation } from '../../../src/lib/runtime/conversation-window.ts';
import type { Prompt } from '../../../src/lib/engine/worker-protocol.ts';
import type { ChatMessage } from '../../../src/lib/tokenizer/types.ts';
import { fixtureSource } from './fixture-source.ts';

const CONTEXT = 256;
let client: InferenceClient;

beforeAll(async () => {
  const source = await fixtureSource('models/stories260K.gguf');
  expect(source, 'fixture ../shared/fixtures/models/stories260K.gguf').toBeDefined();
  const bytes = new Uint8Array(await source!.read(0, await source!.size()));
  client = InferenceClient.create();
  await client.load({ model: { kind: 'local', id: 'test' }, reach: { files: [new File([bytes], 'stories260K.gguf')] } }, { contextLength: CONTEXT });
});
afterAll(() => client?.terminate());

/** The prompt length the worker evaluates for `prompt` (one greedy token, the whole prompt run). */
async function evaluated(prompt: Prompt): Promise<number> {
  const r = await client.generate({ prompt, sampling: { temperature: 0 }, maxTokens: 1, stopTokens: [], cachePrompt: false });
  return r.timings.promptTokens;
}

const turn = (role: ChatMessage['role'], content: string): ChatMessage => ({ role, content });

describe('count-prompt through the inference worker (stories260K, WebGPU)', () => {
  test('a conversation’s count is the prompt the worker then evaluates, template and BOS included', async () => {
    const conversations: ChatMessage[][] = [
      [turn('user', 'Once upon a time')],
      [turn('system', 'Be brief.'), turn('user', 'Tell me a story.'), turn('assistant', ' Lily went to the park.'), turn('user', 'And then?')],
      [turn('user', '')],
    ];
    for (const messages of conversations) {
      const count = await client.countPrompt({ messages });
      expect(count, JSON.stringify(messages)).toBe(await evaluated({ messages }));
      // More than the words: the plain fallback writes each turn's role, and BOS leads.
      const words = (await client.tokenize(messages.map((m) => m.content).join(''), false)).length;
      expect(count).toBeGreaterThan(words);
    }
  });

  test('text and token-id prompts count as generate takes them', async () => {
    const text = 'The little dog ran to the big tree.';
    expect(await client.countPrompt({ text })).toBe((await client.tokenize(text)).length);
    expect(await client.countPrompt({ text })).toBe(await evaluated({ text }));
    expect(await client.countPrompt({ tokens: [1, 403, 407] })).toBe(3);
    await expect(client.countPrompt({ tokens: [1, 1_000_000] })).rejects.toMatchObject({ code: 'bad-value' });
  });

  test('a conversation fitted with the worker’s count is evaluated at exactly that length, within the context', async () => {
    const maxTokens = 32;
    const long = 'One day, a little girl named Lily found a shiny red ball in the park and ran home to show her mom. ';
    const history: ChatMessage[] = [];
    for (let i = 0; i < 6; i++) history.push(turn('user', `${long}${i}`), turn('assistant', ` ${long}`));
    history.push(turn('user', 'What happened next?'));
    const window = await fitConversation(history, { contextLength: CONTEXT, maxTokens, countPrompt: (messages) => client.countPrompt({ messages }) });
    expect(window.dropped).toBeGreaterThan(0);
    const length = await evaluated({ messages: window.messages });
    expect(length).toBeLessThanOrEqual(CONTEXT - maxTokens);
    expect(length).toBe(await client.countPrompt({ messages: window.messages }));
  });

  test('before a model is loaded the request fails with a clear error', async () => {
    const bare = InferenceClient.create();
    try {
      const error = await bare.countPrompt({ messages: [turn('user', 'hi')] }).catch((e: unknown) => e);
      expect(isRbeeError(error) && error.code).toBe('bad-value');
    } finally {
      bare.terminate();
    }
  });
});
