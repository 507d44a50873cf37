/**
 * The CPU engine: GGUF models on llama.cpp's WebAssembly build (@wllama/wllama), for browsers where WebGPU is missing
 * or only a software adapter exists (see check.ts for the routing), behind the ChatEngine interface.
 *
 * What is ours and what is llama.cpp's:
 *   - the model is opened by the app's own code (engine/model-opening.ts): from the download cache first (chunks
 *     joined as a Blob), a local File, or a URL / Hugging Face reference read in ranges (model-blobs.ts) — the same
 *     files the WebGPU engine would read, no second download;
 *   - prompts are made by the app's ModelText (chat template or its stated fallback, BOS, special tokens) and handed to
 *     llama.cpp as the text that tokenizes to exactly those ids (ModelText.promptText), so both engines see the same
 *     conversation the same way;
 *   - llama.cpp samples (our SamplingSettings mapped to its names) and generates, in wllama's own worker (wllama
 *     starts one per model: wrapping it in another worker would only add a hop).
 */
import type { Wllama } from '@wllama/wllama';
import { RbeeError, toRbeeError } from '../errors.ts';
import { loadedModelInfo, prepareModel, type PreparedModel } from '../engine/model-opening.ts';
import type { GeneratedStep, GenerateRequestOptions, GenerationResult, LoadedModelInfo, ModelToLoad, StopReason } from '../engine/worker-protocol.ts';
import { randomSeed, validateSamplingSettings } from '../engine/sampling.ts';
import type { ChatMessage } from '../tokenizer/types.ts';
import { protocolPrompt, protocolResult, type ChatEngine, type EngineGenerateOptions, type EngineGenerateRequest, type EngineGenerationResult, type EngineLoadOptions, type EngineModelInfo } from './engine.ts';
import { withBlankChatTemplates } from './gguf-template-blanking.ts';
import { sourcesAsBlobs } from './model-blobs.ts';
import { wasmThreads, wllamaWasmUrl, type WasmThreads } from './wasm-runtime.ts';
import { DEFAULT_CONTEXT_LENGTH } from '../engine/memory-plan.ts';

export interface WasmEngineOptions {
  /** URL of wllama.wasm; default /wllama/wllama.wasm on this page's origin. */
  wasmUrl?: string;
  /** Threads for llama.cpp; default wasmThreads() (all cores when cross-origin isolated, else 1 with a note). */
  threads?: WasmThreads;
  /** wllama's module, for the harness / tests that bundle it themselves; default a dynamic import. */
  loadLibrary?: () => Promise<typeof import('@wllama/wllama')>;
}

/** One streamed piece of llama.cpp's OpenAI-style completion (the fields read here). */
interface CompletionChunk {
  choices: {
    text: string;
    finish_reason: 'stop' | 'length' | null;
    logprobs: { content: { id: number; logprob: number; top_logprobs?: { id: number; logprob: number }[] }[] } | null;
  }[];
  timings?: { prompt_n: number; prompt_ms: number; predicted_n: number; predicted_ms: number; cache_n?: number };
}

export class WasmEngine implements ChatEngine {
  readonly kind = 'wasm' as const;
  private wllama: Wllama | undefined;
  private opened: PreparedModel | undefined;
  private info: LoadedModelInfo | undefined;

  constructor(
    private readonly model: ModelToLoad,
    private readonly options: WasmEngineOptions = {},
  ) {}

  /** What the loaded model is, in the WebGPU worker's shape (the CLI prints it the same way for both engines). */
  get modelInfo(): LoadedModelInfo | undefined {
    return this.info;
  }

  async load(options: EngineLoadOptions = {}): Promise<EngineModelInfo> {
    const started = performance.now();
    const { signal, onProgress } = options;
    try {
      await this.unload();
      onProgress?.({ phase: 'fetching', text: 'Reading the header' });
      const { model, reach, known } = this.model;
      const opened = await prepareModel(model, { ...(reach ? { reach } : {}), ...(known ? { known } : {}), ...(signal ? { signal } : {}) });
      const d = opened.descriptor;
      if (d.format !== 'gguf') {
        throw new RbeeError('unknown-format', `${d.name} is ${d.format}; the CPU engine (llama.cpp's WebAssembly build) runs GGUF only.`, {
          hint: 'Open a GGUF of this model, or run it on WebGPU (&engine=webgpu).',
        });
      }
      const blobs = await sourcesAsBlobs(
        opened.sources,
        (p) =>
          onProgress?.({
            phase: p.from === 'network' ? 'fetching' : 'loading',
            fraction: p.totalBytes > 0 ? p.loadedBytes / p.totalBytes : 0,
            loadedBytes: p.loadedBytes,
            totalBytes: p.totalBytes,
            file: p.file,
            text: p.from === 'network' ? `Downloading ${p.file}` : `Reading ${p.file} from this device`,
          }),
        signal,
      );
      // llama.cpp would render the model's template at load, with no budget: it gets the file with it blanked
      // (the template lives in the first file of a split GGUF).
      const headerBytes = d.gguf?.dataOffsets[0];
      if (blobs[0] && headerBytes !== undefined && d.gguf?.littleEndian) blobs[0] = await withBlankChatTemplates(blobs[0], headerBytes);
      const threads = this.options.threads ?? wasmThreads();
      const contextLength = Math.min(options.contextLength ?? DEFAULT_CONTEXT_LENGTH, d.contextLength ?? DEFAULT_CONTEXT_LENGTH);
      onProgress?.({ phase: 'loading', fraction: 1, loadedBytes: d.totalWeightBytes, totalBytes: d.totalWeightBytes, text: `llama.cpp is loading the weights (${threads.threads} thread${threads.threads === 1 ? '' : 's'})` });
      const lib = await (this.options.loadLibrary ?? (() => import('@wllama/wllama')))();
      const wllama = new lib.Wllama({ default: this.options.wasmUrl ?? wllamaWasmUrl(location.href) }, { suppressNativeLog: true, logger: quietLogger() });
      this.wllama = wllama;
      const stop = () => void wllama.exit().catch(() => undefined);
      signal?.addEventListener('abort', stop, { once: true });
      try {
        await wllama.loadModel(blobs, {
          n_ctx: contextLength,
          n_threads: threads.threads,
          // CPU only: on a software adapter llama.cpp's WebGPU backend would be slower still (and it needs shader-f16).
          n_gpu_layers: 0,
          // One conversation at a time: the whole context is the chat's.
          n_parallel: 1,
        });
      } finally {
        signal?.removeEventListener('abort', stop);
      }
      if (signal?.aborted) throw new RbeeError('aborted', 'Loading was stopped.');
      this.opened = opened;
      const loadSeconds = (performance.now() - started) / 1000;
      this.info = loadedModelInfo(opened, contextLength, loadSeconds, { vendor: 'cpu', architecture: 'wasm', features: [`threads:${wllama.getNumThreads()}`] });
      onProgress?.({ phase: 'ready', fraction: 1, text: `Loaded ${d.name}` });
      return {
        engine: 'wasm',
        name: d.name,
        device: `CPU (WebAssembly, ${wllama.getNumThreads()} thread${wllama.getNumThreads() === 1 ? '' : 's'})`,
        contextLength,
        loadSeconds,
        ...(threads.note ? { notes: [threads.note] } : {}),
      };
    } catch (e) {
      await this.unload().catch(() => undefined);
      if (signal?.aborted) throw new RbeeError('aborted', 'Loading was stopped.');
      throw wasmError(e);
    }
  }

  /**
   * One generation in the WebGPU worker's request and result shapes: the CLI's `generate --engine wasm` and the
   * parity tests use it, so both engines answer the same JSON.
   */
  async run(request: GenerateRequestOptions, options: { onStep?: (step: GeneratedStep) => void; signal?: AbortSignal } = {}): Promise<GenerationResult> {
    const wllama = this.wllama;
    const opened = this.opened;
    if (!wllama || !opened) throw notLoaded();
    const started = performance.now();
    validateSamplingSettings(request.sampling);
    const s = request.sampling;
    if (request.stopTokens && request.stopTokens.length > 0) {
      throw new RbeeError('bad-value', 'The CPU engine stops at the model’s own end-of-generation tokens (or never, with --no-stop); it takes no other stop ids.', {
        hint: 'Run with --engine webgpu to stop at other token ids.',
      });
    }
    const prompt = opened.text.promptText(request.prompt);
    const seed = s.seed ?? randomSeed();
    const wantIds = request.logprobs === true || (request.topLogprobs ?? 0) > 0;
    const steps: GeneratedStep[] = [];
    let text = '';
    let finish: 'stop' | 'length' | null = null;
    let timings: CompletionChunk['timings'];
    let firstAt: number | undefined;
    try {
      await wllama.createCompletion({
        prompt: prompt.text,
        max_tokens: request.maxTokens,
        stream: true,
        // llama.cpp's names for our sampling settings (llama-server's /completion fields).
        temperature: s.temperature,
        ...(s.topK !== undefined ? { top_k: s.topK } : {}),
        ...(s.topP !== undefined ? { top_p: s.topP } : {}),
        ...(s.minP !== undefined ? { min_p: s.minP } : {}),
        ...(s.repeatPenalty !== undefined ? { repeat_penalty: s.repeatPenalty } : {}),
        ...(s.repeatLastN !== undefined ? { repeat_last_n: s.repeatLastN } : {}),
        seed,
        // Token ids come back only with log-probabilities, so ask for them only when the caller wants ids (the CLI's
        // --json): wllama 3.8.1 fails on a byte-fallback token's log-probability (its piece is not valid UTF-8 JSON),
        // and the chat needs only text.
        ...(wantIds ? { logprobs: Math.max(1, request.topLogprobs ?? 0) } : {}),
        ...(request.stopTokens?.length === 0 ? { ignore_eos: true } : {}),
        cache_prompt: request.cachePrompt ?? true,
        ...(options.signal ? { abortSignal: options.signal } : {}),
        onData: (chunk: CompletionChunk) => {
          const choice = chunk.choices[0];
          if (chunk.timings) timings = chunk.timings;
          if (!choice) return;
          if (choice.finish_reason) finish = choice.finish_reason;
          const entries = choice.logprobs?.content ?? [];
          if (entries.length > 0) firstAt ??= performance.now();
          entries.forEach((entry, i) => {
            const step: GeneratedStep = {
              token: entry.id,
              // The chunk's text belongs to its last token (llama.cpp holds back incomplete UTF-8).
              text: i === entries.length - 1 ? choice.text : '',
              ...(request.logprobs ? { logprob: entry.logprob } : {}),
              ...(request.topLogprobs ? { top: (entry.top_logprobs ?? []).slice(0, request.topLogprobs).map((t) => ({ token: t.id, logprob: t.logprob })) } : {}),
            };
            steps.push(step);
            options.onStep?.(step);
          });
          // Without ids (the chat), a chunk is one piece of text: token -1 says the id was not asked for.
          if (entries.length === 0 && choice.text) {
            firstAt ??= performance.now();
            options.onStep?.({ token: -1, text: choice.text });
          }
          text += choice.text;
        },
      } as Parameters<Wllama['createCompletion']>[0] & { stream: true; onData: (c: CompletionChunk) => void });
    } catch (e) {
      if (!isAbort(e, options.signal)) throw wasmError(e);
      finish = null;
    }
    const aborted = options.signal?.aborted === true;
    const count = wantIds ? steps.length : (timings?.predicted_n ?? 0);
    const stopReason: StopReason = aborted ? 'aborted' : finish === 'stop' ? 'stop-token' : finish === 'length' || count >= request.maxTokens ? 'max-tokens' : 'context-full';
    const elapsed = (performance.now() - started) / 1000;
    const promptN = timings?.prompt_n ?? prompt.tokens.length;
    const prefillSeconds = timings ? timings.prompt_ms / 1000 : firstAt !== undefined ? (firstAt - started) / 1000 : elapsed;
    const decodeSeconds = timings ? timings.predicted_ms / 1000 : firstAt !== undefined ? (performance.now() - firstAt) / 1000 : 0;
    const generated = wantIds ? steps.length : (timings?.predicted_n ?? 0);
    const decoded = Math.max(0, generated - 1);
    return {
      tokens: steps.map((st) => st.token),
      steps,
      text,
      stopReason,
      seed,
      timings: {
        promptTokens: prompt.tokens.length,
        promptTokensReused: timings?.cache_n ?? 0,
        promptTokensEvaluated: promptN,
        generatedTokens: generated,
        prefillSeconds,
        decodeSeconds,
        ...(firstAt !== undefined ? { firstTokenSeconds: (firstAt - started) / 1000 } : {}),
        prefillTokensPerSecond: prefillSeconds > 0 ? promptN / prefillSeconds : 0,
        decodeTokensPerSecond: decodeSeconds > 0 && decoded > 0 ? (timings ? timings.predicted_n - 1 : decoded) / decodeSeconds : 0,
      },
      ...(prompt.templateFallback ? { templateFallback: prompt.templateFallback } : {}),
    };
  }

  async generate(request: EngineGenerateRequest, options: EngineGenerateOptions = {}): Promise<EngineGenerationResult> {
    const started = performance.now();
    const result = await this.run(
      { prompt: protocolPrompt(request), sampling: request.sampling, maxTokens: request.maxTokens },
      { onStep: (step) => step.text && options.onText?.(step.text), ...(options.signal ? { signal: options.signal } : {}) },
    );
    return protocolResult(result, started);
  }

  /** How many tokens a conversation becomes, by the same ModelText that makes the prompt (for fitting the context). */
  async countPrompt(messages: ChatMessage[]): Promise<number> {
    if (!this.opened) throw notLoaded();
    return this.opened.text.promptLength({ messages });
  }

  async unload(): Promise<void> {
    const wllama = this.wllama;
    this.wllama = undefined;
    this.opened = undefined;
    this.info = undefined;
    if (wllama) await wllama.exit().catch(() => undefined);
  }
}

function isAbort(e: unknown, signal?: AbortSignal): boolean {
  return signal?.aborted === true || (e instanceof Error && (e.name === 'AbortError' || e.name === 'WllamaAbortError'));
}

/** llama.cpp's and wllama's errors as RbeeErrors a user can act on. */
function wasmError(e: unknown): RbeeError {
  if (e instanceof RbeeError) return e;
  const message = e instanceof Error ? e.message : String(e);
  if (/Invalid typed array length/.test(message)) {
    // wllama 3.8.1 reports llama.cpp's JSON errors this way; the one met in practice is a byte-fallback token's piece
    // (not valid UTF-8) in a log-probability.
    return new RbeeError('internal', "llama.cpp's WebAssembly build could not report this generation (it fails to serialise a byte-fallback token's log-probability).", {
      hint: 'Run without --json (text only), or on the WebGPU engine (--engine webgpu).',
      cause: e,
    });
  }
  if (/memory|Out of bounds|allocat|OOM/i.test(message)) {
    return new RbeeError('out-of-memory', `llama.cpp's WebAssembly build ran out of memory: ${message}`, {
      hint: 'Choose a smaller model or quantization, or a shorter context (&ctx=1024); WebAssembly pages address at most 4 GiB.',
      cause: e,
    });
  }
  const err = toRbeeError(e);
  if (err.code !== 'internal') return err;
  return new RbeeError('internal', `llama.cpp's WebAssembly build failed: ${message}`, { hint: 'Reload the page and try again; if it repeats, run the model on WebGPU (&engine=webgpu) or the companion.', cause: e });
}

function notLoaded(): RbeeError {
  return new RbeeError('internal', 'No model is loaded: call load() first.');
}

/** wllama logs every step at debug level; keep warnings and errors. */
function quietLogger() {
  return { debug: () => undefined, log: () => undefined, warn: console.warn.bind(console), error: console.error.bind(console) };
}
