/**
 * ModelText: how a loaded model's tokens become text and text (or a conversation) becomes tokens. With a tokenizer
 * built from the GGUF vocabulary it does everything; without one (a vocabulary kind we cannot tokenize yet) it still
 * shows generated text from the vocabulary's pieces and accepts exact token ids, and says so for text prompts.
 */
import { RbeeError } from '../errors.ts';
import type { GgufValue } from '../loaders/descriptor.ts';
import type { Tokenizer } from '../tokenizer/types.ts';
import type { TextStream } from './generation.ts';
import type { Prompt } from './protocol.ts';
import { VocabularyPieces } from './vocabulary-pieces.ts';

export interface ChatRenderer {
  (messages: { role: string; content: string }[]): string;
}

export class ModelText {
  private constructor(
    private readonly tokenizer: Tokenizer | undefined,
    private readonly pieces: VocabularyPieces | undefined,
    private readonly renderChat: ChatRenderer | undefined,
    private readonly metadata: Record<string, GgufValue>,
    private readonly unavailable: RbeeError | undefined,
  ) {}

  /**
   * From GGUF metadata; `tokenizer` is the model's tokenizer when one could be built, `renderChat` its chat
   * template renderer when it has one. `unavailable` is the error text prompts get when there is no tokenizer (why
   * there is none and what to do); the default says to give token ids.
   */
  static create(metadata: Record<string, GgufValue>, tokenizer?: Tokenizer, renderChat?: ChatRenderer, unavailable?: RbeeError): ModelText {
    return new ModelText(tokenizer, VocabularyPieces.fromMetadata(metadata), renderChat, metadata, unavailable);
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
    if ('tokens' in prompt) {
      const bad = prompt.tokens.find((t) => !Number.isInteger(t) || t < 0 || (this.vocabSize > 0 && t >= this.vocabSize));
      if (bad !== undefined)
        throw new RbeeError('bad-value', `Token id ${bad} is not in the vocabulary (0 … ${this.vocabSize - 1}).`, {
          hint: 'Give token ids of this model’s vocabulary.',
        });
      return [...prompt.tokens];
    }
    if (!this.tokenizer) throw this.unavailable ?? noTokenizer();
    if ('text' in prompt) return this.tokenizer.encode(prompt.text, { addSpecial: true, parseSpecial: false });
    if (!this.renderChat) {
      // No template: the conversation as plain text, turn by turn.
      const text = prompt.messages.map((m) => `${m.role}: ${m.content}`).join('\n') + '\nassistant:';
      return this.tokenizer.encode(text, { addSpecial: true, parseSpecial: false });
    }
    // A rendered template carries its own special tokens (<|im_start|>, often BOS) as text: parse them. BOS is
    // added as the model asks, once: a template that writes it too would otherwise give two.
    const ids = this.tokenizer.encode(this.renderChat(prompt.messages), { addSpecial: true, parseSpecial: true });
    const bos = this.tokenizer.bos;
    if (bos !== undefined && ids.length > 1 && ids[0] === bos && ids[1] === bos) ids.shift();
    return ids;
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
