/**
 * One generation: prefill the prompt, then sample → report → decode until a stop token, the token budget, the
 * context's end or an abort.
 *
 * Prompt caching (llama.cpp server's cache_prompt): the model's KV cache still holds the previous generation's
 * prompt and output. The longest common prefix of those tokens and the new prompt is kept and only the rest is
 * evaluated, so turn N of a chat costs its new tokens, not the whole conversation. At least the prompt's last token
 * is always evaluated (its logits give the first new token). When the new prompt re-tokenizes earlier output
 * differently (a BPE/SentencePiece merge across the old end), the prefix simply stops where the ids differ. The
 * sampler is fed the whole prompt either way, so the repetition penalty sees what it would in a fresh run. (The
 * reply's K/V rows were written by one-token decode steps, a fresh run writes them in a prefill: the same sums in
 * another order, so logits agree to float rounding and greedy tokens are equal but at an exact near-tie, as in
 * llama.cpp.)
 *
 * Written against the small `LogitsModel` interface (what WebGpuEngine offers) so the loop's rules — what counts as
 * a stop, when abort takes effect, how speed is measured, what is reused — are tested without a GPU.
 */
import { isRbeeError, RbeeError } from '../errors.ts';
import type { GeneratedStep, GenerationResult, StopReason } from './worker-protocol.ts';
import { logprobsOf, Sampler, type SamplingSettings, type SelectedCandidates, type SelectionLimits, type TokenSelection } from './sampling.ts';

/**
 * A prefill the caller may abandon (a chat's Stop during a long prompt): run in slices, with the tokens read so far
 * reported after each (and 0 before the first), and RbeeError('aborted') between slices once `aborted()` is true
 * (the slices that ran stay cached).
 */
export interface PrefillHooks {
  aborted?: () => boolean;
  onProgress?: (done: number, total: number) => void;
}

export interface LogitsModel {
  /** Appends tokens to the KV cache; the last token's logits. */
  prefill(tokens: number[], hooks?: PrefillHooks): Promise<Float32Array>;
  /** Appends one token; its logits. */
  decode(token: number): Promise<Float32Array>;
  /** Tokens in the KV cache. */
  readonly position: number;
  /** The tokens whose K/V are in the cache, in position order: exactly what prefill and decode appended. */
  readonly cachedTokens: readonly number[];
  /** Keeps the first n cached positions; the next prefill continues from position n. */
  truncate(n: number): void;
  /** Empties the KV cache. */
  reset(): void;
  /**
   * Optional: like prefill / decode, but the model selects the next token's candidates itself (the k best logits
   * outside `exclude`, and the raw logits of `exclude`), so only a few bytes come back per token (WebGpuEngine).
   * Used when the sampler allows it (Sampler.gpuSelection: greedy or top-k) and no logprobs are asked for.
   */
  prefillSelect?(tokens: number[], selection: TokenSelection, hooks?: PrefillHooks): Promise<SelectedCandidates>;
  decodeSelect?(token: number, selection: TokenSelection): Promise<SelectedCandidates>;
  /** What a selection may ask. */
  readonly selectionLimits?: SelectionLimits;
}

/** Renders generated ids as text as they come (a tokenizer's stream decoder, or vocabulary pieces). */
export interface TextStream {
  push(id: number): string;
  flush(): string;
}

export interface GenerationRequest {
  promptTokens: number[];
  sampling: SamplingSettings;
  maxTokens: number;
  stopTokens: readonly number[];
  logprobs?: boolean;
  topLogprobs?: number;
  /** KV cache length: generation stops ('context-full') when it is reached. */
  contextLength: number;
  /** Keep the KV cache's common prefix with this prompt and evaluate only the rest (default true). */
  cachePrompt?: boolean;
}

export interface GenerationHooks {
  onStep?: (step: GeneratedStep) => void;
  /**
   * Checked between prompt slices and after every token; true ends the generation with stopReason 'aborted' (during
   * the prompt: no tokens, and the cache keeps the prompt's slices that ran).
   */
  aborted?: () => boolean;
  /** Prompt tokens read so far of those evaluated (the reused prefix not counted), as the prefill goes. */
  onPromptProgress?: (done: number, total: number) => void;
  text?: TextStream;
  /** Clock in milliseconds (tests inject one). */
  now?: () => number;
  /** When the request arrived, on the `now` clock (default: when runGeneration starts), for time to first token. */
  startedAt?: number;
}

/**
 * How many of `prompt`'s first tokens can keep the K/V already in the cache: the longest common prefix of the
 * two, but never the whole prompt (its last token must be evaluated to get the next token's logits).
 */
export function reusablePrefix(cached: readonly number[], prompt: readonly number[]): number {
  const limit = Math.min(cached.length, prompt.length - 1);
  let n = 0;
  while (n < limit && cached[n] === prompt[n]) n++;
  return n;
}

/** Upper bound on top-K logprobs per step (each costs a partial sort of the vocabulary). */
export const MAX_TOP_LOGPROBS = 20;

export function validateGenerationRequest(r: GenerationRequest): void {
  if (r.promptTokens.length === 0)
    throw new RbeeError('bad-value', 'The prompt is empty.', { hint: 'Give at least one prompt token (e.g. the BOS token).' });
  if (!Number.isInteger(r.maxTokens) || r.maxTokens < 1)
    throw new RbeeError('bad-value', `max tokens must be an integer ≥ 1, not ${r.maxTokens}.`);
  if (r.topLogprobs !== undefined && (!Number.isInteger(r.topLogprobs) || r.topLogprobs < 0 || r.topLogprobs > MAX_TOP_LOGPROBS))
    throw new RbeeError('bad-value', `top logprobs must be an integer from 0 to ${MAX_TOP_LOGPROBS}, not ${r.topLogprobs}.`);
  if (r.promptTokens.length >= r.contextLength)
    throw new RbeeError('limit-exceeded', `The prompt (${r.promptTokens.length} tokens) does not fit the context (${r.contextLength} tokens).`, {
      hint: 'Shorten the prompt or load the model with a longer context.',
    });
}

export async function runGeneration(model: LogitsModel, request: GenerationRequest, hooks: GenerationHooks = {}): Promise<GenerationResult> {
  validateGenerationRequest(request);
  const now = hooks.now ?? (() => performance.now());
  const startedAt = hooks.startedAt ?? now();
  const sampler = new Sampler(request.sampling);
  for (const t of request.promptTokens) sampler.accept(t);
  const stops = new Set(request.stopTokens);
  const topK = request.topLogprobs ?? 0;
  const wantLogprobs = request.logprobs === true || topK > 0;

  const prompt = request.promptTokens;
  const reused = request.cachePrompt === false ? 0 : reusablePrefix(model.cachedTokens, prompt);
  if (reused > 0) model.truncate(reused);
  else model.reset();
  let evaluated = prompt.length - reused;
  // The next token and, when this step needed them, the logits it came from.
  const limits = model.selectionLimits;
  const selectable = !wantLogprobs && limits !== undefined && model.prefillSelect !== undefined && model.decodeSelect !== undefined;
  // The prompt is read in slices the user can abandon (Stop), with progress; what was read stays cached.
  let read = 0;
  const prefillHooks: PrefillHooks = {
    ...(hooks.aborted ? { aborted: hooks.aborted } : {}),
    onProgress: (done, total) => {
      read = done;
      hooks.onPromptProgress?.(done, total);
    },
  };
  const next = async (input: number[] | number): Promise<{ token: number; logits?: Float32Array }> => {
    const selection = selectable ? sampler.gpuSelection(limits!) : undefined;
    if (selection) {
      const selected =
        typeof input === 'number' ? await model.decodeSelect!(input, selection) : await model.prefillSelect!(input, selection, prefillHooks);
      return { token: sampler.pick(selected, selection) };
    }
    const logits = typeof input === 'number' ? await model.decode(input) : await model.prefill(input, prefillHooks);
    return { token: sampler.sample(logits), logits };
  };
  const t0 = now();
  let chosen: { token: number; logits?: Float32Array } | undefined;
  try {
    chosen = await next(reused > 0 ? prompt.slice(reused) : prompt);
  } catch (e) {
    if (!(isRbeeError(e) && e.code === 'aborted' && hooks.aborted?.())) throw e;
    // Abandoned between slices: what was read is what was evaluated (and stays in the cache).
    evaluated = read;
  }
  const prefillMs = now() - t0;
  let firstTokenMs = 0;

  const tokens: number[] = [];
  const steps: GeneratedStep[] = [];
  let text = '';
  let decodeMs = 0;
  let decodes = 0;
  // Stopped while the prompt was read: nothing to sample.
  let stopReason: StopReason = chosen ? 'max-tokens' : 'aborted';
  while (chosen) {
    const token = chosen.token;
    sampler.accept(token);
    const piece = hooks.text?.push(token) ?? '';
    text += piece;
    const step: GeneratedStep = { token, text: piece };
    if (wantLogprobs) {
      const lp = logprobsOf(chosen.logits!, token, topK);
      step.logprob = lp.logprob;
      if (lp.top) step.top = lp.top;
    }
    tokens.push(token);
    steps.push(step);
    if (tokens.length === 1) firstTokenMs = now() - startedAt;
    hooks.onStep?.(step);
    if (stops.has(token)) {
      stopReason = 'stop-token';
      break;
    }
    if (tokens.length >= request.maxTokens) break;
    if (hooks.aborted?.()) {
      stopReason = 'aborted';
      break;
    }
    if (model.position >= request.contextLength) {
      stopReason = 'context-full';
      break;
    }
    const t = now();
    chosen = await next(token);
    decodeMs += now() - t;
    decodes++;
    // An abort that arrived during the decode takes effect before another token is reported.
    if (hooks.aborted?.()) {
      stopReason = 'aborted';
      break;
    }
  }
  const tail = hooks.text?.flush() ?? '';
  if (tail && steps.length > 0) {
    steps[steps.length - 1]!.text += tail;
    text += tail;
  }
  const perSecond = (n: number, ms: number) => (ms > 0 ? n / (ms / 1000) : 0);
  return {
    tokens,
    steps,
    text,
    stopReason,
    seed: sampler.seed,
    timings: {
      promptTokens: prompt.length,
      promptTokensReused: reused,
      promptTokensEvaluated: evaluated,
      generatedTokens: tokens.length,
      prefillSeconds: prefillMs / 1000,
      decodeSeconds: decodeMs / 1000,
      firstTokenSeconds: firstTokenMs / 1000,
      prefillTokensPerSecond: perSecond(evaluated, prefillMs),
      decodeTokensPerSecond: perSecond(decodes, decodeMs),
    },
  };
}
