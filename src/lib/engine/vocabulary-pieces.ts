/**
 * Text from a GGUF vocabulary's plain token strings, for models whose tokenizer we cannot build: SentencePiece's
 * '▁' becomes a space, byte tokens (<0x0A>) become their bytes, and the bytes are decoded as UTF-8 as they complete,
 * so a multi-byte character split over tokens is shown once it is whole. Control tokens (<s>, </s>) show as nothing.
 * BPE vocabularies store bytes as printable characters (GPT-2's byte-to-unicode map); those are mapped back.
 */
import type { GgufValue } from '../formats/descriptor.ts';
import type { TextStream } from './generation.ts';

const TOKEN_TYPE_CONTROL = 3;
const TOKEN_TYPE_BYTE = 6;

/** GPT-2's reversible byte ↔ printable-unicode map, reversed: char code → byte. */
function gpt2ByteDecoder(): Map<number, number> {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const map = new Map<number, number>();
  for (const b of printable) map.set(b, b);
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!printable.includes(b)) {
      map.set(256 + n, b);
      n++;
    }
  }
  return map;
}

export class VocabularyPieces {
  private readonly encoder = new TextEncoder();
  private readonly bpeBytes: Map<number, number> | undefined;

  constructor(
    private readonly tokens: readonly string[],
    private readonly types: readonly number[] | undefined,
    model: string | undefined,
  ) {
    this.bpeBytes = model === 'gpt2' ? gpt2ByteDecoder() : undefined;
  }

  /** From GGUF metadata (tokenizer.ggml.tokens / token_type / model); undefined when there is no vocabulary. */
  static fromMetadata(metadata: Record<string, GgufValue>): VocabularyPieces | undefined {
    const tokens = metadata['tokenizer.ggml.tokens'];
    if (!Array.isArray(tokens) || tokens.some((t) => typeof t !== 'string')) return undefined;
    const types = metadata['tokenizer.ggml.token_type'];
    const model = metadata['tokenizer.ggml.model'];
    return new VocabularyPieces(
      tokens as string[],
      Array.isArray(types) ? types.map((t) => Number(t)) : undefined,
      typeof model === 'string' ? model : undefined,
    );
  }

  get size(): number {
    return this.tokens.length;
  }

  /** The bytes a token stands for. */
  bytesOf(id: number): Uint8Array {
    const piece = this.tokens[id];
    if (piece === undefined) return new Uint8Array(0);
    const type = this.types?.[id];
    if (type === TOKEN_TYPE_CONTROL) return new Uint8Array(0);
    if (type === TOKEN_TYPE_BYTE || /^<0x[0-9A-Fa-f]{2}>$/.test(piece)) {
      const m = /^<0x([0-9A-Fa-f]{2})>$/.exec(piece);
      if (m) return Uint8Array.of(parseInt(m[1]!, 16));
    }
    if (this.bpeBytes) {
      const out: number[] = [];
      for (const ch of piece) {
        const b = this.bpeBytes.get(ch.codePointAt(0)!);
        if (b === undefined) return this.encoder.encode(piece); // not byte-mapped (a special token's text)
        out.push(b);
      }
      return Uint8Array.from(out);
    }
    return this.encoder.encode(piece.replaceAll('▁', ' '));
  }

  /** Whole-sequence text. */
  decode(ids: readonly number[]): string {
    const stream = this.stream();
    return ids.map((id) => stream.push(id)).join('') + stream.flush();
  }

  stream(): TextStream {
    const decoder = new TextDecoder('utf-8', { fatal: false });
    return {
      push: (id) => decoder.decode(this.bytesOf(id), { stream: true }),
      flush: () => decoder.decode(),
    };
  }
}
