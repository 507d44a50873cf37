/**
 * The Tokenizer for a GGUF-embedded vocabulary, built from a plain metadata record. Encoding and decoding follow
 * llama.cpp's llama_tokenize / llama_detokenize so that ids and text agree with llama.cpp token for token.
 */
import type { GgufValue } from '../formats/descriptor.ts';
import { RbeeError } from '../errors.ts';
import { BpeModel } from './bpe.ts';
import { chatFormatFor, type ChatFormat } from './chat-template.ts';
import { detokenizeBytes, PieceTable } from './detokenize.ts';
import { readGgufVocab, type GgufVocab } from './gguf-vocab.ts';
import { splitOnSpecialTokens } from './special-tokens.ts';
import { SpmModel } from './spm.ts';
import { createStreamDecoder } from './stream-decoder.ts';
import type { DecodeOptions, EncodeOptions, StreamDecoder, StreamDecoderOptions, Tokenizer } from './types.ts';

const utf8 = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

export interface GgufTokenizer extends Tokenizer {
  readonly kind: 'spm' | 'bpe';
  /** The vocabulary facts (pre-tokenizer name, flags, chat template) for display and for the chat page. */
  readonly vocab: GgufVocab;
  /** The bytes a token renders to (special tokens as their text): for token inspectors. */
  pieceBytes(id: number): Uint8Array;
  /** The model's chat template (tokenizer.chat_template) or the fallback, with its stop strings. */
  chatFormat(): ChatFormat;
}

export function tokenizerFromGguf(metadata: Record<string, GgufValue>): GgufTokenizer {
  const vocab = readGgufVocab(metadata);
  const spm = vocab.kind === 'spm' ? new SpmModel(vocab) : undefined;
  const bpe = vocab.kind === 'bpe' ? new BpeModel(vocab) : undefined;
  const table = new PieceTable(vocab);
  const eogIds = [...vocab.eog].sort((a, b) => a - b);

  function encode(text: string, options: EncodeOptions = {}): number[] {
    if (typeof text !== 'string') throw new RbeeError('tokenizer', 'Only text can be tokenized.');
    const addSpecial = options.addSpecial ?? true;
    const parseSpecial = options.parseSpecial ?? true;
    const out: number[] = [];
    if (addSpecial && vocab.addBos) {
      if (vocab.bos === undefined) throw new RbeeError('tokenizer', 'The model asks for a BOS token but names none.');
      out.push(vocab.bos);
    }
    const fragments = splitOnSpecialTokens(vocab, text, parseSpecial);
    if (spm) {
      // A space is prefixed to text at the start and after each special token (SentencePiece's dummy prefix).
      let afterSpecial = true;
      for (const f of fragments) {
        if ('id' in f) {
          out.push(f.id);
          afterSpecial = true;
          continue;
        }
        const prefixed = vocab.addSpacePrefix && afterSpecial ? ' ' + f.text : f.text;
        spm.encodeEscaped(prefixed.replaceAll(' ', '\u2581'), out);
        afterSpecial = false;
      }
    } else {
      for (const f of fragments) {
        if ('id' in f) out.push(f.id);
        else bpe!.encodeText(f.text, out);
      }
    }
    if (addSpecial && vocab.addEos) {
      if (vocab.eos === undefined) throw new RbeeError('tokenizer', 'The model asks for an EOS token but names none.');
      out.push(vocab.eos);
    }
    return out;
  }

  function decode(ids: readonly number[], options: DecodeOptions = {}): string {
    return utf8.decode(detokenizeBytes(vocab, table, ids, { special: options.special ?? false, removeSpecial: options.removeSpecial ?? false }));
  }

  function streamDecoder(options: StreamDecoderOptions = {}): StreamDecoder {
    const special = options.special ?? false;
    const empty = new Uint8Array(0);
    return createStreamDecoder(
      { pieceBytes: (id) => (!special && table.isSpecial(id) ? empty : table.bytes(id)) },
      { stripLeadingSpace: options.stripLeadingSpace ?? false },
    );
  }

  return {
    kind: vocab.kind,
    vocab,
    vocabSize: vocab.tokens.length,
    bos: vocab.bos,
    eos: vocab.eos,
    eot: vocab.eot,
    addBos: vocab.addBos,
    addEos: vocab.addEos,
    eogIds,
    encode,
    decode,
    streamDecoder,
    isEog: (id) => vocab.eog.has(id),
    tokenText: (id) => vocab.tokens[id],
    pieceBytes: (id) => table.bytes(id),
    chatFormat: () =>
      chatFormatFor({
        template: vocab.chatTemplate,
        bosToken: vocab.bos !== undefined ? vocab.tokens[vocab.bos] : undefined,
        eosToken: vocab.eos !== undefined ? vocab.tokens[vocab.eos] : undefined,
        hasChatMlTokens: vocab.ids.has('<|im_start|>') && vocab.ids.has('<|im_end|>'),
      }),
  };
}
