/**
 * llama.cpp as the oracle (node-llama-cpp 3.21.1, its prebuilt CPU binary, never compiled here): greedy generation
 * from exact token ids, with the probability of every step's top tokens, so a test can compare our engine's tokens
 * and probabilities against the reference implementation.
 *
 * Threads are 1: llama.cpp's multi-threaded path is pathologically slow in this sandbox (see environment.md), and one
 * thread is also the honest CPU baseline for the benchmark.
 */
import { getLlama, type Llama, type LlamaModel, type Token } from 'node-llama-cpp';

export interface OracleStep {
  token: number;
  /** Probability of `token` (the top-1 under greedy). */
  probability: number;
  /** The most likely tokens, most likely first, with their probabilities. */
  top: { token: number; probability: number }[];
}

export interface OracleRun {
  tokens: number[];
  steps: OracleStep[];
}

let llamaPromise: Promise<Llama> | undefined;

/** One llama.cpp instance per process (loading the native binding is the slow part). */
export function oracleLlama(): Promise<Llama> {
  llamaPromise ??= getLlama({ gpu: false, build: 'never', logLevel: 'error' as never, progressLogs: false });
  return llamaPromise;
}

export interface GreedyOptions {
  /** Context size to create (defaults to prompt + maxTokens rounded up). */
  contextSize?: number;
  /** How many top tokens to keep per step (default 5). */
  topN?: number;
}

/** Greedy generation of `maxTokens` tokens after the exact prompt `tokens` (no BOS added). */
export async function oracleGreedy(modelPath: string, prompt: number[], maxTokens: number, options: GreedyOptions = {}): Promise<OracleRun> {
  const llama = await oracleLlama();
  const model = await llama.loadModel({ modelPath, gpuLayers: 0 });
  try {
    return await greedyWith(model, prompt, maxTokens, options);
  } finally {
    await model.dispose();
  }
}

async function greedyWith(model: LlamaModel, prompt: number[], maxTokens: number, options: GreedyOptions): Promise<OracleRun> {
  const contextSize = options.contextSize ?? Math.max(64, Math.ceil((prompt.length + maxTokens + 1) / 32) * 32);
  const context = await model.createContext({ contextSize, threads: 1, batchSize: Math.max(prompt.length, 8) });
  const topN = options.topN ?? 5;
  try {
    const sequence = context.getSequence();
    const tokens: number[] = [];
    const steps: OracleStep[] = [];
    const it = sequence.evaluateWithMetadata(prompt as Token[], { probabilities: true }, { temperature: 0 });
    for await (const out of it) {
      const top: { token: number; probability: number }[] = [];
      for (const [token, probability] of out.probabilities) {
        top.push({ token, probability });
        if (top.length >= topN) break;
      }
      tokens.push(out.token);
      steps.push({ token: out.token, probability: out.probabilities.get(out.token) ?? 0, top });
      if (tokens.length >= maxTokens) break;
    }
    return { tokens, steps };
  } finally {
    await context.dispose();
  }
}

/** Index of the first step whose top-1 vs top-2 probability margin is below `margin` (a near-tie), or steps.length. */
export function firstNearTie(run: OracleRun, margin = 0.03): number {
  const i = run.steps.findIndex((s) => s.top.length > 1 && s.top[0]!.probability - s.top[1]!.probability < margin);
  return i === -1 ? run.steps.length : i;
}

export interface OracleTiming {
  prefillTokensPerSecond: number;
  decodeTokensPerSecond: number;
  threads: number;
}

/**
 * llama.cpp's own speed on the CPU for the benchmark: prefill `prompt`, then greedy-decode `decodeTokens` tokens,
 * without per-token probabilities (they cost a full softmax per step).
 */
export async function oracleTiming(modelPath: string, prompt: number[], decodeTokens: number): Promise<OracleTiming> {
  const llama = await oracleLlama();
  const model = await llama.loadModel({ modelPath, gpuLayers: 0 });
  try {
    const context = await model.createContext({
      contextSize: Math.ceil((prompt.length + decodeTokens + 8) / 32) * 32,
      threads: 1,
      batchSize: Math.max(prompt.length, 8),
    });
    try {
      const sequence = context.getSequence();
      // Prefill alone: evaluate the prompt without generating.
      const t0 = performance.now();
      await sequence.evaluateWithoutGeneratingNewTokens(prompt.slice(0, -1) as Token[]);
      const t1 = performance.now();
      let n = 0;
      const t2 = performance.now();
      for await (const token of sequence.evaluate([prompt[prompt.length - 1]!] as Token[], { temperature: 0 })) {
        void token;
        if (++n >= decodeTokens) break;
      }
      const t3 = performance.now();
      return {
        prefillTokensPerSecond: (prompt.length - 1) / ((t1 - t0) / 1000),
        decodeTokensPerSecond: n / ((t3 - t2) / 1000),
        threads: 1,
      };
    } finally {
      await context.dispose();
    }
  } finally {
    await model.dispose();
  }
}
