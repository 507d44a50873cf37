/**
 * Teacher-forced scoring of a token sequence (what llama.cpp's perplexity tool reports): the model reads the text's
 * own tokens, and at every position we keep the log-probability it gave the token that actually comes next and its
 * top-1 guess. perplexity = exp(−mean log-probability).
 *
 * Windows: the sequence is cut into consecutive, non-overlapping windows of at most `window` tokens (the loaded
 * context). When the sequence starts with BOS, every window starts with BOS followed by the next window − 1 text
 * tokens, so each window is what the model would see reading that part from scratch; every text token is scored
 * exactly once (the first of each window is predicted from BOS alone). Without BOS the windows are plain slices and
 * the first token of each is not scored. (llama.cpp's perplexity tool also starts each chunk with BOS, but scores
 * only each chunk's second half; with one window — a text shorter than the context — the two agree.)
 *
 * Written against the small `ScoringModel` interface (what WebGpuEngine offers): the logits of a chunk's positions
 * are reduced to two numbers each as soon as they arrive, so memory stays at one chunk's logits.
 */
import { RbeeError } from '../errors.ts';

export interface ScoringModel {
  /** Most tokens one prefillAllPositions call takes. */
  readonly allPositionsChunk: number;
  /** Appends tokens to the KV cache; every one's logits, [T][nVocab]. */
  prefillAllPositions(tokens: number[]): Promise<Float32Array>;
  /** Empties the KV cache. */
  reset(): void;
}

export interface ScoreRequest {
  /** The whole sequence (BOS first when the model uses one). */
  tokens: number[];
  /** Window length in tokens (at most the loaded context). */
  window: number;
  /** The model's BOS id, repeated at the start of every window when the sequence starts with it. */
  bos?: number;
  /** Checked between chunks: true stops with RbeeError('aborted'). */
  aborted?: () => boolean;
}

export interface ScoreResult {
  perplexity: number;
  /** Positions scored (the tokens predicted). */
  positions: number;
  /** At each scored position: the model's most likely next token. */
  top1: number[];
  /** At each scored position: the natural-log probability of the token that actually comes next. */
  logprobs: number[];
  /** Tokens of the input (BOS included). */
  tokens: number;
  windows: number;
  window: number;
  seconds: number;
}

/** The windows `request` is cut into (see the file comment). */
export function scoreWindows(tokens: readonly number[], window: number, bos?: number): number[][] {
  if (!Number.isInteger(window) || window < 2) throw new RbeeError('bad-value', `A scoring window needs at least 2 tokens, not ${window}.`);
  const windows: number[][] = [];
  if (bos !== undefined && tokens[0] === bos) {
    const body = tokens.slice(1);
    for (let i = 0; i < body.length; i += window - 1) windows.push([bos, ...body.slice(i, i + window - 1)]);
  } else {
    for (let i = 0; i < tokens.length; i += window) windows.push(tokens.slice(i, i + window));
  }
  return windows.filter((w) => w.length >= 2);
}

export async function scoreTokens(model: ScoringModel, request: ScoreRequest): Promise<ScoreResult> {
  const started = performance.now();
  const windows = scoreWindows(request.tokens, request.window, request.bos);
  if (windows.length === 0)
    throw new RbeeError('bad-value', 'There is nothing to score: the text is shorter than two tokens.', { hint: 'Give a longer text.' });
  const top1: number[] = [];
  const logprobs: number[] = [];
  let sum = 0;
  const chunk = Math.max(1, model.allPositionsChunk);
  for (const w of windows) {
    model.reset();
    // The last token of a window predicts nothing inside it, so it is never evaluated.
    const inputs = w.slice(0, -1);
    for (let start = 0; start < inputs.length; start += chunk) {
      if (request.aborted?.()) throw new RbeeError('aborted', 'Scoring was stopped.');
      const part = inputs.slice(start, start + chunk);
      const logits = await model.prefillAllPositions(part);
      const nVocab = logits.length / part.length;
      for (let i = 0; i < part.length; i++) {
        const row = logits.subarray(i * nVocab, (i + 1) * nVocab);
        const { best, logZ } = logSumExpAndArgmax(row);
        const lp = row[w[start + i + 1]!]! - logZ;
        top1.push(best);
        logprobs.push(lp);
        sum += lp;
      }
    }
  }
  model.reset();
  return {
    perplexity: Math.exp(-sum / logprobs.length),
    positions: logprobs.length,
    top1,
    logprobs,
    tokens: request.tokens.length,
    windows: windows.length,
    window: request.window,
    seconds: (performance.now() - started) / 1000,
  };
}

/** log Σ exp(row) (in float64, shifted by the maximum) and the index of the first maximum. */
function logSumExpAndArgmax(row: Float32Array): { best: number; logZ: number } {
  let best = 0;
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) {
    if (row[i]! > max) {
      max = row[i]!;
      best = i;
    }
  }
  let s = 0;
  for (let i = 0; i < row.length; i++) s += Math.exp(row[i]! - max);
  return { best, logZ: max + Math.log(s) };
}
