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

/**
 * A text written by the model itself through llama.cpp (sampled at temperature 1 with a fixed seed, so it reads like
 * the model's training data and is not the greedy, repetitive continuation): stories from BOS, each until
 * end-of-sequence or `storyTokens`, joined with newlines until the text has at least `minTokens` tokens.
 */
export async function oracleSampledText(modelPath: string, options: { minTokens: number; storyTokens?: number; seed?: number }): Promise<string> {
  const llama = await oracleLlama();
  const model = await llama.loadModel({ modelPath, gpuLayers: 0 });
  const storyTokens = options.storyTokens ?? 400;
  try {
    const context = await model.createContext({ contextSize: storyTokens + 8, threads: 1 });
    try {
      const sequence = context.getSequence();
      const stories: string[] = [];
      let total = 0;
      for (let story = 0; total < options.minTokens; story++) {
        await sequence.clearHistory();
        const tokens: Token[] = [];
        for await (const token of sequence.evaluate([model.tokens.bos!], { temperature: 1, seed: (options.seed ?? 1) + story })) {
          if (model.isEogToken(token)) break;
          tokens.push(token);
          if (tokens.length >= storyTokens) break;
        }
        const text = model.detokenize(tokens).trim();
        stories.push(text);
        total += model.tokenize(text, false).length + 1;
      }
      return stories.join('\n');
    } finally {
      await context.dispose();
    }
  } finally {
    await model.dispose();
  }
}

export interface OracleScore {
  /** BOS + the text's tokens, as llama.cpp tokenizes it. */
  tokens: number[];
  /** Per scored position: the log-probability of the actual next token and llama.cpp's most likely token. */
  logprobs: number[];
  top1: number[];
}

/**
 * llama.cpp's teacher-forced log-probabilities over given windows (each evaluated from an empty cache, f32 KV cache):
 * at every position but a window's last, the full next-token distribution (`controlledEvaluate` with probabilities).
 */
export async function oracleScoreWindows(modelPath: string, windows: number[][]): Promise<Omit<OracleScore, 'tokens'>> {
  const llama = await oracleLlama();
  const model = await llama.loadModel({ modelPath, gpuLayers: 0 });
  try {
    const longest = Math.max(...windows.map((w) => w.length));
    // An f32 KV cache (llama.cpp's default is f16) and no flash attention (its CPU kernel rounds Q to f16), as ours.
    const context = await model.createContext({
      contextSize: Math.ceil((longest + 8) / 32) * 32,
      threads: 1,
      batchSize: 512,
      experimentalKvCacheKeyType: 'F32',
      experimentalKvCacheValueType: 'F32',
      flashAttention: false,
    });
    try {
      const sequence = context.getSequence();
      const logprobs: number[] = [];
      const top1: number[] = [];
      for (const w of windows) {
        await sequence.clearHistory();
        const out = await sequence.controlledEvaluate(w.slice(0, -1).map((t) => [t as Token, { generateNext: { probabilities: true } }] as const));
        out.forEach((o, i) => {
          const probabilities = o?.next.probabilities;
          if (!probabilities) throw new Error(`llama.cpp gave no probabilities at position ${i}`);
          logprobs.push(Math.log(probabilities.get(w[i + 1]! as Token) ?? 0));
          top1.push(probabilities.keys().next().value as number);
        });
      }
      return { logprobs, top1 };
    } finally {
      await context.dispose();
    }
  } finally {
    await model.dispose();
  }
}

/** BOS + llama.cpp's tokens of `text` (no special-token parsing), as a model that adds BOS evaluates it. */
export async function oracleTokenize(modelPath: string, text: string): Promise<number[]> {
  const llama = await oracleLlama();
  const model = await llama.loadModel({ modelPath, vocabOnly: true });
  try {
    return [model.tokens.bos!, ...model.tokenize(text, false)];
  } finally {
    await model.dispose();
  }
}
