/**
 * Byte-level BPE pre-tokenization: splitting text into words before merging, with the regex lists llama.cpp uses
 * for each `tokenizer.ggml.pre` name. The lists are applied one after another, each refining the previous split;
 * text a regex does not match stays a piece of its own.
 *
 * llama.cpp runs these regexes with std::regex over a "collapsed" text in which every code point above ASCII is
 * replaced by one placeholder per Unicode category (letter, number, punctuation, mark, symbol; White_Space → \v),
 * and `\p{L}` etc. in the pattern by [placeholder + the ASCII members]. We do the same, so the splits agree with
 * llama.cpp exactly, quirks included (its \s is ASCII whitespace plus Unicode White_Space; 0xFEFF is not a space).
 * Patterns without a category (DeepSeek's explicit ranges) run on the real text, with Unicode whitespace as \v.
 */
import { RbeeError } from '../errors.ts';

// The llama.cpp patterns, verbatim (as regex text).
const GPT2 = String.raw`'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)`;
// Llama 3's `(?i:'s|…)` written case-by-case, as llama.cpp does.
const LLAMA3 = String.raw`(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`;
const QWEN2 = String.raw`(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`;
// DeepSeek's explicit ranges, written as code points (several are compatibility characters, e.g. KELVIN SIGN,
// that editors and normalisers silently change when typed literally).
const CJK = '[\\u4E00-\\u9FA5\\u0800-\\u4E00\\uAC00-\\uD7FF]+';
const DEEPSEEK_LETTERS = [
  'A-Za-z\\u00B5\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u01BA\\u01BC-\\u01BF\\u01C4-\\u0293\\u0295-\\u02AF',
  '\\u0370-\\u0373\\u0376\\u0377\\u037B-\\u037D\\u037F\\u0386\\u0388-\\u038A\\u038C\\u038E-\\u03A1\\u03A3-\\u03F5',
  '\\u03F7-\\u0481\\u048A-\\u052F\\u0531-\\u0556\\u10A0-\\u10C5\\u13A0-\\u13F5\\u13F8-\\u13FD\\u1C90-\\u1CBA',
  '\\u1CBD-\\u1CBF\\u1D00-\\u1D2B\\u1D6B-\\u1D77\\u1D79-\\u1D9A\\u1E00-\\u1F15\\u1F18-\\u1F1D\\u1F20-\\u1F45',
  '\\u1F48-\\u1F4D\\u1F50-\\u1F57\\u1F59\\u1F5B\\u1F5D\\u1F5F-\\u1F7D\\u1F80-\\u1FB4\\u1FB6-\\u1FBC\\u1FBE',
  '\\u1FC2-\\u1FC4\\u1FC6-\\u1FCC\\u1FD0-\\u1FD3\\u1FD6-\\u1FDB\\u1FE0-\\u1FEC\\u1FF2-\\u1FF4\\u1FF6-\\u1FFC',
  '\\u2102\\u2107\\u210A-\\u2113\\u2115\\u2119-\\u211D\\u2124\\u2126\\u2128\\u212A-\\u212D\\u212F-\\u2134\\u2139',
  '\\u213C-\\u213F\\u2145-\\u2149\\u214E\\u2183\\u2184\\u2C00-\\u2C7B\\u2C7E-\\u2CE4\\u2CEB-\\u2CEE\\u2CF2\\u2CF3',
  '\\uA640-\\uA66D\\uA680-\\uA69B\\uA722-\\uA76F\\uA771-\\uA787\\uA78B-\\uA78E\\uAB70-\\uABBF\\uFB00-\\uFB06',
  '\\uFB13-\\uFB17\\uFF21-\\uFF3A\\uFF41-\\uFF5A\\u{10400}-\\u{1044F}\\u{104B0}-\\u{104D3}\\u{104D8}-\\u{104FB}',
  '\\u{10C80}-\\u{10CB2}\\u{10CC0}-\\u{10CF2}\\u{118A0}-\\u{118DF}\\u{1E900}-\\u{1E943}',
].join('');
const DEEPSEEK_PUNCT = '!-/:-~\\uFF01-\\uFF0F\\uFF1A-\\uFF5E\\u2018-\\u201F\\u3000-\\u3002';

const LISTS: Record<string, string[]> = {
  llama3: [LLAMA3],
  qwen2: [QWEN2],
  gpt2: [GPT2],
  starcoder: [String.raw`\p{N}`, GPT2],
  falcon: [String.raw`[\p{P}\$\+<=>\^~\|` + '`]+', GPT2, '[0-9][0-9][0-9]'],
  'deepseek-llm': ['[\r\n]', String.raw`\s?[` + DEEPSEEK_LETTERS + ']+', String.raw`\s?[` + DEEPSEEK_PUNCT + ']+', String.raw`\s+$`, CJK, String.raw`\p{N}+`],
  'deepseek-coder': ['[\r\n]', String.raw`\s?\p{L}+`, String.raw`\s?\p{P}+`, CJK, String.raw`\p{N}`],
  default: [String.raw`[\p{P}\$\+<=>\^~\|]+`, GPT2, String.raw`\p{N}+`, '[0-9][0-9][0-9]'],
};

/** tokenizer.ggml.pre → the regex list llama.cpp uses for it. */
const PRE_NAMES: Record<string, keyof typeof LISTS> = {
  default: 'default',
  llama3: 'llama3', 'llama-v3': 'llama3', 'llama-bpe': 'llama3', falcon3: 'llama3', 'falcon-h1': 'llama3', pixtral: 'llama3',
  'midm-2.0': 'llama3', lfm2: 'llama3', dbrx: 'llama3', 'smaug-bpe': 'llama3',
  qwen2: 'qwen2', 'deepseek-r1-qwen': 'qwen2', megrez: 'qwen2', stablelm2: 'qwen2', kormo: 'qwen2',
  'deepseek-llm': 'deepseek-llm',
  'deepseek-coder': 'deepseek-coder',
  falcon: 'falcon',
  starcoder: 'starcoder', refact: 'starcoder', 'command-r': 'starcoder', smollm: 'starcoder', codeshell: 'starcoder',
  exaone: 'starcoder', 'minerva-7b': 'starcoder',
  'gpt-2': 'gpt2', 'phi-2': 'gpt2', 'jina-es': 'gpt2', 'jina-de': 'gpt2', gigachat: 'gpt2', 'jina-v1-en': 'gpt2',
  'jina-v2-es': 'gpt2', 'jina-v2-de': 'gpt2', 'jina-v2-code': 'gpt2', 'roberta-bpe': 'gpt2', 'a.x-4.0': 'gpt2', mellum: 'gpt2',
  mpt: 'gpt2', olmo: 'gpt2', jais: 'gpt2', trillion: 'gpt2',
};

export const SUPPORTED_PRE_TOKENIZERS: readonly string[] = Object.keys(PRE_NAMES);

// Placeholders of the collapsed text (the bytes llama.cpp uses).
const CAT = { other: '\xD0', number: '\xD1', letter: '\xD2', punctuation: '\xD3', mark: '\xD4', symbol: '\xD5' } as const;
const ASCII_MEMBERS: Record<string, string> = {
  N: CAT.number + '0-9',
  L: CAT.letter + 'A-Za-z',
  P: CAT.punctuation + String.raw`!-#%-*,-/:;?@\[-\]_\{\}`,
  M: CAT.mark,
  S: CAT.symbol + String.raw`\$\+<->\^` + '`' + String.raw`\|`,
};

const IS_WHITE_SPACE = /\p{White_Space}/u;
const IS_NUMBER = /\p{N}/u;
const IS_LETTER = /\p{L}/u;
const IS_PUNCT = /\p{P}/u;
const IS_MARK = /\p{M}/u;
const IS_SYMBOL = /\p{S}/u;
const categoryCache = new Map<number, string>();
const ASCII_ONLY = /^[\x00-\x7f]*$/;
/** Unicode White_Space above ASCII. */
const UNICODE_SPACE = /[\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/g;
const utf16 = new TextDecoder('utf-16le');

/** The collapsed stand-in for a code point ≥ 128. */
function collapse(cp: number): string {
  let c = categoryCache.get(cp);
  if (c !== undefined) return c;
  const ch = String.fromCodePoint(cp);
  if (IS_WHITE_SPACE.test(ch)) c = '\v';
  else if (IS_NUMBER.test(ch)) c = CAT.number;
  else if (IS_LETTER.test(ch)) c = CAT.letter;
  else if (IS_PUNCT.test(ch)) c = CAT.punctuation;
  else if (IS_MARK.test(ch)) c = CAT.mark;
  else if (IS_SYMBOL.test(ch)) c = CAT.symbol;
  else c = CAT.other;
  categoryCache.set(cp, c);
  return c;
}

interface CompiledRegex {
  /** Run over the collapsed text (one char per code point) or over the real text. */
  collapsed: boolean;
  re: RegExp;
}

/** llama.cpp's regex rewriting: \p{X} → [placeholder + ASCII members] (without brackets inside a class). */
function compile(pattern: string): CompiledRegex {
  if (/\\p\{[LNPMS]\}/.test(pattern)) {
    let out = '';
    let inside = false;
    for (let i = 0; i < pattern.length; i++) {
      const ch = pattern[i];
      if (ch === '\\' && pattern[i + 1] === 'p' && pattern[i + 2] === '{' && pattern[i + 4] === '}') {
        const members = ASCII_MEMBERS[pattern[i + 3]];
        if (members !== undefined) {
          out += inside ? members : `[${members}]`;
          i += 4;
          continue;
        }
      }
      if (ch === '\\') {
        out += ch + pattern[i + 1];
        i++;
        continue;
      }
      if (ch === '[') inside = true;
      else if (ch === ']') inside = false;
      out += ch;
    }
    return { collapsed: true, re: new RegExp(out, 'g') };
  }
  // Real text: \s means ASCII whitespace (Unicode spaces were turned into \v), as std::wregex sees it.
  const wide = pattern.replace(/\\s/g, '[\\t-\\r ]').replace(/\\S/g, '[^\\t-\\r ]');
  return { collapsed: false, re: new RegExp(wide, 'gu') };
}

export class PreTokenizer {
  readonly name: string;
  private readonly regexes: CompiledRegex[];
  private readonly needsCollapse: boolean;
  private readonly needsWide: boolean;

  constructor(pre: string) {
    const list = PRE_NAMES[pre];
    if (list === undefined)
      throw new RbeeError('tokenizer', `The pre-tokenizer '${pre}' (tokenizer.ggml.pre) is not supported yet.`, {
        hint: `Supported: ${SUPPORTED_PRE_TOKENIZERS.join(', ')}.`,
      });
    this.name = pre;
    this.regexes = LISTS[list].map(compile);
    this.needsCollapse = this.regexes.some((r) => r.collapsed);
    this.needsWide = this.regexes.some((r) => !r.collapsed);
  }

  /** The words of `text`, in order; their concatenation is `text`. */
  split(text: string): string[] {
    if (text === '') return [];
    // Two views the regexes run on, and where each code point starts in `text` (UTF-16 offsets).
    let collapsed = text;
    let wide = text;
    let u16: Int32Array | undefined; // undefined: one UTF-16 unit per code point (offsets are indices)
    let wideToCp: Int32Array | undefined;
    let cpCount = text.length;
    if (!ASCII_ONLY.test(text)) {
      u16 = new Int32Array(text.length + 1);
      const codes = this.needsCollapse ? new Uint16Array(text.length) : undefined;
      if (this.needsWide) wideToCp = new Int32Array(text.length + 1);
      cpCount = 0;
      for (let i = 0; i < text.length; ) {
        const cp = text.codePointAt(i)!;
        if (wideToCp) wideToCp[i] = cpCount;
        u16[cpCount] = i;
        if (codes) codes[cpCount] = cp < 128 ? cp : collapse(cp).charCodeAt(0);
        cpCount++;
        i += cp > 0xffff ? 2 : 1;
      }
      u16[cpCount] = text.length;
      if (wideToCp) wideToCp[text.length] = cpCount;
      if (codes) collapsed = utf16.decode(codes.subarray(0, cpCount));
      // Unicode whitespace as \v (what llama.cpp does before std::wregex): same length, same offsets.
      if (this.needsWide) wide = text.replace(UNICODE_SPACE, '\v');
    }
    const offsetOf = (cp: number) => (u16 ? u16[cp] : cp);

    // Piece lengths in code points.
    let pieces = [cpCount];
    for (const { collapsed: isCollapsed, re } of this.regexes) {
      const next: number[] = [];
      let start = 0;
      for (const len of pieces) {
        const end = start + len;
        const sub = isCollapsed ? collapsed.slice(start, end) : wide.slice(offsetOf(start), offsetOf(end));
        const base = offsetOf(start);
        const toCp = (index: number): number => (isCollapsed || !wideToCp ? index : wideToCp[base + index] - start);
        let at = 0;
        re.lastIndex = 0;
        for (let m = re.exec(sub); m !== null; m = re.exec(sub)) {
          if (m[0].length === 0) {
            re.lastIndex++;
            continue;
          }
          const mStart = toCp(m.index);
          const mEnd = toCp(m.index + m[0].length);
          if (mStart > at) next.push(mStart - at);
          next.push(mEnd - mStart);
          at = mEnd;
        }
        if (at < len) next.push(len - at);
        start = end;
      }
      pieces = next;
    }

    const words: string[] = [];
    let cp = 0;
    for (const len of pieces) {
      words.push(text.slice(offsetOf(cp), offsetOf(cp + len)));
      cp += len;
    }
    return words;
  }
}
