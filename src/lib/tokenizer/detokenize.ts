/**
 * Ids → text as llama.cpp renders them: each token's piece as bytes (SentencePiece '▁' → space, <0xNN> → that
 * byte; byte-level BPE spelling → its bytes; control tokens → nothing unless asked), the model's leading space
 * dropped from the first piece, and, for BPE vocabularies that ask for it, tokenization spaces cleaned (" ." → ".").
 */
import { Attr, type GgufVocab } from './gguf-vocab.ts';
import { fromByteLevel } from './byte-level.ts';

const encoder = new TextEncoder();
const SPACE = 0x20;

export class PieceTable {
  private readonly pieces: (Uint8Array | undefined)[];

  constructor(private readonly vocab: GgufVocab) {
    this.pieces = new Array(vocab.tokens.length);
  }

  /** Control / unknown tokens: rendered only when special text is asked for. */
  isSpecial(id: number): boolean {
    return (this.vocab.attrs[id] & (Attr.unknown | Attr.control)) !== 0;
  }

  /** The bytes a token stands for (special tokens as their text). Out-of-range ids render as nothing. */
  bytes(id: number): Uint8Array {
    if (!Number.isInteger(id) || id < 0 || id >= this.pieces.length) return new Uint8Array(0);
    let p = this.pieces[id];
    if (p === undefined) {
      p = this.render(id);
      this.pieces[id] = p;
    }
    return p;
  }

  private render(id: number): Uint8Array {
    const { attrs, tokens, kind } = this.vocab;
    const attr = attrs[id];
    const text = tokens[id];
    if (attr & (Attr.unknown | Attr.control | Attr.userDefined)) return encoder.encode(text);
    if (attr & Attr.normal) return kind === 'spm' ? encoder.encode(text.replaceAll('\u2581', ' ')) : fromByteLevel(text);
    if (attr & Attr.byte && kind === 'spm') {
      const b = parseInt(text.slice(3, 5), 16);
      return Number.isNaN(b) ? new Uint8Array(0) : Uint8Array.of(b);
    }
    return new Uint8Array(0); // unused / undefined tokens render as nothing, as in llama.cpp
  }
}

export interface DetokenizeOptions {
  special: boolean;
  removeSpecial: boolean;
}

/** llama_detokenize, returning bytes. */
export function detokenizeBytes(vocab: GgufVocab, table: PieceTable, ids: readonly number[], { special, removeSpecial }: DetokenizeOptions): Uint8Array {
  let first = 0;
  let end = ids.length;
  let removeSpace = vocab.addSpacePrefix;
  if (removeSpecial && vocab.addBos && end > 0 && ids[0] === vocab.bos) {
    removeSpace = false;
    first = 1;
  }
  if (removeSpecial && vocab.addEos && end > first && ids[end - 1] === vocab.eos) end--;

  const chunks: Uint8Array[] = [];
  let total = 0;
  for (let i = first; i < end; i++) {
    const id = ids[i];
    const skip = !special && table.isSpecial(id);
    if (!skip) {
      let piece = table.bytes(id);
      if (removeSpace && piece.length > 0 && piece[0] === SPACE) piece = piece.subarray(1);
      chunks.push(piece);
      total += piece.length;
    }
    removeSpace = false; // only the very first token, rendered or not
  }
  let out: Uint8Array = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  if (vocab.cleanSpaces) out = cleanTokenizationSpaces(out);
  return out;
}

/** llama.cpp's three clean-up passes (the transformers clean_up_tokenization_spaces rules), on bytes. */
function cleanTokenizationSpaces(text: Uint8Array): Uint8Array {
  const t = Array.from(text);
  const Q = 0x27; // '
  const c = (s: string) => s.charCodeAt(0);
  // 1: " ?", " !", " .", " ," lose the space.
  let total = t.length ? 1 : 0;
  for (let i = 1, n = t.length; i < n; i++) {
    const x = t[i];
    if (t[i - 1] === SPACE && (x === c('?') || x === c('!') || x === c('.') || x === c(','))) total--;
    t[total++] = x;
  }
  t.length = total;
  // 2: " ' " → "'".
  total = t.length ? 1 : 0;
  for (let i = 1, n = t.length; i < n; i++) {
    const x = t[i];
    if (x === Q && i + 1 < n && t[i - 1] === SPACE && t[i + 1] === SPACE) {
      total--;
      t[++i] = 0;
    }
    t[total++] = x;
  }
  t.length = total;
  // 3: " 's", " 'm", " 're", " 've" lose the space.
  total = t.length ? 1 : 0;
  for (let i = 1, n = t.length; i < n; i++) {
    const x = t[i];
    if (t[i - 1] === SPACE && x === Q && i + 1 < n) {
      const x1 = t[i + 1];
      if (x1 === c('s') || x1 === c('m')) total--;
      else if (x1 !== c('t') && x1 !== c('d') && i + 2 < n) {
        const x2 = t[i + 2];
        if ((x1 === c('r') && x2 === c('e')) || (x1 === c('v') && x2 === c('e'))) total--;
      }
    }
    t[total++] = x;
  }
  t.length = total;
  return Uint8Array.from(t);
}
