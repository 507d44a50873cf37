/**
 * The vocabulary a GGUF file carries under `tokenizer.ggml.*`, read from a plain metadata record (arrays as JS arrays,
 * 64-bit integers possibly bigint) so it does not depend on any particular parser. It settles the facts llama.cpp
 * settles when it loads a vocabulary: token attributes, special ids, add_bos / add_eos / add_space_prefix, the
 * end-of-generation set, and the per-model attribute fixes (Phi-3's right-stripping special tokens).
 */
import { RbeeError } from '../errors.ts';
import type { GgufValue } from '../formats/descriptor.ts';

/** tokenizer.ggml.token_type values (llama.cpp's llama_token_type). */
export const TokenType = { undefined: 0, normal: 1, unknown: 2, control: 3, userDefined: 4, unused: 5, byte: 6 } as const;

/** Token attribute bits (llama.cpp's llama_token_attr): a token can carry several. */
export const Attr = {
  undefined: 0,
  unknown: 1 << 0,
  unused: 1 << 1,
  normal: 1 << 2,
  control: 1 << 3,
  userDefined: 1 << 4,
  byte: 1 << 5,
  normalized: 1 << 6,
  lstrip: 1 << 7,
  rstrip: 1 << 8,
  singleWord: 1 << 9,
} as const;

/** Texts llama.cpp takes as the end-of-turn token when the metadata names none (first found wins). */
const EOT_TEXTS = ['<|eot_id|>', '<|im_end|>', '<|end|>', '<end_of_turn>', '<|endoftext|>', '<|end_of_text|>', '<EOT>', '_<EOT>', '<｜end▁of▁sentence｜>', '<end_of_utterance>'];
/** Texts llama.cpp stops generation on, whatever their declared type (they become control tokens). */
const EOG_TEXTS = [
  '<|eot_id|>', '<|im_end|>', '<|end|>', '<|return|>', '<|call|>', '<|flush|>', '<|calls|>', '<end_of_turn>', '<|endoftext|>',
  '</s>', '<|eom_id|>', '<EOT>', '_<EOT>', '[EOT]', '[EOS]', '<|end_of_text|>', '<end_of_utterance>', '<eos>', '<turn|>', '<|tool_response>',
];
/** Fill-in-the-middle pad / repository / file-separator tokens: llama.cpp also stops on these. */
const FIM_EOG: { key: string; texts: string[] }[] = [
  { key: 'tokenizer.ggml.fim_pad_token_id', texts: ['<|fim_pad|>', '<fim-pad>', '<fim_pad>', '<PAD>'] },
  { key: 'tokenizer.ggml.fim_rep_token_id', texts: ['<|fim_repo|>', '<|repo_name|>', '<fim-repo>', '<REPO>', '<reponame>'] },
  { key: 'tokenizer.ggml.fim_sep_token_id', texts: ['<|file_sep|>'] },
];

/** Safety limit: the largest real vocabularies have ~260k entries; a count far past that is a corrupt file. */
const MAX_VOCAB = 4_000_000;

export type VocabKind = 'spm' | 'bpe';

export interface GgufVocab {
  kind: VocabKind;
  /** tokenizer.ggml.pre (BPE pre-tokenizer name); 'default' when absent. */
  pre: string;
  tokens: string[];
  scores: Float32Array;
  attrs: Uint16Array;
  /** text → id (the last id wins on duplicates, as in llama.cpp). */
  ids: Map<string, number>;
  /** BPE merges: "left right" → rank. */
  mergeRanks: Map<string, number>;
  bos?: number;
  eos?: number;
  eot?: number;
  eom?: number;
  unk?: number;
  pad?: number;
  addBos: boolean;
  addEos: boolean;
  addSpacePrefix: boolean;
  /** Undo tokenization spaces (" ." → ".") in decode: BPE vocabularies except those that keep them. */
  cleanSpaces: boolean;
  /** Look a whole pre-tokenized word up before merging (Llama 3). */
  ignoreMerges: boolean;
  eog: Set<number>;
  /** Control / user-defined / unknown ids, longest text first: matched in the raw text before tokenizing. */
  specialIds: number[];
  chatTemplate?: string;
}

export function utf8Length(s: string): number {
  let bytes = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

function asNumber(v: GgufValue | undefined): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  return undefined;
}

function asBool(v: GgufValue | undefined): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number' || typeof v === 'bigint') return Number(v) !== 0;
  return undefined;
}

function asArray(metadata: Record<string, GgufValue>, key: string): GgufValue[] | undefined {
  const v = metadata[key];
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) throw new RbeeError('tokenizer', `${key} is not an array.`, { hint: 'The file may be damaged; try another download of the model.' });
  return v;
}

/** Pre-tokenizer names llama.cpp sets clean_spaces = false for. */
const KEEP_SPACES_PRE = new Set(['deepseek-llm', 'deepseek-coder', 'deepseek-v3', 'qwen2', 'deepseek-r1-qwen', 'megrez', 'command-r', 'poro-chat', 'tekken']);
/** Pre-tokenizer names that are Llama 3's (llama.cpp: ignore_merges and add_bos by default). */
export const LLAMA3_PRE = new Set(['llama3', 'llama-v3', 'llama-bpe', 'falcon3', 'falcon-h1', 'pixtral', 'midm-2.0', 'lfm2']);

export function readGgufVocab(metadata: Record<string, GgufValue>): GgufVocab {
  const model = metadata['tokenizer.ggml.model'];
  if (model === undefined)
    throw new RbeeError('tokenizer', 'This model file carries no tokenizer (no tokenizer.ggml.model).', {
      hint: 'Use a GGUF converted with its vocabulary (llama.cpp convert_hf_to_gguf.py writes it).',
    });
  let kind: VocabKind;
  if (model === 'llama') kind = 'spm';
  else if (model === 'gpt2') kind = 'bpe';
  else
    throw new RbeeError('tokenizer', `Tokenizer type '${String(model)}' is not supported yet (supported: SentencePiece 'llama', byte-level BPE 'gpt2').`, {
      hint: 'Pick a model with a Llama / GPT-2 style vocabulary.',
    });

  const rawTokens = asArray(metadata, 'tokenizer.ggml.tokens');
  if (!rawTokens || rawTokens.length === 0)
    throw new RbeeError('tokenizer', 'The vocabulary is empty (tokenizer.ggml.tokens is missing).', { hint: 'The file may be damaged; try another download.' });
  if (rawTokens.length > MAX_VOCAB)
    throw new RbeeError('limit-exceeded', `The vocabulary has ${rawTokens.length} tokens, more than the ${MAX_VOCAB} this reader accepts.`);
  const n = rawTokens.length;
  const tokens = new Array<string>(n);
  const ids = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    let t = rawTokens[i];
    if (typeof t !== 'string') throw new RbeeError('tokenizer', `Token ${i} is not a string.`, { hint: 'The file may be damaged.' });
    if (t === '') t = `[EMPTY_${i}]`; // as llama.cpp: an empty token would match everywhere
    tokens[i] = t;
    ids.set(t, i);
  }

  const scores = new Float32Array(n);
  const rawScores = asArray(metadata, 'tokenizer.ggml.scores');
  if (rawScores) {
    if (rawScores.length < n) throw new RbeeError('tokenizer', `tokenizer.ggml.scores has ${rawScores.length} entries for ${n} tokens.`);
    for (let i = 0; i < n; i++) scores[i] = asNumber(rawScores[i]) ?? 0;
  }

  const attrs = new Uint16Array(n).fill(Attr.normal);
  const rawTypes = asArray(metadata, 'tokenizer.ggml.token_type');
  if (rawTypes) {
    if (rawTypes.length < n) throw new RbeeError('tokenizer', `tokenizer.ggml.token_type has ${rawTypes.length} entries for ${n} tokens.`);
    for (let i = 0; i < n; i++) {
      switch (asNumber(rawTypes[i])) {
        case TokenType.unknown: attrs[i] = Attr.unknown; break;
        case TokenType.unused: attrs[i] = Attr.unused; break;
        case TokenType.normal: attrs[i] = Attr.normal; break;
        case TokenType.control: attrs[i] = Attr.control; break;
        case TokenType.userDefined: attrs[i] = Attr.userDefined; break;
        case TokenType.byte: attrs[i] = Attr.byte; break;
        default: attrs[i] = Attr.undefined;
      }
    }
  }

  const mergeRanks = new Map<string, number>();
  if (kind === 'bpe') {
    const merges = asArray(metadata, 'tokenizer.ggml.merges');
    if (!merges)
      throw new RbeeError('tokenizer', 'This BPE vocabulary has no merges (tokenizer.ggml.merges).', { hint: 'The file may be damaged or converted incompletely.' });
    for (let i = 0; i < merges.length; i++) {
      const m = merges[i];
      if (typeof m !== 'string') continue;
      // llama.cpp splits at the first space after the first character; lookups rebuild "left right" the same way.
      const pos = m.indexOf(' ', 1);
      if (pos < 0) continue;
      if (!mergeRanks.has(m)) mergeRanks.set(m, i);
    }
  }

  const pre = typeof metadata['tokenizer.ggml.pre'] === 'string' ? (metadata['tokenizer.ggml.pre'] as string) : 'default';

  // Defaults as llama.cpp sets them per vocabulary type, then overridden by the metadata.
  let bos: number | undefined = kind === 'spm' ? 1 : 11;
  let eos: number | undefined = kind === 'spm' ? 2 : 11;
  let unk: number | undefined = kind === 'spm' ? 0 : undefined;
  let addBos = kind === 'spm' || LLAMA3_PRE.has(pre);
  let addEos = false;
  let addSpacePrefix = kind === 'spm';
  const cleanSpaces = kind === 'bpe' && !KEEP_SPACES_PRE.has(pre);
  const ignoreMerges = kind === 'bpe' && (LLAMA3_PRE.has(pre) || pre === 'tekken');

  const special = (key: string, fallback: number | undefined): number | undefined => {
    const v = asNumber(metadata[`tokenizer.ggml.${key}`]);
    if (v === undefined) return fallback;
    if (!Number.isInteger(v) || v < 0 || v >= n) return fallback; // llama.cpp warns and keeps its default
    return v;
  };
  bos = special('bos_token_id', bos);
  eos = special('eos_token_id', eos);
  unk = special('unknown_token_id', unk);
  let eot = special('eot_token_id', undefined);
  let eom = special('eom_token_id', undefined);
  const pad = special('padding_token_id', undefined);
  addBos = asBool(metadata['tokenizer.ggml.add_bos_token']) ?? addBos;
  addEos = asBool(metadata['tokenizer.ggml.add_eos_token']) ?? addEos;
  addSpacePrefix = asBool(metadata['tokenizer.ggml.add_space_prefix']) ?? addSpacePrefix;
  if (bos !== undefined && bos >= n) bos = undefined;
  if (eos !== undefined && eos >= n) eos = undefined;

  // Find EOT / EOM by their text when the metadata names none; such tokens are control tokens whatever their type says.
  const forceControl = (id: number) => {
    attrs[id] = Attr.control;
  };
  const firstOf = (texts: readonly string[]) => {
    for (const text of texts) {
      const id = ids.get(text);
      if (id !== undefined) return id;
    }
    return undefined;
  };
  if (eot === undefined) {
    eot = firstOf(EOT_TEXTS);
    if (eot !== undefined && !(attrs[eot] & Attr.control)) forceControl(eot);
  }
  if (eom === undefined) {
    eom = ids.get('<|eom_id|>');
    if (eom !== undefined && !(attrs[eom] & Attr.control)) forceControl(eom);
  }

  const eog = new Set<number>();
  for (const { key, texts } of FIM_EOG) {
    const declared = asNumber(metadata[key]);
    const id = declared !== undefined && declared >= 0 && declared < n ? declared : firstOf(texts);
    if (id === undefined) continue;
    eog.add(id);
    if (declared === undefined && !(attrs[id] & Attr.control)) forceControl(id);
  }
  for (const text of EOG_TEXTS) {
    const id = ids.get(text);
    if (id !== undefined) {
      eog.add(id);
      if (!(attrs[id] & Attr.control)) forceControl(id);
    }
  }
  for (const id of [eos, eot, eom]) if (id !== undefined) eog.add(id);
  // Workarounds llama.cpp applies: gpt-oss / solar-open's <|end|> is not an end of generation; nor is gemma4's </s>.
  const has = (text: string) => ids.has(text) && eog.has(ids.get(text)!);
  if ((has('<|return|>') && has('<|call|>') && has('<|end|>')) || (has('<|calls|>') && has('<|flush|>') && has('<|end|>'))) {
    const end = ids.get('<|end|>')!;
    eog.delete(end);
    attrs[end] = Attr.userDefined;
  }
  if (has('<|tool_response>') && has('</s>')) {
    const s = ids.get('</s>')!;
    eog.delete(s);
    attrs[s] = Attr.normal;
  }

  const specialIds: number[] = [];
  for (let i = 0; i < n; i++) if (attrs[i] & (Attr.control | Attr.userDefined | Attr.unknown)) specialIds.push(i);
  // Longest first, so `<|im_start|>` is found before any special token it contains; stable for equal lengths.
  // (llama.cpp compares UTF-8 byte lengths.)
  const byteLength = specialIds.map((id) => utf8Length(tokens[id]));
  const order = specialIds.map((id, i) => [id, byteLength[i]] as const).sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  specialIds.splice(0, specialIds.length, ...order.map(([id]) => id));

  // Phi-3 strips whitespace to the right of its special tokens (llama.cpp applies this by model name).
  const name = typeof metadata['general.name'] === 'string' ? (metadata['general.name'] as string).toLowerCase() : '';
  if (name.includes('phi-3') || name.includes('phi3')) {
    for (const id of specialIds) attrs[id] |= Attr.rstrip;
    const s = ids.get('</s>');
    if (s !== undefined) attrs[s] |= Attr.rstrip;
    for (const text of ['<unk>', '<s>', '<|endoftext|>']) {
      const id = ids.get(text);
      if (id !== undefined) attrs[id] &= ~Attr.rstrip;
    }
  }

  const chatTemplate = typeof metadata['tokenizer.chat_template'] === 'string' ? (metadata['tokenizer.chat_template'] as string) : undefined;

  return {
    kind, pre, tokens, scores, attrs, ids, mergeRanks, bos, eos, eot, eom, unk, pad,
    addBos, addEos, addSpacePrefix, cleanSpaces, ignoreMerges, eog, specialIds, chatTemplate,
  };
}
