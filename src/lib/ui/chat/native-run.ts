/**
 * Running the chat page's conversation on the paired native worker (the companion): how the conversation becomes its
 * prompt, and which failures mean "the worker went away" (its figures: companionTimings in runtime/companion-engine.ts).
 */
import { RbeeError } from '../../errors.ts';
import type { CompanionInfo } from '../../companion/protocol.ts';
import { PLAIN_TEMPLATE } from '../../tokenizer/chat-template.ts';
import { renderChatTemplateOffThread } from '../../tokenizer/template-worker.ts';
import type { ChatMessage } from '../../tokenizer/types.ts';

/**
 * The model's own template when the companion reports one; otherwise the same plain continuation the WebGPU worker
 * uses for base models, so "Once upon a time" is continued exactly as llama.cpp continues it (the worker adds BOS).
 * The template comes from the companion's model file, so it is rendered in a worker, within the render budget.
 */
export function companionPrompt(messages: readonly ChatMessage[], info: CompanionInfo): Promise<string> {
  return renderChatTemplateOffThread(info.chat_template ?? PLAIN_TEMPLATE, messages, {
    ...(info.bos_token !== undefined ? { bos_token: info.bos_token } : {}),
    ...(info.eos_token !== undefined ? { eos_token: info.eos_token } : {}),
  });
}

/** The companion stopped answering or broke off (not a bad request): the chat can go on on WebGPU. */
export function companionGone(e: RbeeError): boolean {
  return e.code === 'companion' || e.code === 'network';
}
