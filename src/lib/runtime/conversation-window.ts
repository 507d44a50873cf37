/**
 * Fitting a conversation to the loaded context: the part of a chat the model sees. Chat apps let a conversation go on
 * past the context by leaving the oldest turns out of the prompt (llama.cpp refuses instead, or shifts its KV cache);
 * here the page does it before sending, with the prompt's exact length from the model's own tokenizer and chat
 * template (a count function — the chat passes the worker's `count-prompt`, the same code that builds the prompt — never
 * a character estimate, since templates add tokens of their own).
 *
 * What is kept: the leading system message, and the newest whole turns (a turn is a user message and the replies
 * after it), so the prompt still starts the way templates expect (system, then user) and never holds half a message.
 * The prompt plus room for the reply must fit the context. When even the newest turn alone does not fit, the reply is
 * refused with the numbers instead of being sent.
 *
 * Prompt caching needs nothing from here: the worker keeps the longest common prefix with its previous prompt, so a
 * prompt with a turn left out is evaluated again from the first difference (after the system message), and the turns
 * after that are reused again on the turn after.
 */
import { RbeeError } from '../errors.ts';
import type { ChatMessage } from '../tokenizer/types.ts';

/** Prompt tokens of a conversation as the model sees it (rendered with its chat template, then tokenized). */
export type PromptCounter = (messages: ChatMessage[]) => number | Promise<number>;

export interface WindowRequest {
  /** The loaded context length (KV cache rows). */
  contextLength: number;
  /** The reply's token limit (the max-tokens setting). */
  maxTokens: number;
  countPrompt: PromptCounter;
}

export interface ConversationWindow {
  /** What the model gets: the system message (if any) and the newest turns. */
  messages: ChatMessage[];
  /** How many of the conversation's oldest messages were left out. */
  dropped: number;
  /** The prompt's length in tokens. */
  promptTokens: number;
  /** Tokens kept free for the reply. */
  replyTokens: number;
}

/**
 * Room kept for the reply: the max-tokens setting, but at most half the context, so that a large setting on a small
 * context does not leave room for nothing but the newest message (a reply that reaches the end stops 'context-full').
 */
export function replyRoom(maxTokens: number, contextLength: number): number {
  return Math.max(1, Math.min(Math.floor(maxTokens), Math.floor(contextLength / 2)));
}

/** The conversation's turns: each starts at a user message; anything before the first user message is one turn. */
function turnsOf(messages: readonly ChatMessage[]): ChatMessage[][] {
  const turns: ChatMessage[][] = [];
  for (const m of messages) {
    if (m.role === 'user' || turns.length === 0) turns.push([m]);
    else turns[turns.length - 1]!.push(m);
  }
  return turns;
}

/**
 * The newest part of `messages` whose prompt plus the reply's room fits the context. One count when everything fits;
 * otherwise a binary search over how many turns to leave out (a prompt only gets shorter as turns go), and the
 * returned window's count is always one that was measured.
 */
export async function fitConversation(messages: readonly ChatMessage[], request: WindowRequest): Promise<ConversationWindow> {
  const { contextLength, countPrompt } = request;
  if (!Number.isInteger(contextLength) || contextLength < 2)
    throw new RbeeError('bad-value', `The context length must be an integer ≥ 2, not ${contextLength}.`);
  const replyTokens = replyRoom(request.maxTokens, contextLength);
  const budget = contextLength - replyTokens;
  const system = messages[0]?.role === 'system' ? [messages[0]] : [];
  const turns = turnsOf(messages.slice(system.length));

  const all = [...messages];
  const whole = await countPrompt(all);
  if (whole <= budget || turns.length === 0) {
    if (whole > budget) throw tooLong(whole, contextLength, replyTokens, system.length > 0);
    return { messages: all, dropped: 0, promptTokens: whole, replyTokens };
  }

  const windowFrom = (first: number) => [...system, ...turns.slice(first).flat()];
  const last = turns.length - 1;
  const newest = last === 0 ? whole : await countPrompt(windowFrom(last));
  if (newest > budget) throw tooLong(newest, contextLength, replyTokens, system.length > 0);

  // Invariant: leaving out `lo` turns does not fit; leaving out `hi` turns does (measured as `fits`).
  let lo = 0;
  let hi = last;
  let fits = newest;
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    const n = await countPrompt(windowFrom(mid));
    if (n <= budget) {
      hi = mid;
      fits = n;
    } else lo = mid;
  }
  const kept = windowFrom(hi);
  return { messages: kept, dropped: messages.length - kept.length, promptTokens: fits, replyTokens };
}

function tooLong(tokens: number, contextLength: number, replyTokens: number, withSystem: boolean): RbeeError {
  const what = withSystem ? 'The newest message with the system message' : 'The newest message';
  return new RbeeError(
    'limit-exceeded',
    `${what} takes ${tokens.toLocaleString('en-US')} tokens as the model sees it, but its context holds ${contextLength.toLocaleString('en-US')} tokens, ${replyTokens.toLocaleString('en-US')} of them kept for the reply.`,
    { hint: 'Shorten the message, lower the reply’s max tokens, or load the model with a longer context.' },
  );
}

/** What the chat says when older messages are left out of what the model sees (undefined: none are). */
export function windowNote(window: Pick<ConversationWindow, 'dropped'>, contextLength: number): string | undefined {
  if (window.dropped === 0) return undefined;
  const holds = `The model's context holds ${contextLength.toLocaleString('en-US')} tokens:`;
  return window.dropped === 1
    ? `${holds} the oldest message is no longer part of what it sees.`
    : `${holds} the ${window.dropped.toLocaleString('en-US')} oldest messages are no longer part of what it sees.`;
}
