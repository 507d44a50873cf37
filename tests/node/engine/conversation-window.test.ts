// Fitting a conversation to the context with real prompt lengths: Phi-3's own chat template and tokenizer (the
// llama.cpp test vocabulary, which carries the template), counted by the same ModelText the inference worker uses.
import { describe, expect, test } from 'vitest';
import { isRbeeError, RbeeError } from '../../../src/lib/errors.ts';
import { fitConversation, replyRoom, windowNote, type PromptCounter } from '../../../src/lib/runtime/conversation-window.ts';
import { textForModel } from '../../../src/lib/engine/tokenizer-choice.ts';
import type { ChatMessage } from '../../../src/lib/tokenizer/types.ts';
import { HAS_FIXTURES } from '../../support/fixtures.ts';
import { vocabMetadata } from '../tokenizer/vocab-fixtures.ts';

const system: ChatMessage = { role: 'system', content: 'You are a terse assistant.' };
const chat: ChatMessage[] = [
  { role: 'user', content: 'What is the capital of France?' },
  { role: 'assistant', content: 'Paris.' },
  { role: 'user', content: 'And of Italy? Answer with one word, please.' },
  { role: 'assistant', content: 'Rome.' },
  { role: 'user', content: 'Name three rivers in Germany.' },
  { role: 'assistant', content: 'The Rhine, the Elbe and the Danube.' },
  { role: 'user', content: 'Which is longest?' },
];

async function phi3(): Promise<{ count: PromptCounter; calls: ChatMessage[][] }> {
  const text = await textForModel(await vocabMetadata('phi-3'));
  const calls: ChatMessage[][] = [];
  return {
    calls,
    count: (messages) => {
      calls.push(messages);
      return text.promptTokens({ messages }).length;
    },
  };
}

describe.runIf(HAS_FIXTURES)("fitting a conversation to the context (Phi-3's template and tokenizer)", () => {
  test('everything fits: the conversation as it is, counted once', async () => {
    const { count, calls } = await phi3();
    const all = [system, ...chat];
    const w = await fitConversation(all, { contextLength: 4096, maxTokens: 128, countPrompt: count });
    expect(w).toEqual({ messages: all, dropped: 0, promptTokens: await count(all), replyTokens: 128 });
    expect(calls).toHaveLength(2);
    expect(windowNote(w, 4096)).toBeUndefined();
  });

  test('the oldest whole turns go first, the system message stays, and the fit is exact at the boundary', async () => {
    const { count } = await phi3();
    const all = [system, ...chat];
    const withoutFirst = [system, ...chat.slice(2)];
    const withoutTwo = [system, ...chat.slice(4)];
    const n = { all: await count(all), withoutFirst: await count(withoutFirst), withoutTwo: await count(withoutTwo) };
    expect(n.all).toBeGreaterThan(n.withoutFirst);
    expect(n.withoutFirst).toBeGreaterThan(n.withoutTwo);
    const maxTokens = 16;
    // A context exactly the prompt without the first turn plus the reply's room: that prompt, not one token less.
    const exact = await fitConversation(all, { contextLength: n.withoutFirst + maxTokens, maxTokens, countPrompt: count });
    expect(exact.messages).toEqual(withoutFirst);
    expect(exact.dropped).toBe(2);
    expect(exact.promptTokens).toBe(n.withoutFirst);
    expect(exact.messages[0]).toEqual(system);
    expect(exact.messages[1]!.role).toBe('user');
    // One token less: the second turn goes too.
    const tighter = await fitConversation(all, { contextLength: n.withoutFirst + maxTokens - 1, maxTokens, countPrompt: count });
    expect(tighter.messages).toEqual(withoutTwo);
    expect(tighter.dropped).toBe(4);
    expect(windowNote(tighter, 2048)).toBe("The model's context holds 2,048 tokens: the 4 oldest messages are no longer part of what it sees.");
    // The whole conversation at exactly its size fits with nothing left out.
    expect((await fitConversation(all, { contextLength: n.all + maxTokens, maxTokens, countPrompt: count })).dropped).toBe(0);
  });

  test('without a system message the newest turn alone can be what is left; every count is a real prompt', async () => {
    const { count, calls } = await phi3();
    const newest = chat.slice(6);
    const n = await count(newest);
    calls.length = 0;
    const w = await fitConversation(chat, { contextLength: n + 8, maxTokens: 8, countPrompt: count });
    expect(w.messages).toEqual(newest);
    expect(w.dropped).toBe(6);
    expect(w.promptTokens).toBe(n);
    expect(windowNote({ dropped: 1 }, 512)).toBe("The model's context holds 512 tokens: the oldest message is no longer part of what it sees.");
    // Each window asked about starts with a user message (whole turns), never mid-turn.
    for (const c of calls) expect(c[0]!.role).toBe('user');
  });

  test('a newest message too long for the context is refused with the limit and its length', async () => {
    const { count } = await phi3();
    const long: ChatMessage[] = [...chat.slice(0, 2), { role: 'user', content: 'Tell me more about Paris and its history. '.repeat(40) }];
    const alone = await count([system, long[2]!]);
    const err = await fitConversation([system, ...long], { contextLength: 256, maxTokens: 64, countPrompt: count }).catch((e: unknown) => e);
    expect(isRbeeError(err)).toBe(true);
    expect((err as RbeeError).code).toBe('limit-exceeded');
    expect((err as RbeeError).message).toBe(
      `The newest message with the system message takes ${alone} tokens as the model sees it, but its context holds 256 tokens, 64 of them kept for the reply.`,
    );
    expect((err as RbeeError).hint).toMatch(/longer context/);
  });
});

test('the room kept for the reply is the max-tokens setting, at most half the context', () => {
  expect(replyRoom(128, 2048)).toBe(128);
  expect(replyRoom(4096, 2048)).toBe(1024);
  expect(replyRoom(0, 2048)).toBe(1);
});

test('a nonsensical context length is a bad value, not a loop', async () => {
  await expect(fitConversation(chat, { contextLength: 0, maxTokens: 1, countPrompt: () => 1 })).rejects.toMatchObject({ code: 'bad-value' });
});
