/**
 * The companion (a native rbee worker on this machine; src/lib/companion) behind the ChatEngine interface. The model
 * is the one the companion was started with: load() only asks it what that is.
 */
import { redactUrl } from '../url-redaction.ts';
import { RbeeError, toRbeeError } from '../errors.ts';
import { CompanionClient, type CompanionEndpoint } from '../companion/client.ts';
import type { CompanionInfo } from '../companion/protocol.ts';
import type { GenerationTimings } from '../engine/worker-protocol.ts';
import type { ChatEngine, EngineGenerateOptions, EngineGenerateRequest, EngineGenerationResult, EngineLoadOptions, EngineModelInfo } from './engine.ts';

/** A plain-text prompt for a companion that gives no chat template: role-labelled turns, the assistant's open. */
export function plainChatPrompt(messages: readonly { role: string; content: string }[]): string {
  return `${messages.map((m) => `${m.role}: ${m.content}`).join('\n')}\nassistant:`;
}

export class CompanionEngine implements ChatEngine {
  readonly kind = 'companion' as const;
  private readonly client: CompanionClient;
  private info: CompanionInfo | undefined;

  constructor(
    endpoint: CompanionEndpoint,
    /** Renders a conversation with the model's template (the chat page passes the tokenizer module's renderer). */
    private readonly renderChat: (messages: NonNullable<EngineGenerateRequest['messages']>, info: CompanionInfo) => string | Promise<string> = (m) =>
      plainChatPrompt(m),
  ) {
    this.client = new CompanionClient(endpoint);
  }

  async load(options: EngineLoadOptions = {}): Promise<EngineModelInfo> {
    const started = performance.now();
    options.onProgress?.({ phase: 'loading', text: `Asking the companion at ${redactUrl(this.client.url)}` });
    try {
      this.info = await this.client.info(options.signal);
    } catch (e) {
      throw toRbeeError(e);
    }
    options.onProgress?.({ phase: 'ready', fraction: 1, text: `${this.info.model} on ${this.info.backend}` });
    return {
      engine: 'companion',
      name: this.info.model,
      device: `companion ${this.info.backend}`,
      ...(this.info.context_size !== undefined ? { contextLength: this.info.context_size } : {}),
      loadSeconds: (performance.now() - started) / 1000,
    };
  }

  async generate(request: EngineGenerateRequest, options: EngineGenerateOptions = {}): Promise<EngineGenerationResult> {
    if (!this.info) throw new RbeeError('internal', 'The companion is not connected: call load() first.');
    const prompt = request.messages ? await this.renderChat(request.messages, this.info) : (request.prompt ?? '');
    try {
      const r = await this.client.generate({
        prompt,
        maxTokens: request.maxTokens,
        temperature: request.sampling.temperature,
        ...(request.sampling.topP !== undefined ? { topP: request.sampling.topP } : {}),
        ...(request.sampling.topK !== undefined ? { topK: request.sampling.topK } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.onText ? { onToken: (t: string) => options.onText!(t) } : {}),
      });
      const result: EngineGenerationResult = {
        text: r.text,
        stopReason: r.stopReason,
        tokens: r.tokens,
        ...(r.promptTokens !== undefined ? { promptTokens: r.promptTokens } : {}),
        tokensPerSecond: r.tokensPerSecond,
        elapsedMs: r.elapsedMs,
      };
      const timings = companionTimings(result);
      return { ...result, timings: r.firstTokenMs !== undefined ? { ...timings, firstTokenSeconds: r.firstTokenMs / 1000 } : timings };
    } catch (e) {
      throw toRbeeError(e);
    }
  }

  /** The companion keeps its model: there is nothing to free in the page. */
  async unload(): Promise<void> {
    this.info = undefined;
  }
}

/**
 * The companion's figures as prefill and decode timings: it reports a decode rate and the whole time, so decode is the
 * tokens after the first over that rate and prefill the time before.
 */
export function companionTimings(r: Pick<EngineGenerationResult, 'tokens' | 'promptTokens' | 'tokensPerSecond' | 'elapsedMs'>): GenerationTimings {
  const decodeSeconds = r.tokens > 1 && r.tokensPerSecond > 0 ? (r.tokens - 1) / r.tokensPerSecond : 0;
  const prefillSeconds = Math.max(0, r.elapsedMs / 1000 - decodeSeconds);
  const promptTokens = r.promptTokens ?? 0;
  return {
    promptTokens,
    generatedTokens: r.tokens,
    prefillSeconds,
    decodeSeconds,
    prefillTokensPerSecond: prefillSeconds > 0 ? promptTokens / prefillSeconds : 0,
    decodeTokensPerSecond: r.tokensPerSecond,
  };
}
