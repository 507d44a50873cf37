/**
 * What both chat views (the WebGPU / native-worker page and the prebuilt engines) put in their transcript: messages,
 * and under a reply the figures its engine measured. The engines measure different things (the worker times prefill
 * and decode apart; web-llm and transformers.js count tokens and may give a rate), so each figure is optional and the
 * transcript shows what there is.
 */
import type { GenerationTimings } from '../../inference/protocol.ts';

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
}

export interface TranscriptMessage {
  role: 'user' | 'assistant';
  content: string;
  /** A finished (or stopped) reply's figures. */
  figures?: ReplyFigures;
}

/** The inference worker's (or the companion's, see nativeTimings) timings as the transcript's figures. */
export function figuresFromTimings(t: GenerationTimings, stopped: boolean): ReplyFigures {
  return {
    prefill: {
      tokensPerSecond: t.prefillTokensPerSecond,
      tokens: t.promptTokens,
      ...(t.promptTokensReused !== undefined ? { reused: t.promptTokensReused } : {}),
    },
    decodeTokensPerSecond: t.decodeTokensPerSecond,
    generatedTokens: t.generatedTokens,
    stopped,
  };
}

/** Tokens per second as the chat shows them: whole numbers from 100 up, one decimal below. */
export function formatTokensPerSecond(n: number): string {
  return n >= 100 ? n.toFixed(0) : n.toFixed(1);
}
