/**
 * Byte-level BPE (tokenizer.ggml.model = gpt2) as llama.cpp runs it: pre-tokenize into words, spell each word's
 * bytes with the byte-level alphabet, then repeatedly merge the neighbouring pair with the lowest merge rank
 * (leftmost first on ties). Words repeat a lot in real text, so each word's ids are cached.
 */
import type { GgufVocab } from './gguf-vocab.ts';
import { toByteLevel } from './byte-level.ts';
import { MergeQueue, mergeSymbols, symbolChain } from './symbol-queue.ts';
import { PreTokenizer } from './pre-tokenizers.ts';

/** Cache bound: enough for the distinct words of a long document, small next to the vocabulary itself. */
const WORD_CACHE_LIMIT = 100_000;

export class BpeModel {
  private readonly preTokenizer: PreTokenizer;
  private readonly cache = new Map<string, number[]>();
  // Scratch space reused across words (most words are short; allocating per word dominated cold runs).
  private readonly queue = new MergeQueue();
  private chain = symbolChain(64);

  constructor(private readonly vocab: GgufVocab) {
    this.preTokenizer = new PreTokenizer(vocab.pre);
  }

  /** Appends the ids of a run of raw text (no special tokens in it). */
  encodeText(text: string, out: number[]): void {
    for (const word of this.preTokenizer.split(text)) {
      let ids = this.cache.get(word);
      if (ids === undefined) {
        ids = this.encodeWord(toByteLevel(word));
        if (this.cache.size >= WORD_CACHE_LIMIT) this.cache.clear();
        this.cache.set(word, ids);
      }
      for (const id of ids) out.push(id);
    }
  }

  private encodeWord(word: string): number[] {
    const { ids, mergeRanks } = this.vocab;
    if (this.vocab.ignoreMerges) {
      const whole = ids.get(word);
      if (whole !== undefined) return [whole];
    }
    // Byte-level spellings are one UTF-16 unit per byte, so symbols start as single characters.
    const n = word.length;
    if (n > this.chain.start.length) this.chain = symbolChain(Math.max(n, this.chain.start.length * 2));
    const { chain } = this;
    const { start, len, next } = chain;
    for (let i = 0; i < n; i++) {
      start[i] = i;
      len[i] = 1;
    }
    // The pair merges when the vocabulary lists its merge; the lower the merge's rank, the sooner.
    mergeSymbols(chain, n, this.queue, (left, right) =>
      mergeRanks.get(word.slice(start[left], start[left] + len[left]) + ' ' + word.slice(start[right], start[right] + len[right])),
    );
    const out: number[] = [];
    for (let i = 0; i !== -1 && i < n; i = next[i]) {
      if (len[i] === 0) continue;
      const piece = word.slice(start[i], start[i] + len[i]);
      const id = ids.get(piece);
      if (id !== undefined) {
        out.push(id);
        continue;
      }
      // No token for the merged piece: fall back to single-character tokens where they exist (as llama.cpp).
      for (const ch of piece) {
        if (ch.charCodeAt(0) >= 0x80) continue; // llama.cpp looks up single UTF-8 bytes; only ASCII can match
        const single = ids.get(ch);
        if (single !== undefined) out.push(single);
      }
    }
    return out;
  }
}
