/**
 * SentencePiece BPE (tokenizer.ggml.model = llama) as llama.cpp runs it: the text (with a leading space when the
 * model asks, spaces spelled '▁') starts as one symbol per character; the neighbouring pair whose concatenation is
 * the highest-scoring token merges first (leftmost on ties), until no pair forms a token. A symbol that is not a
 * token falls back to its UTF-8 bytes as <0xNN> tokens.
 */
import type { GgufVocab } from './gguf-vocab.ts';
import { MergeQueue, mergeSymbols, symbolChain } from './symbol-queue.ts';

const encoder = new TextEncoder();
const HEX = '0123456789ABCDEF';

export class SpmModel {
  private readonly byteIds: Int32Array;
  /** No token is longer (in UTF-16 units): longer pairs need no lookup. */
  private readonly maxTokenLength: number;

  constructor(private readonly vocab: GgufVocab) {
    // Byte fallback ids: <0xNN>, else the byte itself as a one-character token, else <unk>.
    this.maxTokenLength = vocab.tokens.reduce((m, t) => Math.max(m, t.length), 0);
    this.byteIds = new Int32Array(256);
    for (let b = 0; b < 256; b++) {
      const id = vocab.ids.get(`<0x${HEX[b >> 4]}${HEX[b & 15]}>`) ?? (b < 0x80 ? vocab.ids.get(String.fromCharCode(b)) : undefined) ?? vocab.unk ?? -1;
      this.byteIds[b] = id;
    }
  }

  /** Appends the ids of `text`, already prefixed and with spaces escaped as '▁'. */
  encodeEscaped(text: string, out: number[]): void {
    if (text === '') return;
    const { ids, scores } = this.vocab;
    const maxTokenLength = this.maxTokenLength;
    // One symbol per code point.
    const starts: number[] = [];
    for (let i = 0; i < text.length; ) {
      starts.push(i);
      i += text.codePointAt(i)! > 0xffff ? 2 : 1;
    }
    const n = starts.length;
    const chain = symbolChain(n);
    const { start, len, next } = chain;
    start.set(starts);
    for (let i = 0; i < n; i++) len[i] = (i + 1 < n ? start[i + 1] : text.length) - start[i];
    // The pair merges when it spells a token; the higher the token's score, the sooner.
    mergeSymbols(chain, n, new MergeQueue(), (left, right) => {
      const size = len[left] + len[right];
      if (size > maxTokenLength) return undefined;
      const id = ids.get(text.slice(start[left], start[left] + size));
      return id === undefined ? undefined : -scores[id];
    });
    for (let i = 0; i !== -1; i = next[i]) {
      const piece = text.slice(start[i], start[i] + len[i]);
      const id = ids.get(piece);
      if (id !== undefined) {
        out.push(id);
        continue;
      }
      for (const b of encoder.encode(piece)) {
        const byteId = this.byteIds[b];
        if (byteId >= 0) out.push(byteId);
      }
    }
  }
}
