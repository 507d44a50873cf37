/**
 * Streaming detokenization: generated ids arrive one at a time, and a character may be spread over several tokens
 * (byte tokens, emoji split by BPE). Bytes are held until they complete a UTF-8 character, so what is shown never
 * contains half a character; `flush` releases what is left (an unfinished sequence becomes U+FFFD).
 */
import type { StreamDecoder } from './types.ts';

export interface PieceSource {
  /** The bytes to append for this id ('' for tokens that render as nothing). */
  pieceBytes(id: number): Uint8Array;
}

export function createStreamDecoder(source: PieceSource, options: { stripLeadingSpace?: boolean } = {}): StreamDecoder {
  let decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
  let stripSpace = options.stripLeadingSpace ?? false;
  return {
    push(id: number): string {
      let bytes = source.pieceBytes(id);
      if (stripSpace && bytes.length > 0) {
        if (bytes[0] === 0x20) bytes = bytes.subarray(1);
        stripSpace = false;
      }
      return bytes.length === 0 ? '' : decoder.decode(bytes, { stream: true });
    },
    flush(): string {
      const rest = decoder.decode();
      decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
      return rest;
    },
  };
}
