/**
 * The tokenizer.json a Hugging Face Llama repository holds for a SentencePiece BPE vocabulary, rebuilt from a GGUF's
 * tokenizer.ggml.* arrays the way transformers' LlamaConverter writes one: BPE with byte_fallback, merges from every
 * split of a normal token into two normal tokens ranked by the merged token's score (SentencePiece merges the pair
 * whose result scores highest), "▁" prepended and for spaces, <s> added by the post-processor; plus the matching
 * tokenizer_config.json. Lets SafeTensors twins of GGUF models carry the tokenizer their GGUF has.
 */
import type { GgufValue } from '../../src/lib/formats/descriptor.ts';

const NORMAL = 1;

export interface SpmTokenizerFiles {
  tokenizerJson: object;
  tokenizerConfig: object;
}

export function spmTokenizerFiles(metadata: Record<string, GgufValue>, chatTemplate?: string): SpmTokenizerFiles {
  if (metadata['tokenizer.ggml.model'] !== 'llama') throw new Error('not a SentencePiece (llama) vocabulary');
  const tokens = metadata['tokenizer.ggml.tokens'] as string[];
  const scores = metadata['tokenizer.ggml.scores'] as number[];
  const types = metadata['tokenizer.ggml.token_type'] as number[];
  const id = (key: string) => Number(metadata[key]);
  const unk = id('tokenizer.ggml.unknown_token_id');
  const bos = id('tokenizer.ggml.bos_token_id');
  const eos = id('tokenizer.ggml.eos_token_id');
  const vocab: Record<string, number> = {};
  tokens.forEach((t, i) => (vocab[t] = i));
  const normal = new Set(tokens.filter((_, i) => types[i] === NORMAL));
  const merges: { pair: [string, string]; score: number; l: number; r: number }[] = [];
  tokens.forEach((merged, i) => {
    if (types[i] !== NORMAL) return;
    const chars = [...merged];
    for (let k = 1; k < chars.length; k++) {
      const l = chars.slice(0, k).join('');
      const r = chars.slice(k).join('');
      if (normal.has(l) && normal.has(r)) merges.push({ pair: [l, r], score: scores[i]!, l: vocab[l]!, r: vocab[r]! });
    }
  });
  merges.sort((a, b) => b.score - a.score || a.l - b.l || a.r - b.r);
  const special = (i: number) => ({ id: i, content: tokens[i]!, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  const tokenizerJson = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [...new Set([unk, bos, eos])].map(special),
    normalizer: { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: '▁' }, { type: 'Replace', pattern: { String: ' ' }, content: '▁' }] },
    pre_tokenizer: null,
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: tokens[bos], type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [{ SpecialToken: { id: tokens[bos], type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: tokens[bos], type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: { [tokens[bos]!]: { id: tokens[bos], ids: [bos], tokens: [tokens[bos]] } },
    },
    decoder: {
      type: 'Sequence',
      decoders: [
        { type: 'Replace', pattern: { String: '▁' }, content: ' ' },
        { type: 'ByteFallback' },
        { type: 'Fuse' },
        { type: 'Strip', content: ' ', start: 1, stop: 0 },
      ],
    },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: tokens[unk],
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: true,
      byte_fallback: true,
      ignore_merges: false,
      vocab,
      merges: merges.map((m) => m.pair),
    },
  };
  const tokenizerConfig = {
    add_bos_token: true,
    add_eos_token: false,
    bos_token: tokens[bos],
    eos_token: tokens[eos],
    unk_token: tokens[unk],
    model_max_length: 2048,
    tokenizer_class: 'LlamaTokenizer',
    ...(chatTemplate ? { chat_template: chatTemplate } : {}),
  };
  return { tokenizerJson, tokenizerConfig };
}
