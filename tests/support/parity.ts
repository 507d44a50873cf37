/**
 * Parity between our WebGPU engine (run in headless Chromium through the app's own worker, browser-harness) and
 * llama.cpp (node-llama-cpp on the CPU): the cases, their oracle runs, and the comparison rule, shared by the
 * parity test and the benchmark.
 *
 * The rule (issue 3): greedy tokens equal llama.cpp's up to llama.cpp's first near-tie (top-1 vs top-2 probability
 * margin under a threshold) — every step for the real fixtures — and at every compared step the chosen token's
 * probability within a tolerance. See the two tolerance tables below for why there are two comparisons per type.
 */
import type { HarnessJobResult } from '../../src/cli/browser-harness/harness-page.ts';
import type { GenerationResult } from '../../src/lib/engine/worker-protocol.ts';
import type { GeneratedWeightType } from './model-generator.ts';
import { firstNearTie, type OracleRun } from './oracle.ts';

export const NEAR_TIE_MARGIN = 0.03;

/**
 * Against llama.cpp on the F32 twin of each generated model (every tensor dequantized exactly, so llama.cpp computes
 * in f32 like us): the near-tie rule (0.03) and one tight probability tolerance for every type. Measured
 * differences are below 0.01 for all 14 types; anything larger is a decoder bug.
 */
export const TWIN_PROBABILITY_TOLERANCE = 0.02;

/**
 * Against llama.cpp on the quantized file itself, its CPU path rounds activations — to f16 for F16 weights, to bf16
 * for BF16, to 8 bits (Q8_0 / Q8_K blocks) for every quantized type — so its probabilities move by up to ~0.14 on
 * these models (measured; 0.002 for F32). Per type: the largest allowed |p_ours − p_llama.cpp| of the chosen token,
 * and the top-1/top-2 margin under which two tokens count as tied (twice the tolerance: either may legitimately
 * come first when each probability may move by the tolerance). F32 and F16 keep the 0.03.
 */
export const DIRECT_TOLERANCE: Record<GeneratedWeightType, { probability: number; nearTie: number }> = {
  F32: { probability: 0.005, nearTie: 0.03 },
  F16: { probability: 0.015, nearTie: 0.03 },
  BF16: { probability: 0.06, nearTie: 0.12 },
  Q8_0: { probability: 0.15, nearTie: 0.3 },
  Q4_0: { probability: 0.2, nearTie: 0.4 },
  Q4_1: { probability: 0.2, nearTie: 0.4 },
  Q5_0: { probability: 0.15, nearTie: 0.3 },
  Q5_1: { probability: 0.15, nearTie: 0.3 },
  Q2_K: { probability: 0.2, nearTie: 0.4 },
  Q3_K: { probability: 0.2, nearTie: 0.4 },
  Q4_K: { probability: 0.2, nearTie: 0.4 },
  Q5_K: { probability: 0.15, nearTie: 0.3 },
  Q6_K: { probability: 0.2, nearTie: 0.4 },
  IQ4_NL: { probability: 0.2, nearTie: 0.4 },
};

/** Prompts for the generated models: BOS and a few ordinary vocabulary ids (no specials after BOS). */
export const GENERATED_PROMPTS: number[][] = [
  [1, 300, 301, 302, 303],
  [1, 412, 277, 350],
  [1, 500, 261, 390, 444, 271, 333],
];
/** Tokens generated per prompt for the generated models. */
export const GENERATED_TOKENS = 12;

export interface StepComparison {
  step: number;
  oracleToken: number;
  ourToken: number;
  oracleProbability: number;
  ourProbability: number;
  /** llama.cpp's top-1 − top-2 probability at this step. */
  margin: number;
}

export interface ParityComparison {
  /** Steps compared: up to llama.cpp's first near-tie (or all, when `exact`). */
  compared: number;
  /** First step where the tokens differ within the compared range, or -1. */
  firstMismatch: number;
  maxProbabilityDifference: number;
  steps: StepComparison[];
}

/** Compares one generation against llama.cpp's up to its first near-tie under `nearTie`; 'exact': every step. */
export function compareWithOracle(ours: GenerationResult, oracle: OracleRun, nearTie: number | 'exact' = NEAR_TIE_MARGIN): ParityComparison {
  const limit = Math.min(nearTie === 'exact' ? oracle.tokens.length : firstNearTie(oracle, nearTie), ours.tokens.length);
  const steps: StepComparison[] = [];
  let firstMismatch = -1;
  let maxDiff = 0;
  for (let i = 0; i < limit; i++) {
    const o = oracle.steps[i]!;
    const ourProbability = Math.exp(ours.steps[i]!.logprob ?? NaN);
    const step: StepComparison = {
      step: i,
      oracleToken: o.token,
      ourToken: ours.tokens[i]!,
      oracleProbability: o.probability,
      ourProbability,
      margin: o.top.length > 1 ? o.top[0]!.probability - o.top[1]!.probability : 1,
    };
    steps.push(step);
    if (step.ourToken !== step.oracleToken) {
      firstMismatch = i;
      break; // after a different token the two continue from different texts: nothing more to compare
    }
    maxDiff = Math.max(maxDiff, Number.isNaN(ourProbability) ? Infinity : Math.abs(ourProbability - o.probability));
  }
  return { compared: steps.length, firstMismatch, maxProbabilityDifference: maxDiff, steps };
}

/** The generations of the browser job named `name`, or an error that says which job or generation failed and why. */
export function generationsOf(name: string, result: HarnessJobResult | undefined): GenerationResult[] {
  if (!result) throw new Error(`no result for ${name}`);
  if ('error' in result) throw new Error(`${name} failed to load: ${result.error.code}: ${result.error.message}`);
  return result.results.map((g, i) => {
    if ('error' in g) throw new Error(`${name} generation ${i} failed: ${g.error.code}: ${g.error.message}`);
    return g;
  });
}
