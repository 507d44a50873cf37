/**
 * What the chat says when rbee-web, not the model, decides how a conversation becomes a prompt: the model has no chat
 * template (or one that cannot be read), so the inference worker uses the tokenizer area's fallback — ChatML when the
 * vocabulary has <|im_start|> and <|im_end|>, otherwise the turns joined as plain text for the model to continue.
 * Worked out from the header the page has already read, by the rule the worker applies (chatFormatFor), so the note
 * and the prompt agree. Undefined when the model's own template is used.
 */
import type { ModelDescriptor } from '../../loaders/descriptor.ts';
import { chatFormatFor, type ChatFormat } from '../../tokenizer/chat-template.ts';

const CHATML = 'ChatML (<|im_start|>role … <|im_end|>, tokens its vocabulary has)';
const PLAIN = 'plain text for the model to continue, with no roles: a base model completes text rather than chats';

function ggufFormat(metadata: Record<string, unknown>): ChatFormat {
  const template = metadata['tokenizer.chat_template'];
  const tokens = metadata['tokenizer.ggml.tokens'];
  const has = (t: string) => Array.isArray(tokens) && tokens.includes(t);
  return chatFormatFor({
    ...(typeof template === 'string' ? { template } : {}),
    hasChatMlTokens: has('<|im_start|>') && has('<|im_end|>'),
  });
}

export function templateFallbackNote(d: ModelDescriptor): string | undefined {
  if (d.gguf) {
    const format = ggufFormat(d.gguf.metadata);
    if (format.source === 'model') return undefined;
    const as = format.fallback === 'chatml' ? CHATML : PLAIN;
    return format.fallbackReason === 'invalid'
      ? `This model's chat template cannot be read (${format.error?.message ?? 'invalid'}), so rbee-web writes the conversation as ${as}.`
      : `This model has no chat template, so rbee-web writes the conversation as ${as}.`;
  }
  // SafeTensors: the template and the vocabulary are in tokenizer files the page has not read; the worker decides.
  if (!d.hasChatTemplate) return `This model has no chat template, so rbee-web writes the conversation as ChatML if its vocabulary has <|im_start|>, else as plain text for the model to continue.`;
  return undefined;
}
