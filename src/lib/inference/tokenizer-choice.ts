/**
 * Which text handling a model gets: its own tokenizer (src/lib/tokenizer, matching llama.cpp token for token) when
 * one can be built from the GGUF vocabulary, with its chat template (or the tokenizer area's fallback) for
 * conversations; otherwise vocabulary pieces (generated text still shows; prompts must be token ids).
 */
import type { GgufValue } from '../loaders/descriptor.ts';
import { tokenizerFromGguf } from '../tokenizer/gguf-tokenizer.ts';
import { ModelText } from './model-text.ts';

export async function textForModel(metadata: Record<string, GgufValue>): Promise<ModelText> {
  let tokenizer: ReturnType<typeof tokenizerFromGguf> | undefined;
  try {
    tokenizer = tokenizerFromGguf(metadata);
  } catch {
    // A vocabulary kind we cannot tokenize (WordPiece, RWKV, …), or none: text comes from the pieces.
    return ModelText.create(metadata);
  }
  const format = tokenizer.chatFormat();
  return ModelText.create(metadata, tokenizer, (messages) => format.renderOrFallback(messages, { addGenerationPrompt: true }).text);
}
