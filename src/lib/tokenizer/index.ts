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
export { renderChatTemplate, chatFormatFor, FALLBACK_CHAT_TEMPLATE } from './chat-template.ts';
export type { ChatFormat } from './chat-template.ts';
export { tokenizerFromHf } from './hf-tokenizer.ts';
