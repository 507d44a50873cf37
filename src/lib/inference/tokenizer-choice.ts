/**
 * Which text handling a model gets: its own tokenizer (src/lib/tokenizer) when one can be built from the GGUF
 * vocabulary, else vocabulary pieces (generated text still shows; prompts must be token ids).
 */
import type { GgufValue } from '../loaders/descriptor.ts';
import { ModelText } from './model-text.ts';

export async function textForModel(metadata: Record<string, GgufValue>): Promise<ModelText> {
  return ModelText.create(metadata);
}
