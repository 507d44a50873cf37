/**
 * What the chat view puts in its transcript: messages, and under a reply the figures its engine measured. The engines
 * measure different things (the WebGPU worker and the CPU engine time prefill and decode apart, the companion's are
 * derived from its rate; web-llm and transformers.js count tokens and may give a rate), so each figure is optional
 * and the transcript shows what there is.
 */
import type { EngineGenerationResult } from '../../runtime/engine.ts';
import type { GenerationTimings, TemplateFallback } from '../../engine/worker-protocol.ts';
import { templateFailedNote } from './template-note.ts';

export interface ReplyFigures {
  /**
   * Prompt processing, when the engine times it apart from decoding. `reused`: prompt tokens whose K/V the worker kept
   * from the previous turn (not evaluated again, so not in the rate); absent where the engine does not say.
   */
  prefill?: { tokensPerSecond: number; tokens: number; reused?: number };
  /** Decoding speed, when the engine gives one. */
  decodeTokensPerSecond?: number;
  generatedTokens: number;
  /** The user stopped the reply. */
  stopped: boolean;
  /** Said under the reply when the model's chat template failed on the conversation and the fallback made the prompt. */
  templateFallback?: string;
}

export interface TranscriptMessage {
  role: 'user' | 'assistant';
  content: string;
  /** A finished (or stopped) reply's figures. */
  figures?: ReplyFigures;
}

/** Any engine's result as the figures under its reply: its timings where it has them, else its counts. */
export function replyFigures(r: EngineGenerationResult): ReplyFigures {
  const stopped = r.stopReason === 'aborted';
  if (r.timings) return figuresFromTimings(r.timings, stopped, r.templateFallback);
  // web-llm and transformers.js count tokens; a rate of 0 means the engine gave none.
  return { ...(r.tokensPerSecond ? { decodeTokensPerSecond: r.tokensPerSecond } : {}), generatedTokens: r.tokens, stopped };
}

/**
 * Prefill and decode timings as the transcript's figures, with the engine's word when this reply's prompt came from
 * the template fallback.
 */
export function figuresFromTimings(t: GenerationTimings, stopped: boolean, fallback?: TemplateFallback): ReplyFigures {
  return {
    prefill: {
      tokensPerSecond: t.prefillTokensPerSecond,
      tokens: t.promptTokens,
      ...(t.promptTokensReused !== undefined ? { reused: t.promptTokensReused } : {}),
    },
    decodeTokensPerSecond: t.decodeTokensPerSecond,
    generatedTokens: t.generatedTokens,
    stopped,
    ...(fallback ? { templateFallback: templateFailedNote(fallback) } : {}),
  };
}

/** Tokens per second as the chat shows them: whole numbers from 100 up, one decimal below. */
export function formatTokensPerSecond(n: number): string {
  return n >= 100 ? n.toFixed(0) : n.toFixed(1);
}
