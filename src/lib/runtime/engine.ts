/**
 * ChatEngine: the one interface the chat page talks to, whatever runs the model — rbee-web's own WebGPU engine (GGUF,
 * SafeTensors), llama.cpp's WebAssembly build (GGUF on the CPU), web-llm (MLC builds), transformers.js (ONNX exports) or
 * the companion (a native rbee worker).
 * Each adapter turns its back end's progress, streaming, cancellation and errors into these shapes:
 *
 *   load(onProgress)      structured progress (phase, fraction, bytes, shards), resolves with what was loaded
 *   generate(onText)      streamed text pieces; aborting resolves with stopReason 'aborted' (the partial text kept)
 *   countPrompt(messages) optional: the prompt's exact length in tokens, for engines that make the prompt with rbee-web's
 *                         own tokenizer (the WebGPU worker, the CPU engine); the chat fits a conversation to the context
 *                         with it. Engines that render and count elsewhere (web-llm, transformers.js, the companion) omit
 *                         it and the conversation is sent whole, their back end fitting it by its own rule.
 *   unload()              frees the GPU memory / the worker
 *
 * As in web-llm (one MLCEngineInterface implemented by the engine and by its worker proxy), page code is the same
 * whichever engine runs: the chat view (routes/chat) drives any ChatEngine with one state machine.
 * The stop reason (StopReason) and the sampling settings and their defaults (SamplingSettings,
 * LLAMA_CPP_SAMPLING_DEFAULTS) are the worker protocol's, declared once in inference/; each adapter maps them to its
 * back end's names and takes the ones it understands.
 *
 * Everything thrown is an RbeeError.
 */
import type { ChatMessage } from '../tokenizer/types.ts';
import type { GenerationResult, GenerationTimings, LoadedModelInfo, Prompt, StopReason, TemplateFallback } from '../engine/worker-protocol.ts';
import type { SamplingSettings } from '../engine/sampling.ts';

export type EngineKind = 'webgpu' | 'wasm' | 'web-llm' | 'transformers.js' | 'companion';

/**
 * - fetching: downloading weights or runtime files (bytes known or not)
 * - loading: reading cached weights onto the GPU
 * - compiling: building GPU shaders / pipelines
 * - ready: done
 */
export type LoadPhase = 'fetching' | 'loading' | 'compiling' | 'ready';

export interface EngineProgress {
  phase: LoadPhase;
  /** 0…1 over the whole phase, when the back end says. */
  fraction?: number;
  loadedBytes?: number;
  totalBytes?: number;
  /** Shards / files / shader modules done and in all, when the back end counts them. */
  done?: number;
  total?: number;
  /** The file being fetched, when one is named. */
  file?: string;
  /** Seconds since the load began, as the back end reports it. */
  elapsedSeconds?: number;
  /** The back end's own words, for a log line (never parsed by callers). */
  text: string;
}

export interface EngineLoadOptions {
  onProgress?: (progress: EngineProgress) => void;
  signal?: AbortSignal;
  /** Context length to allocate, when the back end lets us choose. */
  contextLength?: number;
}

export interface EngineModelInfo {
  engine: EngineKind;
  /** What the user recognises the model by. */
  name: string;
  /** Where it runs: 'WebGPU', 'WebGPU (shader-f16)', 'WASM', 'companion cuda', … */
  device: string;
  contextLength?: number;
  loadSeconds: number;
  /** What the user should know about how it runs ("1 thread: this page is not cross-origin isolated …"). */
  notes?: string[];
  /**
   * The loaded file's facts, from an engine that reads the file itself and says them (the WebGPU worker): architecture,
   * file type, weight bytes, the GPU adapter, whether it has a tokenizer (else prompts are BOS alone) and how its
   * conversations become prompts (chatFormat).
   */
  detail?: LoadedModelInfo;
}

export interface EngineGenerateRequest {
  /** A conversation (rendered with the model's chat template) or plain text to continue. */
  messages?: ChatMessage[];
  prompt?: string;
  maxTokens: number;
  /**
   * llama.cpp's settings (temperature 0: greedy); each engine takes the ones its back end has (web-llm: temperature,
   * top-p, seed; transformers.js and the companion: temperature, top-k, top-p; the WebGPU worker and the CPU engine: all).
   */
  sampling: SamplingSettings;
}

export interface EngineGenerateOptions {
  /** Each piece of text as it is produced (the concatenation is the result's text). */
  onText?: (text: string) => void;
  /** How much of the prompt has been read, before the first text (engines that read it in slices: the WebGPU worker). */
  onPromptProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}


export interface EngineGenerationResult {
  text: string;
  stopReason: StopReason;
  /** Generated tokens (or text pieces, where the back end does not count tokens). */
  tokens: number;
  promptTokens?: number;
  /** Decode speed, tokens after the first over the time after the first; 0 when unknown. */
  tokensPerSecond: number;
  elapsedMs: number;
  /** Prefill and decode timed apart (the WebGPU worker, the CPU engine; the companion's derived from its rate). */
  timings?: GenerationTimings;
  /** Set when the model's template failed on this conversation and rbee-web's fallback made the prompt. */
  templateFallback?: TemplateFallback;
}

export interface ChatEngine {
  readonly kind: EngineKind;
  load(options?: EngineLoadOptions): Promise<EngineModelInfo>;
  generate(request: EngineGenerateRequest, options?: EngineGenerateOptions): Promise<EngineGenerationResult>;
  /** Prompt tokens `generate` would evaluate for this conversation (rendered and tokenized as it would be). */
  countPrompt?(messages: ChatMessage[]): Promise<number>;
  unload(): Promise<void>;
}

/** Elapsed-time bookkeeping shared by adapters that time generation themselves. */
export function finishTiming(started: number, firstTokenAt: number | undefined, tokens: number): { elapsedMs: number; tokensPerSecond: number } {
  const end = performance.now();
  const decodeMs = firstTokenAt === undefined ? 0 : end - firstTokenAt;
  return { elapsedMs: end - started, tokensPerSecond: tokens > 1 && decodeMs > 0 ? ((tokens - 1) * 1000) / decodeMs : 0 };
}

/** A request's prompt in the worker protocol's shape (the WebGPU worker, the CPU engine): its conversation, else its text. */
export function protocolPrompt(request: Pick<EngineGenerateRequest, 'messages' | 'prompt'>): Prompt {
  return request.messages ? { messages: request.messages } : { text: request.prompt ?? '' };
}

/** A result in the worker protocol's shape (the WebGPU worker, the CPU engine) as the engine's result. */
export function protocolResult(result: GenerationResult, started: number): EngineGenerationResult {
  return {
    text: result.text,
    stopReason: result.stopReason,
    tokens: result.timings.generatedTokens,
    promptTokens: result.timings.promptTokens,
    tokensPerSecond: result.timings.decodeTokensPerSecond,
    elapsedMs: performance.now() - started,
    timings: result.timings,
    ...(result.templateFallback ? { templateFallback: result.templateFallback } : {}),
  };
}
