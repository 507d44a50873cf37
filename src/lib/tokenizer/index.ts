/**
 * Public entry of the tokenizer area. GGUF: `tokenizerFromGguf(metadata)`. Hugging Face: `tokenizerFromHf(json, config)`.
 * Chat templates: `renderChatTemplate`, `chatFormatFor`.
 */
export type {
  ChatMessage,
  ChatRole,
  ChatTemplateOptions,
  DecodeOptions,
  EncodeOptions,
  StreamDecoder,
  StreamDecoderOptions,
  Tokenizer,
} from './types.ts';
export { tokenizerFromGguf } from './gguf-tokenizer.ts';
export type { GgufTokenizer } from './gguf-tokenizer.ts';
export { renderChatTemplate, compileChatTemplate, chatFormatFor, FALLBACK_CHAT_TEMPLATE, CHATML_TEMPLATE, PLAIN_TEMPLATE } from './chat-template.ts';
export type { ChatFormat } from './chat-template.ts';
export { tokenizerFromHf } from './hf-tokenizer.ts';
export type { HfTokenizerAdapter, HfTokenizerConfig } from './hf-tokenizer.ts';
export { encodeChatPrompt, findStopString, pendingStopPrefix } from './chat-prompt.ts';
export { tokenizerForModel } from './model-tokenizer.ts';
export { SUPPORTED_PRE_TOKENIZERS } from './pre-tokenizers.ts';
