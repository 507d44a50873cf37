/**
 * Chat templates: the model's own Jinja template (GGUF tokenizer.chat_template or tokenizer_config.json's
 * chat_template) rendered with @huggingface/jinja, and a fallback when a model has none or its template is broken.
 * The result is plain text for the tokenizer (parse special tokens when encoding it); it is never HTML.
 */
import { Template } from '@huggingface/jinja';
import { RbeeError } from '../errors.ts';
import { renderWithBudget, templateBudgetFor, TemplateBudgetError } from './template-budget.ts';
import type { ChatMessage, ChatTemplateOptions } from './types.ts';

/** ChatML: the fallback for vocabularies that have <|im_start|> / <|im_end|> (and llama.cpp's own default). */
export const CHATML_TEMPLATE =
  "{%- for message in messages -%}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{%- endfor -%}" +
  "{%- if add_generation_prompt -%}{{ '<|im_start|>assistant\\n' }}{%- endif -%}";

/**
 * Plain continuation, for base models without chat tokens (stories260K): the turns are joined into one text that the
 * model continues, so "Once upon a time" continues exactly as llama.cpp continues it. A reply runs on from the text
 * before it; a new user turn starts on a new line.
 */
export const PLAIN_TEMPLATE =
  "{%- for message in messages -%}{%- if not loop.first and message['role'] != 'assistant' -%}{{ '\\n' }}{%- endif -%}{{ message['content'] }}{%- endfor -%}";

/** Kept for callers that want "the" fallback; chatFormatFor picks ChatML or plain by the vocabulary. */
export const FALLBACK_CHAT_TEMPLATE = PLAIN_TEMPLATE;

/** Longest end-of-turn marker we accept from probing a template (longer suffixes are not markers). */
const MAX_MARKER_LENGTH = 32;

function templateError(e: unknown, what: 'parse' | 'render'): RbeeError {
  const message = e instanceof Error ? e.message : String(e);
  if (e instanceof TemplateBudgetError) {
    return new RbeeError('template', `The model's chat template was stopped: ${message}.`, {
      hint: 'The model file carries a template that runs away (a damaged or hostile file); the built-in fallback chat format is used instead.',
      cause: e,
    });
  }
  return new RbeeError(
    'template',
    what === 'parse' ? `The model's chat template cannot be read: ${message}` : `The model's chat template failed on this conversation: ${message}`,
    { hint: 'The built-in fallback chat format can be used instead; answers may be worse than with the model’s own format.', cause: e },
  );
}

/**
 * What the template engine itself said (a raise_exception text, a syntax error), without the sentence templateError
 * wraps it in: for callers that write their own sentence around it.
 */
export function templateErrorDetail(e: RbeeError): string {
  const cause = e.cause;
  return cause instanceof Error ? cause.message : cause !== undefined ? String(cause) : e.message;
}

/** Parses a template once; throws RbeeError 'template' on syntax errors. */
export function compileChatTemplate(template: string): Template {
  try {
    return new Template(template);
  } catch (e) {
    throw templateError(e, 'parse');
  }
}

function renderCompiled(t: Template, messages: readonly ChatMessage[], options: ChatTemplateOptions): string {
  try {
    // Untrusted code from a model file: rendered within a step, time and size budget (template-budget.ts).
    const inputChars = messages.reduce((n, m) => n + m.content.length, 0);
    const out = renderWithBudget(
      t,
      {
        messages: messages.map((m) => ({ role: m.role, content: m.content })),
        add_generation_prompt: options.addGenerationPrompt ?? true,
        bos_token: options.bos_token ?? '',
        eos_token: options.eos_token ?? '',
      },
      templateBudgetFor(inputChars),
    );
    if (typeof out !== 'string') throw new Error('the template did not produce text');
    return out;
  } catch (e) {
    throw templateError(e, 'render');
  }
}

/** Renders `messages` with `template`. Throws RbeeError 'template' for syntax errors and raise_exception(). */
export function renderChatTemplate(template: string, messages: readonly ChatMessage[], options: ChatTemplateOptions = {}): string {
  return renderCompiled(compileChatTemplate(template), messages, options);
}

export interface ChatFormat {
  /** 'model': the model's own template; 'fallback': ours (none in the model, or the model's is broken). */
  readonly source: 'model' | 'fallback';
  /** Which fallback: the one always used ('fallback' source), or the one used when the model's template fails. */
  readonly fallback: 'chatml' | 'plain';
  /** Why the model's template is not used: it has none, or it failed to parse (see `error`). */
  readonly fallbackReason?: 'missing' | 'invalid';
  readonly error?: RbeeError;
  /** The template text in use. */
  readonly template: string;
  /**
   * Text that ends an assistant turn (`<|im_end|>`, `<|eot_id|>`, `<|end|>`, `</s>` …): generation stops when the
   * output ends with one of these, besides stopping on end-of-generation tokens.
   */
  readonly stopStrings: readonly string[];
  /** Renders with the format's template. Throws RbeeError 'template' when the model's template refuses the input. */
  render(messages: readonly ChatMessage[], options?: { addGenerationPrompt?: boolean }): string;
  /**
   * Renders with the model's template, falling back to ours when it throws: the chat page never ends up with
   * nothing. `error` says why the fallback was used.
   */
  renderOrFallback(messages: readonly ChatMessage[], options?: { addGenerationPrompt?: boolean }): { text: string; usedFallback: boolean; error?: RbeeError };
}

export interface ChatFormatInput {
  /** The model's template, if any. */
  template?: string;
  bosToken?: string;
  eosToken?: string;
  /** Whether the vocabulary has `<|im_start|>` and `<|im_end|>` (then ChatML is the sensible fallback). */
  hasChatMlTokens?: boolean;
}

/**
 * The end-of-turn marker a template writes after an assistant message (`<|eot_id|>`, `<|im_end|>`, `</s>`), found by
 * rendering a conversation that ends with a sentinel assistant message and reading what follows it.
 */
function probeEndOfTurn(render: (messages: readonly ChatMessage[], options: ChatTemplateOptions) => string, options: ChatTemplateOptions): string | undefined {
  const sentinel = 'RBEE_END_OF_TURN_PROBE';
  try {
    const text = render(
      [
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: sentinel },
      ],
      { ...options, addGenerationPrompt: false },
    );
    const at = text.lastIndexOf(sentinel);
    if (at < 0) return undefined;
    const marker = text.slice(at + sentinel.length).trim();
    if (marker === '' || marker.length > MAX_MARKER_LENGTH) return undefined;
    return marker;
  } catch {
    return undefined;
  }
}

/**
 * Which format chatFormatFor would choose, from parsing alone: no template is rendered, so pages can say which format
 * a model gets without running the model's template code on their own thread (the worker renders, within budget).
 */
export function chatFormatChoice(input: ChatFormatInput): Pick<ChatFormat, 'source' | 'fallback' | 'fallbackReason' | 'error'> {
  const fallback: 'chatml' | 'plain' = input.hasChatMlTokens ? 'chatml' : 'plain';
  if (input.template === undefined || input.template.trim() === '') return { source: 'fallback', fallback, fallbackReason: 'missing' };
  try {
    compileChatTemplate(input.template);
    return { source: 'model', fallback };
  } catch (e) {
    return { source: 'fallback', fallback, fallbackReason: 'invalid', error: e instanceof RbeeError ? e : templateError(e, 'parse') };
  }
}

export function chatFormatFor(input: ChatFormatInput): ChatFormat {
  const options: ChatTemplateOptions = { bos_token: input.bosToken ?? '', eos_token: input.eosToken ?? '' };
  const fallbackKind: 'chatml' | 'plain' = input.hasChatMlTokens ? 'chatml' : 'plain';
  const fallbackTemplate = fallbackKind === 'chatml' ? CHATML_TEMPLATE : PLAIN_TEMPLATE;
  const fallbackCompiled = compileChatTemplate(fallbackTemplate);
  const renderFallback = (messages: readonly ChatMessage[], addGenerationPrompt?: boolean) =>
    renderCompiled(fallbackCompiled, messages, { ...options, addGenerationPrompt });

  let compiled: Template | undefined;
  let error: RbeeError | undefined;
  if (input.template !== undefined && input.template.trim() !== '') {
    try {
      compiled = compileChatTemplate(input.template);
    } catch (e) {
      error = e instanceof RbeeError ? e : templateError(e, 'parse');
    }
  }

  // A template that once ran past its budget is not run again: every later conversation would cost the whole budget.
  let runaway: RbeeError | undefined;
  const renderModel = (t: Template, messages: readonly ChatMessage[], o: ChatTemplateOptions): string => {
    if (runaway) throw runaway;
    try {
      return renderCompiled(t, messages, o);
    } catch (e) {
      if (e instanceof RbeeError && e.cause instanceof TemplateBudgetError) runaway = e;
      throw e;
    }
  };

  const stops = new Set<string>();
  const marker = probeEndOfTurn((m, o) => renderModel(compiled ?? fallbackCompiled, m, o), options);
  if (marker) stops.add(marker);
  if (input.eosToken && (compiled ?? fallbackKind === 'chatml')) stops.add(input.eosToken);
  if (!compiled && fallbackKind === 'chatml') stops.add('<|im_end|>');

  if (compiled) {
    const model = compiled;
    return {
      source: 'model',
      fallback: fallbackKind,
      template: input.template!,
      stopStrings: [...stops],
      render: (messages, o = {}) => renderModel(model, messages, { ...options, addGenerationPrompt: o.addGenerationPrompt }),
      renderOrFallback: (messages, o = {}) => {
        try {
          return { text: renderModel(model, messages, { ...options, addGenerationPrompt: o.addGenerationPrompt }), usedFallback: false };
        } catch (e) {
          return { text: renderFallback(messages, o.addGenerationPrompt), usedFallback: true, error: e as RbeeError };
        }
      },
    };
  }
  return {
    source: 'fallback',
    fallback: fallbackKind,
    fallbackReason: error ? 'invalid' : 'missing',
    error,
    template: fallbackTemplate,
    stopStrings: [...stops],
    render: (messages, o = {}) => renderFallback(messages, o.addGenerationPrompt),
    renderOrFallback: (messages, o = {}) => ({ text: renderFallback(messages, o.addGenerationPrompt), usedFallback: true, error }),
  };
}
