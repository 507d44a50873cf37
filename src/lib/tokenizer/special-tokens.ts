/**
 * Splitting raw text around special tokens before tokenizing, as llama.cpp does: control / unknown tokens are found
 * only when the caller asks (parseSpecial), user-defined tokens always. Longer tokens are matched first. Tokens
 * marked lstrip / rstrip swallow the ASCII whitespace beside them (Phi-3's `<|end|>\n`).
 */
import { Attr, type GgufVocab } from './gguf-vocab.ts';

export type Fragment = { text: string } | { id: number };

const isAsciiSpace = (c: number) => c === 0x20 || (c >= 0x09 && c <= 0x0d);

export function splitOnSpecialTokens(vocab: GgufVocab, text: string, parseSpecial: boolean): Fragment[] {
  if (text === '') return [];
  let fragments: Fragment[] = [{ text }];
  // Which character pairs occur: a token whose first two characters never meet cannot occur (vocabularies with
  // thousands of user-defined tokens would otherwise scan the text thousands of times).
  const pairs = new Set<number>();
  const chars = new Set<number>();
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    chars.add(c);
    if (i + 1 < text.length) pairs.add(c * 65536 + text.charCodeAt(i + 1));
  }
  for (const id of vocab.specialIds) {
    const attr = vocab.attrs[id];
    if (!parseSpecial && attr & (Attr.control | Attr.unknown)) continue;
    const token = vocab.tokens[id];
    if (token.length === 1 ? !chars.has(token.charCodeAt(0)) : !pairs.has(token.charCodeAt(0) * 65536 + token.charCodeAt(1))) continue;
    if (!text.includes(token)) continue;
    const next: Fragment[] = [];
    for (const f of fragments) {
      if (!('text' in f)) {
        next.push(f);
        continue;
      }
      const s = f.text;
      let pos = 0;
      for (let m = s.indexOf(token, pos); m >= 0; m = s.indexOf(token, pos)) {
        let leftEnd = m;
        if (attr & Attr.lstrip) while (leftEnd > pos && isAsciiSpace(s.charCodeAt(leftEnd - 1))) leftEnd--;
        if (leftEnd > pos) next.push({ text: s.slice(pos, leftEnd) });
        next.push({ id });
        pos = m + token.length;
        if (attr & Attr.rstrip) while (pos < s.length && isAsciiSpace(s.charCodeAt(pos))) pos++;
      }
      if (pos < s.length) next.push(pos === 0 ? f : { text: s.slice(pos) });
    }
    fragments = next;
  }
  return fragments;
}
