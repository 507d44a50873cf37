/**
 * Which text handling a model gets: its own tokenizer when one can be built — from the GGUF vocabulary
 * (src/lib/tokenizer, matching llama.cpp token for token) or, for SafeTensors, from tokenizer.json (+
 * tokenizer_config.json) beside the weights — with its chat template (or the tokenizer area's fallback) for
 * conversations; otherwise vocabulary pieces or token ids alone (prompts must then be token ids).
 */
import { RbeeError } from '../errors.ts';
import type { GgufValue, ModelDescriptor } from '../formats/descriptor.ts';
import type { ModelFileSet } from '../model/model-file-set.ts';
import { tokenizerFromGguf } from '../tokenizer/gguf-tokenizer.ts';
import { tokenizerForModel } from '../tokenizer/model-tokenizer.ts';
import type { Tokenizer } from '../tokenizer/types.ts';
import { ModelText } from './model-text.ts';

function withTokenizer(metadata: Record<string, GgufValue>, tokenizer: Tokenizer): ModelText {
  // The tokenizer's chat format (its template, or the fallback it picks) both renders prompts and is what the
  // worker reports as the model's chat format.
  return ModelText.create(metadata, tokenizer, tokenizer.chatFormat());
}

export async function textForModel(metadata: Record<string, GgufValue>): Promise<ModelText> {
  let tokenizer: ReturnType<typeof tokenizerFromGguf> | undefined;
  try {
    tokenizer = tokenizerFromGguf(metadata);
  } catch {
    // A vocabulary kind we cannot tokenize (WordPiece, RWKV, …), or none: text comes from the pieces.
    return ModelText.create(metadata);
  }
  return withTokenizer(metadata, tokenizer);
}

/**
 * A SafeTensors model's text handling from the same file set its weights came from (URL folder, hub repository,
 * dropped files, the CLI's folder); `dir` is the folder of the weights in it ('' at the root). Without
 * tokenizer.json — or with one @huggingface/tokenizers cannot load — the model still runs on token ids, and a text
 * prompt is refused with the reason.
 */
export async function textForSafetensors(descriptor: ModelDescriptor, set: ModelFileSet, dir: string, signal?: AbortSignal): Promise<ModelText> {
  const path = `${dir}tokenizer.json`;
  const present = set.listing ? set.listing.some((f) => f.path === path) : (await set.open(path, signal)) !== undefined;
  if (!present)
    return ModelText.create({}, undefined, undefined, new RbeeError('tokenizer', `${descriptor.name} has no tokenizer.json beside its weights, so text cannot be turned into tokens.`, {
      hint: 'Open the whole repository or folder with tokenizer.json (and tokenizer_config.json), or give the prompt as token ids (rbee-web generate --tokens 1,2,3).',
    }));
  try {
    return withTokenizer({}, await tokenizerForModel(descriptor, set, dir, signal));
  } catch (e) {
    if (signal?.aborted) throw e;
    const reason = e instanceof RbeeError ? e : new RbeeError('tokenizer', `tokenizer.json could not be read: ${String(e)}`, { cause: e });
    return ModelText.create({}, undefined, undefined, new RbeeError('tokenizer', `${descriptor.name}’s tokenizer could not be loaded: ${reason.message}`, {
      hint: `${reason.hint ? `${reason.hint} ` : ''}Meanwhile give the prompt as token ids (rbee-web generate --tokens 1,2,3).`,
      cause: reason,
    }));
  }
}
