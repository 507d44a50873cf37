/**
 * What the chat says when rbee-web, not the model, decides how a conversation becomes a prompt: the model has no chat
 * template (or one that cannot be read), so the inference worker uses the tokenizer area's fallback — ChatML when the
 * vocabulary has <|im_start|> and <|im_end|>, otherwise the turns joined as plain text for the model to continue.
 * Once the model is loaded the worker says which format it uses (LoadedModelInfo.chatFormat, from the ChatFormat it
 * renders with), exact for SafeTensors too; before that the page works it out from the header it has read, by the
 * same rule (chatFormatChoice: parsing only, so no template code from the file runs on the page). And when a model's own template fails on one conversation, the reply says so
 * (templateFailedNote). All of it is plain text: template error messages come from model files.
 */
import type { ModelDescriptor } from '../../formats/descriptor.ts';
import type { ChatFormatInfo, TemplateFallback } from '../../engine/worker-protocol.ts';
import { chatFormatChoice, templateErrorDetail } from '../../tokenizer/chat-template.ts';

const CHATML = 'ChatML (<|im_start|>role … <|im_end|>, tokens its vocabulary has)';
const PLAIN = 'plain text for the model to continue, with no roles: a base model completes text rather than chats';

function ggufFormat(metadata: Record<string, unknown>): ChatFormatInfo {
  const template = metadata['tokenizer.chat_template'];
  const tokens = metadata['tokenizer.ggml.tokens'];
  const has = (t: string) => Array.isArray(tokens) && tokens.includes(t);
  // Parsing only: the page never runs the model's template code (the worker renders it, within its budget).
  const format = chatFormatChoice({
    ...(typeof template === 'string' ? { template } : {}),
    hasChatMlTokens: has('<|im_start|>') && has('<|im_end|>'),
  });
  if (format.source === 'model') return { kind: 'template' };
  return {
    kind: format.fallback === 'chatml' ? 'chatml-fallback' : 'plain-fallback',
    reason: format.fallbackReason ?? 'missing',
    ...(format.error ? { error: templateErrorDetail(format.error) } : {}),
  };
}

/** The composer's note for the format the worker uses; undefined when the model's own template writes the prompt. */
export function chatFormatNote(format: ChatFormatInfo): string | undefined {
  if (format.kind === 'template') return undefined;
  const as = format.kind === 'chatml-fallback' ? CHATML : PLAIN;
  return format.reason === 'invalid'
    ? `This model's chat template cannot be read (${format.error ?? 'invalid'}), so rbee-web writes the conversation as ${as}.`
    : `This model has no chat template, so rbee-web writes the conversation as ${as}.`;
}

/** The note before the model is loaded, from its header (SafeTensors: the vocabulary is not read yet, so both). */
export function templateFallbackNote(d: ModelDescriptor): string | undefined {
  if (d.gguf) return chatFormatNote(ggufFormat(d.gguf.metadata));
  // SafeTensors: the template and the vocabulary are in tokenizer files the page has not read; the worker decides.
  if (!d.hasChatTemplate) return `This model has no chat template, so rbee-web writes the conversation as ChatML if its vocabulary has <|im_start|>, else as plain text for the model to continue.`;
  return undefined;
}

/**
 * The model page's "Chat template" line: the answer the chat will give for the same file (the same rule the worker
 * applies, chatFormatChoice), so the two pages never disagree about a model without a template.
 */
export function chatTemplateSummary(d: ModelDescriptor): string {
  const own = 'its own (from the file)';
  if (d.gguf) {
    const format = ggufFormat(d.gguf.metadata);
    if (format.kind === 'template') return own;
    const none = format.reason === 'invalid' ? 'unreadable' : 'none';
    return format.kind === 'chatml-fallback'
      ? `${none} — the chat uses ChatML (the vocabulary has <|im_start|> and <|im_end|>)`
      : `${none} — the chat sends plain text for the model to continue`;
  }
  if (d.hasChatTemplate) return own;
  return 'none — the chat uses ChatML if the vocabulary has <|im_start|>, else plain text to continue';
}

/** The line under a reply whose prompt the fallback made because the model's template failed on the conversation. */
export function templateFailedNote(f: TemplateFallback): string {
  const used = f.kind === 'chatml-fallback' ? 'ChatML' : 'plain text';
  return `The model's chat template failed on this conversation (${f.error}); this reply used ${used}.`;
}
