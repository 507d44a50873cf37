/**
 * The one tokenizer shape every caller sees (the chat page, the worker, `rbee-web tokenize` / `generate`), whatever
 * sits behind it: a GGUF-embedded SentencePiece or byte-level BPE vocabulary reimplemented to match llama.cpp token for
 * token, or a Hugging Face tokenizer.json run by @huggingface/tokenizers.
 */
import type { ChatFormat } from './chat-template.ts';

export interface EncodeOptions {
  /** Add BOS / EOS as the model asks (tokenizer.ggml.add_bos_token / add_eos_token). Default true. */
  addSpecial?: boolean;
  /** Text such as `<|im_start|>` becomes its single special token. Default true. User-defined tokens are always matched. */
  parseSpecial?: boolean;
}

export interface DecodeOptions {
  /** Render control / unknown tokens as their text (`<|im_end|>`). Default false: they render as nothing. */
  special?: boolean;
  /** Drop a leading BOS (and trailing EOS when the model adds one) before rendering, as llama_detokenize does. Default false. */
  removeSpecial?: boolean;
}

/** Turns a stream of generated ids into text pieces: never half a UTF-8 character, never text split by a pending byte. */
export interface StreamDecoder {
  /** Text that is safe to show now (possibly ''). */
  push(id: number): string;
  /** Whatever is still held back (incomplete bytes become U+FFFD). */
  flush(): string;
}

export interface StreamDecoderOptions {
  /** Render control tokens as text. Default false. */
  special?: boolean;
  /**
   * Drop one leading space from the first rendered piece (SentencePiece models prefix a space to the prompt; use
   * this when the stream starts the text rather than continuing a prompt). Default false.
   */
  stripLeadingSpace?: boolean;
}

export interface Tokenizer {
  /** 'spm' | 'bpe' (GGUF) or 'tokenizer.json' (Hugging Face). */
  readonly kind: 'spm' | 'bpe' | 'tokenizer.json';
  readonly vocabSize: number;
  readonly bos?: number;
  readonly eos?: number;
  /** End of turn (`<|eot_id|>`, `<|im_end|>`, `<|end|>` …) when the vocabulary has one. */
  readonly eot?: number;
  /** Whether encode({addSpecial: true}) adds BOS / EOS. */
  readonly addBos: boolean;
  readonly addEos: boolean;
  encode(text: string, options?: EncodeOptions): number[];
  decode(ids: readonly number[], options?: DecodeOptions): string;
  streamDecoder(options?: StreamDecoderOptions): StreamDecoder;
  /** End of generation: EOS, EOT, EOM and the other tokens llama.cpp stops on. */
  isEog(id: number): boolean;
  /** All end-of-generation ids, for the sampler / worker. */
  readonly eogIds: readonly number[];
  /** The token's text as stored in the vocabulary (for display and debugging), or undefined past the end. */
  tokenText(id: number): string | undefined;
  /** The model's chat template or the fallback (flagged), with the stop strings that end an assistant turn. */
  chatFormat(): ChatFormat;
}

export type ChatRole = 'system' | 'user' | 'assistant' | (string & {});

export interface ChatMessage {
  role: ChatRole;
  content: string;
}

export interface ChatTemplateOptions {
  /** Append the opening of the assistant's turn. Default true. */
  addGenerationPrompt?: boolean;
  bos_token?: string;
  eos_token?: string;
}
