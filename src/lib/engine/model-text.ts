/**
 * ModelText: how a loaded model's tokens become text and text (or a conversation) becomes tokens. With a tokenizer
 * built from the GGUF vocabulary it does everything; without one (a vocabulary kind we cannot tokenize yet) it still
 * shows generated text from the vocabulary's pieces and accepts exact token ids, and says so for text prompts.
 */
import { RbeeError } from '../errors.ts';
import type { GgufValue } from '../formats/descriptor.ts';
import { templateErrorDetail, type ChatFormat } from '../tokenizer/chat-template.ts';
import type { Tokenizer } from '../tokenizer/types.ts';
import type { TextStream } from './generation.ts';
import type { ChatFormatInfo, Prompt, TemplateFallback } from './worker-protocol.ts';
import { VocabularyPieces } from './vocabulary-pieces.ts';

/** A prompt's tokens, and whether the model's template failed on its conversation (the fallback made them). */
export interface PromptTokens {
  tokens: number[];
  templateFallback?: TemplateFallback;
}

const fallbackKind = (f: ChatFormat): TemplateFallback['kind'] => (f.fallback === 'chatml' ? 'chatml-fallback' : 'plain-fallback');

export class ModelText {
  private constructor(
    private readonly tokenizer: Tokenizer | undefined,
    private readonly pieces: VocabularyPieces | undefined,
    private readonly chat: ChatFormat | undefined,
    private readonly metadata: Record<string, GgufValue>,
    private readonly unavailable: RbeeError | undefined,
  ) {}

  /**
   * From GGUF metadata; `tokenizer` is the model's tokenizer when one could be built, `chat` the chat format its
   * conversations get (by default the tokenizer's own: its template, or the fallback it picks). `unavailable` is the error text prompts get when there is no tokenizer (why
   * there is none and what to do); the default says to give token ids.
   */
  static create(metadata: Record<string, GgufValue>, tokenizer?: Tokenizer, chat?: ChatFormat, unavailable?: RbeeError): ModelText {
    return new ModelText(tokenizer, VocabularyPieces.fromMetadata(metadata), chat ?? tokenizer?.chatFormat(), metadata, unavailable);
  }

  /**
   * The format conversations are written in, from the same ChatFormat `prompt` renders with, so what the chat page
   * says and what the model gets agree. Undefined without a tokenizer (no text prompts at all).
   */
  get chatFormat(): ChatFormatInfo | undefined {
    if (!this.tokenizer || !this.chat) return undefined;
    const f = this.chat;
    if (f.source === 'model') return { kind: 'template' };
    return { kind: fallbackKind(f), reason: f.fallbackReason ?? 'missing', ...(f.error ? { error: templateErrorDetail(f.error) } : {}) };
  }

  get canEncode(): boolean {
    return this.tokenizer !== undefined;
  }

  get vocabSize(): number {
    return this.tokenizer?.vocabSize ?? this.pieces?.size ?? 0;
  }

  get bos(): number | undefined {
    return this.tokenizer?.bos ?? numberAt(this.metadata, 'tokenizer.ggml.bos_token_id');
  }

  /** Tokens that end generation: the tokenizer's EOG set, or EOS (and EOT) from the metadata. */
  get eogTokens(): readonly number[] {
    if (this.tokenizer) return this.tokenizer.eogIds;
    const ids = ['tokenizer.ggml.eos_token_id', 'tokenizer.ggml.eot_token_id']
      .map((k) => numberAt(this.metadata, k))
      .filter((v): v is number => v !== undefined);
    return [...new Set(ids)];
  }

  encode(text: string, addSpecial = true): number[] {
    if (!this.tokenizer) throw this.unavailable ?? noTokenizer();
    return this.tokenizer.encode(text, { addSpecial, parseSpecial: false });
  }

  promptTokens(prompt: Prompt): number[] {
    return this.prompt(prompt).tokens;
  }

  /** How many tokens `prompt` becomes: the length of what `prompt()` gives a generation, by the same rendering. */
  promptLength(prompt: Prompt): number {
    return this.prompt(prompt).tokens.length;
  }

  /** The prompt's tokens; for a conversation, also whether the model's template failed on it (see PromptTokens). */
  prompt(prompt: Prompt): PromptTokens {
    if ('tokens' in prompt) {
      const bad = prompt.tokens.find((t) => !Number.isInteger(t) || t < 0 || (this.vocabSize > 0 && t >= this.vocabSize));
      if (bad !== undefined)
        throw new RbeeError('bad-value', `Token id ${bad} is not in the vocabulary (0 … ${this.vocabSize - 1}).`, {
          hint: 'Give token ids of this model’s vocabulary.',
        });
      return { tokens: [...prompt.tokens] };
    }
    if (!this.tokenizer) throw this.unavailable ?? noTokenizer();
    if ('text' in prompt) return { tokens: this.tokenizer.encode(prompt.text, { addSpecial: true, parseSpecial: false }) };
    const chat = this.chat ?? this.tokenizer.chatFormat();
    const rendered = chat.renderOrFallback(prompt.messages, { addGenerationPrompt: true });
    // A rendered template carries its own special tokens (<|im_start|>, often BOS) as text: parse them. BOS is
    // added as the model asks, once: a template that writes it too would otherwise give two.
    const ids = this.tokenizer.encode(rendered.text, { addSpecial: true, parseSpecial: true });
    const bos = this.tokenizer.bos;
    if (bos !== undefined && ids.length > 1 && ids[0] === bos && ids[1] === bos) ids.shift();
    // Only a template that exists and failed on this conversation is news here: a model without one (or with one
    // that does not parse) always gets the fallback, which chatFormat already says.
    if (chat.source === 'model' && rendered.usedFallback)
      return { tokens: ids, templateFallback: { kind: fallbackKind(chat), error: rendered.error ? templateErrorDetail(rendered.error) : 'the template failed' } };
    return { tokens: ids };
  }

  /**
   * The prompt as the text llama.cpp tokenizes to exactly `prompt(prompt).tokens` — BOS added as the model asks,
   * special tokens parsed, as llama.cpp's server does with a text prompt. The CPU engine (llama.cpp's WebAssembly
   * build) takes prompts as text only; sending this text gives it the same tokens, the same chat template and the same
   * fallback as the WebGPU engine. Each candidate is checked by tokenizing it again (our tokenizer is llama.cpp's, token
   * for token); ids that no text reproduces (a non-canonical tokenization, a missing BOS) are a typed error.
   */
  promptText(prompt: Prompt): PromptTokens & { text: string } {
    if (!this.tokenizer) throw this.unavailable ?? noTokenizer();
    const tokenizer = this.tokenizer;
    const made = this.prompt(prompt);
    const ids = made.tokens;
    const bos = tokenizer.bos;
    const body = tokenizer.addBos && bos !== undefined && ids[0] === bos ? ids.slice(1) : ids;
    const bosText = bos !== undefined ? tokenizer.tokenText(bos) : undefined;
    const candidates: string[] = [];
    if ('text' in prompt) candidates.push(prompt.text);
    if ('messages' in prompt) {
      const rendered = (this.chat ?? tokenizer.chatFormat()).renderOrFallback(prompt.messages, { addGenerationPrompt: true }).text;
      candidates.push(rendered);
      // A template that writes BOS itself: we drop the doubled BOS (prompt()), so llama.cpp must not see it twice.
      if (bosText && rendered.startsWith(bosText)) candidates.push(rendered.slice(bosText.length));
    }
    const decoded = tokenizer.decode(body, { special: true });
    candidates.push(decoded, decoded.replace(/^ /, ''));
    const same = (a: readonly number[]): boolean => a.length === ids.length && a.every((t, i) => t === ids[i]);
    for (const text of candidates) {
      if (same(tokenizer.encode(text, { addSpecial: true, parseSpecial: true }))) return { ...made, text };
    }
    throw new RbeeError('bad-value', 'This prompt’s token ids are not what any text tokenizes to, and the CPU engine (llama.cpp’s WebAssembly build) takes prompts as text.', {
      hint: tokenizer.addBos && bos !== undefined && ids[0] !== bos
        ? `Start the ids with BOS (${bos}): llama.cpp adds it to every text prompt of this model.`
        : 'Give the prompt as text (--prompt), or run these exact ids on the WebGPU engine (--engine webgpu).',
    });
  }

  stream(): TextStream {
    if (this.tokenizer) {
      const d = this.tokenizer.streamDecoder();
      return { push: (id) => d.push(id), flush: () => d.flush() };
    }
    if (this.pieces) return this.pieces.stream();
    return { push: () => '', flush: () => '' };
  }

  decode(ids: readonly number[]): string {
    if (this.tokenizer) return this.tokenizer.decode(ids);
    return this.pieces?.decode(ids) ?? '';
  }
}

function numberAt(metadata: Record<string, GgufValue>, key: string): number | undefined {
  const v = metadata[key];
  return typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : undefined;
}

function noTokenizer(): RbeeError {
  return new RbeeError('tokenizer', 'This model’s tokenizer is not available here, so text cannot be turned into tokens.', {
    hint: 'Give the prompt as token ids (rbee-web generate --tokens 1,2,3).',
  });
}
