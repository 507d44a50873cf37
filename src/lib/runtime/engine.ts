/**
 * ChatEngine: the one interface the chat page talks to, whatever runs the model — rbee-web's own WebGPU engine (GGUF,
 * SafeTensors), llama.cpp's WebAssembly build (GGUF on the CPU), web-llm (MLC builds), transformers.js (ONNX exports) or
 * the companion (a native rbee worker).
 * Each adapter turns its back end's progress, streaming, cancellation and errors into these shapes:
 *
 *   load(onProgress)      structured progress (phase, fraction, bytes, shards), resolves with what was loaded
 *   generate(onText)      streamed text pieces; aborting resolves with stopReason 'aborted' (the partial text kept)
 *   unload()              frees the GPU memory / the worker
 *
 * Everything thrown is an RbeeError.
 */
import type { ChatMessage } from '../tokenizer/types.ts';
import type { StopReason } from '../engine/worker-protocol.ts';

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
}

export interface EngineGenerateRequest {
  /** A conversation (rendered with the model's chat template) or plain text to continue. */
  messages?: ChatMessage[];
  prompt?: string;
  maxTokens: number;
  /** 0: greedy. */
  temperature: number;
  topP?: number;
  topK?: number;
  seed?: number;
}

export interface EngineGenerateOptions {
  /** Each piece of text as it is produced (the concatenation is the result's text). */
  onText?: (text: string) => void;
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
}

export interface ChatEngine {
  readonly kind: EngineKind;
  load(options?: EngineLoadOptions): Promise<EngineModelInfo>;
  generate(request: EngineGenerateRequest, options?: EngineGenerateOptions): Promise<EngineGenerationResult>;
  unload(): Promise<void>;
}

/** Elapsed-time bookkeeping shared by adapters that time generation themselves. */
export function finishTiming(started: number, firstTokenAt: number | undefined, tokens: number): { elapsedMs: number; tokensPerSecond: number } {
  const end = performance.now();
  const decodeMs = firstTokenAt === undefined ? 0 : end - firstTokenAt;
  return { elapsedMs: end - started, tokensPerSecond: tokens > 1 && decodeMs > 0 ? ((tokens - 1) * 1000) / decodeMs : 0 };
}
