/**
 * The chat page's exact prompt length for fitting a conversation to the context (conversation-window.ts): the same
 * ModelText the inference worker builds from the GGUF header the page has already read (textForModel), so the count
 * is the worker's prompt token for token — chat template, special tokens and BOS included. Built on the main thread
 * because the worker's `tokenize` request takes plain text only (no template); a worker request that counts a
 * conversation would make this unnecessary and cover SafeTensors models, whose tokenizer.json only the worker reads.
 */
import type { ModelDescriptor } from '../loaders/descriptor.ts';
import type { PromptCounter } from './conversation-window.ts';
import { textForModel } from './tokenizer-choice.ts';

/** A counter for this model's conversations; undefined when the page cannot build its tokenizer. */
export async function promptCounterFor(descriptor: ModelDescriptor): Promise<PromptCounter | undefined> {
  if (descriptor.format !== 'gguf' || !descriptor.gguf) return undefined;
  const text = await textForModel(descriptor.gguf.metadata);
  if (!text.canEncode) return undefined;
  return (messages) => text.promptTokens({ messages }).length;
}
