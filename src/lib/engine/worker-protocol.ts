/**
 * The messages between the main thread (client.ts) and the inference worker (src/workers/inference.worker.ts).
 * The worker owns the GPU device, the model's weights and the tokenizer; the main thread sends requests and gets
 * events back, never weights. Every request carries an `id`; every event names the request it answers.
 *
 *   load     → progress* → loaded          (or error)
 *   generate → prompt-progress* → token* → done   (or error; abort ends it with done{stopReason:'aborted'})
 *   abort    (no reply of its own: the generation it names ends within one token or one prompt slice)
 *   unload   → unloaded
 *   tokenize → tokenized
 *   count-prompt → prompt-counted       (how many tokens a prompt becomes: chat template, special tokens, BOS)
 *   score    → scored                   (teacher-forced log-probabilities over a text: perplexity; scoring.ts)
 *   profile  → profiled                 (where a decode step's time goes: DecodeProfile, src/lib/engine/decode-profile.ts)
 */
import type { RbeeErrorCode } from '../errors.ts';
import type { ModelRef } from '../model/model-ref.ts';
import type { KnownModel, ModelReach } from '../model/resolve.ts';
import type { ChatMessage } from '../tokenizer/types.ts';
import type { DecodeProfile } from './decode-profile.ts';
import type { SamplingSettings, TokenLogprob } from './sampling.ts';
import type { ScoreResult } from './scoring.ts';
import type { GpuMemory } from './memory-plan.ts';

export type { ScoreResult };

export type { DecodeProfile };

/**
 * What a load request names: the model's reference, how to reach it, and what a page already read of it (so the
 * header is not read twice). Files (a local reference's, in `reach.files`) are structured-cloned as handles.
 */
export interface ModelToLoad {
  model: ModelRef;
  reach?: ModelReach;
  known?: KnownModel;
}

export type Prompt =
  /** Exact token ids: nothing is added (no BOS). */
  | { tokens: number[] }
  /** Text, tokenized with the model's tokenizer (BOS added as the model asks). */
  | { text: string }
  /** A conversation, rendered with the model's chat template, then tokenized. */
  | { messages: ChatMessage[] };

export interface GenerateRequestOptions {
  prompt: Prompt;
  sampling: SamplingSettings;
  maxTokens: number;
  /** Tokens that end generation (kept in the output). Default: the model's end-of-generation tokens. */
  stopTokens?: number[];
  /** Report each step's log-probability (of the model's own distribution). */
  logprobs?: boolean;
  /** Also report this many most likely tokens per step. */
  topLogprobs?: number;
  /**
   * Keep the KV cache of the longest common prefix with what the previous generation left in it (its prompt and
   * output) and evaluate only the rest (llama.cpp server's cache_prompt). Default true; false evaluates the whole
   * prompt (benchmarks of prefill speed).
   */
  cachePrompt?: boolean;
}

/** What a score request reads (see scoring.ts for how it is cut into windows). */
export interface ScoreRequestOptions {
  /** Text (tokenized with the model's tokenizer, BOS first as the model asks) or exact ids (nothing added). */
  input: { text: string } | { tokens: number[] };
  /** Window length in tokens; default and at most the loaded context. */
  window?: number;
}

export type WorkerRequest =
  | ({ type: 'load'; id: number; contextLength?: number } & ModelToLoad)
  | ({ type: 'generate'; id: number } & GenerateRequestOptions)
  | { type: 'abort'; id: number; target: number }
  | { type: 'unload'; id: number }
  | { type: 'tokenize'; id: number; text: string; addSpecial?: boolean }
  /**
   * The length of the prompt a generate request with this `prompt` would evaluate, made by the same ModelText (so
   * for a conversation: its chat template or fallback, special tokens, BOS) — how the chat fits a conversation to
   * the context without a second tokenizer on the page.
   */
  | { type: 'count-prompt'; id: number; prompt: Prompt }
  | ({ type: 'score'; id: number } & ScoreRequestOptions)
  /**
   * The decode profile of the loaded model: `steps` (default 32) greedy decode steps after what the KV cache holds,
   * timed on the host (step, encode, wait, read) and per kernel on the GPU where the adapter has timestamp queries;
   * dispatches, submits and readback bytes per step. The cache's contents are kept (prompt caching is unaffected).
   */
  | { type: 'profile'; id: number; steps?: number };

export interface AdapterInfo {
  vendor: string;
  architecture: string;
  /** Features the engine uses ('shader-f16', 'subgroups'). */
  features: string[];
}

export interface LoadProgressEvent {
  phase: 'header' | 'weights';
  bytesUploaded: number;
  totalBytes: number;
  tensorsUploaded: number;
  totalTensors: number;
}

/** What the main thread learns about a loaded model (small: no vocabulary, no weights). */
export interface LoadedModelInfo {
  name: string;
  architecture: string;
  fileType?: string;
  parameterCount: number;
  totalWeightBytes: number;
  vocabSize: number;
  /** KV cache length actually allocated. */
  contextLength: number;
  /** End-of-generation token ids (default stop tokens). */
  eogTokens: number[];
  bosToken?: number;
  /** Whether text prompts can be tokenized (false: only token ids, and text is shown from vocabulary pieces). */
  hasTokenizer: boolean;
  hasChatTemplate: boolean;
  /**
   * How the worker turns a conversation into a prompt, by the same choice it renders with (absent: no tokenizer, so
   * no chat — prompts are token ids).
   */
  chatFormat?: ChatFormatInfo;
  loadSeconds: number;
  adapter: AdapterInfo;
  /** What the WebGPU engine allocated on the GPU for this model (absent for engines that do not say). */
  gpuMemory?: GpuMemory;
}

/**
 * The prompt format a loaded model's conversations get: its own chat template, or rbee-web's fallback — ChatML when
 * the vocabulary has <|im_start|> and <|im_end|>, else the turns as plain text for the model to continue.
 */
export interface ChatFormatInfo {
  kind: 'template' | 'chatml-fallback' | 'plain-fallback';
  /** Why a fallback: the model has no template ('missing'), or its template cannot be parsed ('invalid'). */
  reason?: 'missing' | 'invalid';
  /** The parser's message when the template is invalid. */
  error?: string;
}

/** A request whose prompt came from the fallback because the model's template failed on this conversation. */
export interface TemplateFallback {
  kind: 'chatml-fallback' | 'plain-fallback';
  /** The template's error message (a raise_exception text, an undefined variable …). */
  error: string;
}

export interface GeneratedStep {
  token: number;
  /** Text this token adds to the output (may be '' while a UTF-8 character is incomplete). */
  text: string;
  logprob?: number;
  top?: TokenLogprob[];
}

export type StopReason = 'max-tokens' | 'stop-token' | 'aborted' | 'context-full';

export interface GenerationTimings {
  promptTokens: number;
  /** Prompt tokens whose K/V were kept from the previous generation (absent: a backend without prompt caching). */
  promptTokensReused?: number;
  /** Prompt tokens run through the model this time (promptTokens − promptTokensReused). */
  promptTokensEvaluated?: number;
  generatedTokens: number;
  prefillSeconds: number;
  decodeSeconds: number;
  /** From when the worker starts on the request (tokenizing included) to the first generated token. */
  firstTokenSeconds?: number;
  /** Evaluated prompt tokens / prefillSeconds (reused tokens cost nothing and are not counted). */
  prefillTokensPerSecond: number;
  /** Decoded tokens (all but the first, which comes from the prefill) / decodeSeconds. */
  decodeTokensPerSecond: number;
}

export interface GenerationResult {
  tokens: number[];
  steps: GeneratedStep[];
  text: string;
  stopReason: StopReason;
  /** The sampler's seed (the given one, or the fresh one it drew). */
  seed: number;
  timings: GenerationTimings;
  /** Set when the model's template failed on this conversation and the prompt was made by the fallback instead. */
  templateFallback?: TemplateFallback;
}

export interface SerializedError {
  code: RbeeErrorCode;
  message: string;
  hint?: string;
}

export type WorkerEvent =
  | { type: 'progress'; id: number; progress: LoadProgressEvent }
  | { type: 'loaded'; id: number; model: LoadedModelInfo }
  /** Prompt tokens read so far of those the generation evaluates (0 first, then after each prefill slice). */
  | { type: 'prompt-progress'; id: number; done: number; total: number }
  | { type: 'token'; id: number; step: GeneratedStep }
  | { type: 'done'; id: number; result: GenerationResult }
  | { type: 'unloaded'; id: number }
  | { type: 'tokenized'; id: number; tokens: number[] }
  | { type: 'prompt-counted'; id: number; tokens: number }
  | { type: 'scored'; id: number; result: ScoreResult }
  | { type: 'profiled'; id: number; profile: DecodeProfile }
  | { type: 'error'; id: number; error: SerializedError };
