/**
 * GPT-2's byte-to-unicode table: byte-level BPE vocabularies spell every byte as a printable character (space is
 * 'Ġ', newline 'Ċ'), so a token's text is the bytes it stands for, re-spelled.
 */
const byteToChar: string[] = new Array(256);
const charToByte = new Map<string, number>();
{
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    const ch = String.fromCharCode(printable(b) ? b : 256 + extra++);
    byteToChar[b] = ch;
    charToByte.set(ch, b);
  }
}

const encoder = new TextEncoder();

/** Text → its UTF-8 bytes spelled with the byte-level alphabet. */
export function toByteLevel(text: string): string {
  const bytes = encoder.encode(text);
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += byteToChar[bytes[i]];
  return out;
}

/**
 * Byte-level spelling → bytes. A character outside the alphabet (a malformed vocabulary) becomes the text
 * `[UNK_BYTE_0x…]`, as llama.cpp renders it.
 */
export function fromByteLevel(spelled: string): Uint8Array {
  const out: number[] = [];
  for (const ch of spelled) {
    const b = charToByte.get(ch);
    if (b !== undefined) out.push(b);
    else {
      const hex = Array.from(encoder.encode(ch), (x) => x.toString(16).padStart(2, '0')).join('');
      out.push(...encoder.encode(`[UNK_BYTE_0x${hex}${spelled}]`));
    }
  }
  return Uint8Array.from(out);
}
