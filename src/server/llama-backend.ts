/**
 * Runs the model in this process with llama.cpp (node-llama-cpp). node-llama-cpp ships prebuilt CUDA, Vulkan, Metal
 * and CPU binaries; `getLlama` picks the best one this machine can load. It must never compile llama.cpp from source
 * (`build: 'never'`): a companion that starts a C++ build on a user's machine is a broken companion.
 *
 * One context, one sequence: jobs run one at a time, in the order their streams are opened. Temperature 0 is
 * llama.cpp's own greedy decoding, so the text equals what llama.cpp gives for the same prompt.
 */
import { availableParallelism } from 'node:os';
import { basename } from 'node:path';
import type { Llama, LlamaContext, LlamaContextSequence, LlamaModel, Token } from 'node-llama-cpp';
import type { InferRequest, JobEvent } from '../lib/companion/protocol.ts';
import { RbeeError } from '../lib/errors.ts';
import type { BackendDescription, CompanionBackend, PreparedJob } from './backend.ts';
import { CompanionHttpError } from './http-error.ts';
import { DEFAULT_CONTEXT_LENGTH } from '../lib/engine/memory-plan.ts';

export type GpuChoice = 'auto' | 'cpu' | 'cuda' | 'metal' | 'vulkan';

export interface LlamaBackendOptions {
  modelPath: string;
  /** llama.cpp CPU threads. */
  threads?: number;
  /** Context length in tokens (prompt + generated); default: the model's own, capped at DEFAULT_CONTEXT_LENGTH (as in the browser). */
  contextSize?: number;
  gpu?: GpuChoice;
}

/**
 * A prompt longer than context × this many characters cannot fit, so it is refused before llama.cpp tokenizes it
 * (tokenizing runs on the event loop: a 1 MB prompt held every other request for seconds). English text averages about
 * 4 characters a token and code about 3; 16 leaves room for runs of whitespace and long words, and still bounds the
 * work to a few hundred kilobytes at the default context.
 */
export const MAX_CHARS_PER_CONTEXT_TOKEN = 16;

/**
 * Half the cores, at most 4: llama.cpp's CPU path stops scaling early, and on small shared machines (CI, 2 cores) more
 * threads than cores made it dozens of times slower. With a GPU backend threads only feed the GPU.
 */
export function defaultThreads(): number {
  return Math.max(1, Math.min(4, Math.floor(availableParallelism() / 2)));
}

/** A FIFO lock: one job holds the sequence; the rest wait their turn (or leave the queue when their client goes). */
class SequenceLock {
  private tail: Promise<void> = Promise.resolve();

  async acquire(signal: AbortSignal): Promise<() => void> {
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const previous = this.tail;
    this.tail = previous.then(() => mine);
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        release(); // hand our turn straight on: we will never use it
        reject(signal.reason);
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      void previous.then(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      });
    });
    return release;
  }
}

export class LlamaBackend implements CompanionBackend {
  /** Every token generated since start; the protocol tests read it to prove a cancelled job stops generating. */
  tokensGenerated = 0;
  busy = false;
  private readonly lock = new SequenceLock();

  private constructor(
    private readonly llama: Llama,
    private readonly model: LlamaModel,
    private readonly context: LlamaContext,
    private readonly sequence: LlamaContextSequence,
    private readonly modelName: string,
    private readonly threads: number,
  ) {}

  static async load(options: LlamaBackendOptions): Promise<LlamaBackend> {
    const { getLlama, LlamaLogLevel } = await import('node-llama-cpp');
    const gpu = options.gpu ?? 'auto';
    let llama: Llama;
    try {
      llama = await getLlama({ build: 'never', gpu: gpu === 'cpu' ? false : gpu, logLevel: LlamaLogLevel.error });
    } catch (cause) {
      throw new RbeeError('companion', `llama.cpp has no prebuilt binary for ${gpu === 'auto' ? 'this machine' : gpu} that loads here.`, {
        hint: gpu === 'auto' ? 'node-llama-cpp ships builds for linux/macOS/windows on x64 and arm64; check `npx node-llama-cpp inspect gpu`.' : 'Try --gpu auto or --gpu cpu.',
        cause,
      });
    }
    let model: LlamaModel;
    try {
      model = await llama.loadModel({ modelPath: options.modelPath });
    } catch (cause) {
      await llama.dispose();
      throw new RbeeError('companion', `llama.cpp could not load ${options.modelPath}: ${cause instanceof Error ? cause.message : String(cause)}`, {
        hint: 'The companion runs GGUF files (v2 or v3) that llama.cpp supports; check the path and the file.',
        cause,
      });
    }
    const threads = options.threads ?? defaultThreads();
    const contextSize = options.contextSize ?? Math.min(model.trainContextSize, DEFAULT_CONTEXT_LENGTH);
    const context = await model.createContext({ threads, contextSize, sequences: 1 });
    const name = basename(options.modelPath).replace(/\.gguf$/i, '');
    return new LlamaBackend(llama, model, context, context.getSequence(), name, threads);
  }

  async describe(): Promise<BackendDescription> {
    return {
      mode: 'llama',
      model: this.modelName,
      backend: this.llama.gpu === false ? 'cpu' : this.llama.gpu,
      threads: this.threads,
      context_size: this.context.contextSize,
      ...this.templateInfo(),
      busy: this.busy,
      tokens_generated: this.tokensGenerated,
    };
  }

  /** The chat template and the texts of BOS/EOS it refers to, when the GGUF has them. */
  private templateInfo(): { chat_template?: string; bos_token?: string; eos_token?: string } {
    const tokenizer = (this.model.fileInfo.metadata as { tokenizer?: { chat_template?: unknown } }).tokenizer;
    const template = tokenizer?.chat_template;
    if (typeof template !== 'string') return {};
    return { chat_template: template, bos_token: this.model.tokens.bosString ?? undefined, eos_token: this.model.tokens.eosString ?? undefined };
  }

  /** The prompt's tokens as llama.cpp reads a prompt: special tokens in the text are parsed, BOS first if the model wants it. */
  tokenizePrompt(prompt: string): Token[] {
    const tokens = this.model.tokenize(prompt, true);
    const bos = this.model.tokens.bos;
    if (bos !== null && this.model.tokens.shouldPrependBosToken && tokens[0] !== bos) tokens.unshift(bos);
    return tokens;
  }

  async prepare(request: InferRequest, jobId: string): Promise<PreparedJob> {
    const contextSize = this.context.contextSize;
    if (request.prompt.length > contextSize * MAX_CHARS_PER_CONTEXT_TOKEN) {
      throw new CompanionHttpError(
        413,
        'prompt-too-large',
        `The prompt is ${request.prompt.length} characters; the context holds ${contextSize} tokens (at most ~${contextSize * MAX_CHARS_PER_CONTEXT_TOKEN} characters), so it cannot fit.`,
        {},
        'Shorten the prompt (or the conversation), or restart the companion with a larger --context.',
      );
    }
    const input = this.tokenizePrompt(request.prompt);
    const room = this.context.contextSize - input.length;
    if (room < 1) {
      throw new CompanionHttpError(
        400,
        'prompt-too-long',
        `The prompt is ${input.length} tokens; the context holds ${this.context.contextSize}. Shorten it, or restart the companion with a larger --context.`,
      );
    }
    const maxTokens = Math.min(request.max_tokens, room);
    const backend = this;
    return {
      discard: () => {},
      async *events(signal: AbortSignal): AsyncGenerator<JobEvent> {
        const release = await backend.lock.acquire(signal);
        backend.busy = true;
        try {
          await backend.sequence.clearHistory();
          yield { type: 'started', job_id: jobId, model: backend.modelName, prompt_tokens: input.length, max_tokens: maxTokens };
          yield* backend.generate(input, request, maxTokens, signal);
        } finally {
          backend.busy = false;
          release();
        }
      },
    };
  }

  private async *generate(input: Token[], request: InferRequest, maxTokens: number, signal: AbortSignal): AsyncGenerator<JobEvent> {
    const generated: Token[] = [];
    let emitted = '';
    const sampling = {
      temperature: request.temperature,
      ...(request.top_k !== undefined ? { topK: request.top_k } : {}),
      ...(request.top_p !== undefined ? { topP: request.top_p } : {}),
    };
    for await (const token of this.sequence.evaluate(input, sampling)) {
      if (signal.aborted || this.model.isEogToken(token)) break;
      generated.push(token);
      this.tokensGenerated++;
      // Text is decoded from all tokens so far and sent as the difference: one token may hold half of a UTF-8
      // character, which stays back (as U+FFFD) until the next token completes it.
      const text = this.model.detokenize(generated).replace(/\uFFFD+$/, '');
      const piece = text.startsWith(emitted) ? text.slice(emitted.length) : this.model.detokenize([token], false, generated.slice(0, -1));
      emitted = text.startsWith(emitted) ? text : emitted + piece;
      yield { type: 'token', t: piece, i: generated.length - 1 };
      if (generated.length >= maxTokens) break;
    }
  }

  async close(): Promise<void> {
    await this.context.dispose();
    await this.model.dispose();
    await this.llama.dispose();
  }
}
