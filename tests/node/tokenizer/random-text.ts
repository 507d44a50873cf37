// Seeded random texts that stress tokenizers: mixed scripts, emoji (with joiners and modifiers), whitespace runs of
// every kind, digits, contractions, special-token look-alikes and real special-token texts, control characters.
import { seeded } from '../../support/seeded-random.ts';

const PARTS: string[][] = [
  // words and scripts
  ['Hello', 'world', 'the', 'quick', 'brown', 'fox', 'Über', 'naïve', 'café', 'Ελληνικά', 'русский', 'язык', 'עברית', 'العربية', 'हिन्दी', 'ไทย', '日本語', '中文', '한국어', 'ṱḛṧṱ', 'ǅemal', 'Ꭰꭰ', 'ﬁne', 'ＡＢＣ'],
  // emoji and symbols
  ['🦙', '👍🏽', '👨‍👩‍👧', '🇫🇷', '❤️', '∑', '€', '©', '™', '→', '𝔘𝔫𝔦', '𐐀𐐨', '\u{1F600}'],
  // whitespace
  [' ', '  ', '   ', '\t', '\n', '\n\n', '\r\n', ' \n ', '\u00a0', '\u3000', '\u2009', '\u200b', '\ufeff', '\u0085', '\v', '\f'],
  // digits and numbers
  ['0', '7', '42', '123', '1234', '12345678', '3.14159', '1,000', '٣٤', '१२३', '½', 'Ⅻ', '²'],
  // punctuation and contractions
  ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'LL", "n't", '...', '!!', '?', ',', '.', '--', '()', '[]', '{}', '<', '>', '/', '\\', '"', '`', '~', '|', '$', '^', '_', '@', '#', '%', '&', '*', '+', '='],
  // special-token look-alikes (and a few real ones; with parseSpecial off they are plain text)
  ['<s>', '</s>', '<unk>', '<|endoftext|>', '<|im_start|>', '<|im_end|>', '<|end|>', '<|user|>', '<|assistant|>', '<|system|>', '<fim_prefix>', '<|eot_id|>', '<0x0A>', '<|', '|>', '▁', 'Ġ', 'Ċ', '<｜begin▁of▁sentence｜>'],
  // code
  ['def f(x):', 'return x*2', 'if (a && b) {', '}', '    ', '\t\t', 'printf("%d\\n", n);', '<div class="a">', 'x += 1', '#include <stdio.h>'],
  // control characters
  ['\u0000', '\u0001', '\u001f', '\u007f', '\u0080', '\u009f', '\u00ad', '\u200d'],
];

export function randomTexts(count: number, seed: number): string[] {
  const r = seeded(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)];
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const n = 1 + Math.floor(r() * 12);
    let s = '';
    for (let j = 0; j < n; j++) {
      const roll = r();
      if (roll < 0.1) {
        // a random code point from a random plane region
        const ranges: [number, number][] = [[0x20, 0x7e], [0xa0, 0x24f], [0x370, 0x52f], [0x590, 0x6ff], [0x900, 0xdff], [0x3040, 0x30ff], [0x4e00, 0x9fff], [0xac00, 0xd7a3], [0x1f300, 0x1faff], [0x10000, 0x1034f]];
        const [lo, hi] = pick(ranges);
        s += String.fromCodePoint(lo + Math.floor(r() * (hi - lo + 1)));
      } else s += pick(pick(PARTS));
      if (r() < 0.5) s += ' ';
    }
    out.push(s);
  }
  return out;
}
