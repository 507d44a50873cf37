/**
 * Turning a rendered chat prompt into ids: special-token text in it (`<|im_start|>`) becomes its token, and BOS is
 * added as the model asks — unless the template already wrote it (many templates start with {{ bos_token }}), so
 * the prompt never starts with two BOS tokens.
 */
import type { Tokenizer } from './types.ts';

export function encodeChatPrompt(tokenizer: Tokenizer, rendered: string): number[] {
  const ids = tokenizer.encode(rendered, { addSpecial: true, parseSpecial: true });
  if (tokenizer.addBos && tokenizer.bos !== undefined && ids.length >= 2 && ids[0] === tokenizer.bos && ids[1] === tokenizer.bos) ids.shift();
  return ids;
}

/** Where generated text reaches a stop string: the index to cut at, or -1. */
export function findStopString(text: string, stopStrings: readonly string[]): number {
  let cut = -1;
  for (const s of stopStrings) {
    if (s === '') continue;
    const at = text.indexOf(s);
    if (at >= 0 && (cut < 0 || at < cut)) cut = at;
  }
  return cut;
}

/**
 * How many trailing characters of `text` could still become a stop string with more output: the chat page holds
 * those back instead of showing the start of an `<|im_end|>` that is then cut.
 */
export function pendingStopPrefix(text: string, stopStrings: readonly string[]): number {
  let hold = 0;
  for (const s of stopStrings) {
    for (let n = Math.min(s.length - 1, text.length); n > hold; n--) {
      if (text.endsWith(s.slice(0, n))) {
        hold = n;
        break;
      }
    }
  }
  return hold;
}
