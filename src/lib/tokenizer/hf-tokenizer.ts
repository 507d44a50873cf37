/**
 * SafeTensors repositories: tokenizer.json run by @huggingface/tokenizers (no second implementation of it here),
 * with tokenizer_config.json for the special tokens and the chat template, behind the same Tokenizer interface.
 */
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { RbeeError } from '../errors.ts';
import { chatFormatFor, type ChatFormat } from './chat-template.ts';
import type { DecodeOptions, EncodeOptions, StreamDecoder, StreamDecoderOptions, Tokenizer } from './types.ts';

/** Texts treated as end of generation when present (as llama.cpp does for GGUF vocabularies). */
const EOG_TEXTS = ['<|eot_id|>', '<|im_end|>', '<|end|>', '<end_of_turn>', '<|endoftext|>', '<|end_of_text|>', '<|eom_id|>', '<EOT>'];

export interface HfTokenizerConfig {
  bos_token?: string | { content: string } | null;
  eos_token?: string | { content: string } | null;
  chat_template?: string | { name: string; template: string }[] | null;
  [key: string]: unknown;
}

export interface HfTokenizerAdapter extends Tokenizer {
  readonly kind: 'tokenizer.json';
  readonly bosText?: string;
  readonly eosText?: string;
  readonly chatTemplate?: string;
  chatFormat(): ChatFormat;
}

function tokenText(t: HfTokenizerConfig['bos_token']): string | undefined {
  if (typeof t === 'string') return t;
  if (t && typeof t === 'object' && typeof t.content === 'string') return t.content;
  return undefined;
}

/** tokenizer_config.json's chat_template: a string, or a list of named templates of which 'default' is the chat one. */
function pickTemplate(t: HfTokenizerConfig['chat_template']): string | undefined {
  if (typeof t === 'string') return t;
  if (Array.isArray(t)) return (t.find((x) => x.name === 'default') ?? t[0])?.template;
  return undefined;
}

export function tokenizerFromHf(tokenizerJson: unknown, tokenizerConfig: HfTokenizerConfig = {}): HfTokenizerAdapter {
  if (typeof tokenizerJson !== 'object' || tokenizerJson === null || !('model' in tokenizerJson))
    throw new RbeeError('bad-json', 'tokenizer.json is not a Hugging Face tokenizer (it has no "model").', {
      hint: 'Check that the repository’s tokenizer.json is complete.',
    });
  let hf: HfTokenizer;
  try {
    hf = new HfTokenizer(tokenizerJson, tokenizerConfig);
  } catch (e) {
    throw new RbeeError('tokenizer', `tokenizer.json could not be loaded: ${e instanceof Error ? e.message : String(e)}`, {
      hint: 'This tokenizer type may not be supported by @huggingface/tokenizers yet.',
      cause: e,
    });
  }
  const bosText = tokenText(tokenizerConfig.bos_token);
  const eosText = tokenText(tokenizerConfig.eos_token);
  const bos = bosText !== undefined ? hf.token_to_id(bosText) : undefined;
  const eos = eosText !== undefined ? hf.token_to_id(eosText) : undefined;
  const eogSet = new Set<number>();
  if (eos !== undefined) eogSet.add(eos);
  let eot: number | undefined;
  for (const text of EOG_TEXTS) {
    const id = hf.token_to_id(text);
    if (id === undefined) continue;
    eogSet.add(id);
    if (eot === undefined && text !== '<|eom_id|>') eot = id;
  }
  // Whether the post-processor adds BOS / EOS: ask it.
  const withSpecial = hf.encode('', { add_special_tokens: true }).ids;
  const addBos = bos !== undefined && withSpecial[0] === bos;
  const addEos = eos !== undefined && withSpecial.length > 0 && withSpecial[withSpecial.length - 1] === eos && !(addBos && withSpecial.length === 1 && bos === eos);
  const vocabSize = hf.get_vocab(true).size;
  const chatTemplate = pickTemplate(tokenizerConfig.chat_template);

  function encode(text: string, options: EncodeOptions = {}): number[] {
    // @huggingface/tokenizers always matches added (special) tokens in the text; parseSpecial cannot turn that off.
    return hf.encode(text, { add_special_tokens: options.addSpecial ?? true }).ids;
  }

  function decode(ids: readonly number[], options: DecodeOptions = {}): string {
    if (ids.length === 0) return ''; // the library refuses an empty list
    return hf.decode([...ids], { skip_special_tokens: !(options.special ?? false), clean_up_tokenization_spaces: false });
  }

  function streamDecoder(options: StreamDecoderOptions = {}): StreamDecoder {
    // Decode a short window again each time and emit what it adds once it no longer ends in an unfinished
    // character (U+FFFD): decoders that merge bytes or strip spaces only see whole sequences.
    const ids: number[] = [];
    let prefixOffset = 0;
    let readOffset = 0;
    let first = true;
    // A window decoded on its own loses what decoders strip at the start of a text (SentencePiece's leading space,
    // so a continuation's first word would run into the prompt): render each window after one fixed ordinary token
    // and cut that token's text off again.
    const anchor = encode('a', { addSpecial: false }).slice(-1);
    const anchorText = anchor.length === 1 ? decode(anchor) : '';
    const render = (from: number, to: number) => {
      const window = ids.slice(from, to);
      if (anchorText === '' || window.length === 0) return decode(window, { special: options.special });
      const text = decode([...anchor, ...window], { special: options.special });
      return text.startsWith(anchorText) ? text.slice(anchorText.length) : decode(window, { special: options.special });
    };
    const strip = (s: string) => {
      if (first && s.length > 0) {
        first = false;
        return options.stripLeadingSpace && s.startsWith(' ') ? s.slice(1) : s;
      }
      return s;
    };
    return {
      push(id: number): string {
        ids.push(id);
        const before = render(prefixOffset, readOffset);
        const after = render(prefixOffset, ids.length);
        if (after.length > before.length && !after.endsWith('\uFFFD')) {
          prefixOffset = readOffset;
          readOffset = ids.length;
          return strip(after.slice(before.length));
        }
        return '';
      },
      flush(): string {
        const before = render(prefixOffset, readOffset);
        const after = render(prefixOffset, ids.length);
        prefixOffset = readOffset = ids.length;
        return after.length > before.length ? strip(after.slice(before.length)) : '';
      },
    };
  }

  const eogIds = [...eogSet].sort((a, b) => a - b);
  return {
    kind: 'tokenizer.json',
    vocabSize,
    bos,
    eos,
    eot,
    addBos,
    addEos,
    bosText,
    eosText,
    chatTemplate,
    eogIds,
    encode,
    decode,
    streamDecoder,
    isEog: (id) => eogSet.has(id),
    tokenText: (id) => hf.id_to_token(id),
    chatFormat: () =>
      chatFormatFor({
        template: chatTemplate,
        bosToken: bosText,
        eosToken: eosText,
        hasChatMlTokens: hf.token_to_id('<|im_start|>') !== undefined && hf.token_to_id('<|im_end|>') !== undefined,
      }),
  };
}
