/**
 * Issue 5, SafeTensors: a model as Hugging Face holds it (config.json, HF tensor names and layout, F32 / F16 / BF16,
 * single file or shards) runs on our WebGPU engine — through the app's inference worker in headless Chromium, as
 * `rbee-web generate` does — and generates what llama.cpp generates from its GGUF conversion.
 *
 * Each twin comes from a GGUF by tests/support/safetensors-twin.ts (the inverse of llama.cpp's converter: llama q/k
 * rows back to rotate-half order, Gemma norms minus 1), so the twin and the GGUF hold the same weights:
 *  - stories260K.gguf's twin: all 64 greedy tokens equal llama.cpp's on the GGUF;
 *  - random-weight models (Llama, Qwen2, Qwen3, Gemma, Gemma 2, Gemma 3): tokens equal llama.cpp's on the GGUF's exact
 *    F32 twin up to its first near-tie (0.03), probabilities within 0.02.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { HarnessJob, HarnessJobResult } from '../../src/cli/browser-harness/harness-page.ts';
import { openBrowserSession } from '../../src/cli/browser-harness/run-in-browser.ts';
import type { GenerationResult } from '../../src/lib/engine/worker-protocol.ts';
import { type Family, writeFamilyModel } from '../support/family-generator.ts';
import { fixture, HAS_FIXTURES } from '../support/fixtures.ts';
import { type GeneratedWeightType, writeGeneratedModel } from '../support/model-generator.ts';
import { oracleGreedy, type OracleRun } from '../support/oracle.ts';
import { compareWithOracle, GENERATED_PROMPTS, GENERATED_TOKENS, generationsOf, NEAR_TIE_MARGIN, TWIN_PROBABILITY_TOLERANCE } from '../support/parity.ts';
import { writeSafetensorsTwin } from '../support/safetensors-twin.ts';

const STORIES_PROMPT = [1, 403, 407, 261, 378];
const PROMPTS = GENERATED_PROMPTS.slice(0, 2);
const MIN_STEPS = 6;

interface TwinCase {
  name: string;
  family: 'llama' | Family;
  type: GeneratedWeightType;
  shards: number;
  seed: number;
}

/** Each family in one dtype (Llama F32 is stories260K above), two of them sharded: small enough to run in ~2 min. */
const CASES: TwinCase[] = [
  { name: 'llama F16 (2 shards)', family: 'llama', type: 'F16', shards: 2, seed: 1 },
  { name: 'llama BF16', family: 'llama', type: 'BF16', shards: 1, seed: 1 },
  { name: 'qwen2 BF16', family: 'qwen2', type: 'BF16', shards: 1, seed: 7 },
  { name: 'qwen3 F16', family: 'qwen3', type: 'F16', shards: 1, seed: 7 },
  { name: 'gemma F32', family: 'gemma', type: 'F32', shards: 1, seed: 8 },
  { name: 'gemma2 BF16 (2 shards)', family: 'gemma2', type: 'BF16', shards: 2, seed: 9 },
  { name: 'gemma3 F16', family: 'gemma3', type: 'F16', shards: 1, seed: 7 },
];

const oracles = new Map<string, OracleRun[]>();
const results = new Map<string, HarnessJobResult>();
let dir: string;

const generations = (name: string): GenerationResult[] => generationsOf(name, results.get(name));

const job = (url: string, prompts: number[][], maxTokens: number): HarnessJob => ({
  model: { model: { kind: 'remote', source: url } },
  engine: 'webgpu',
  contextLength: 128,
  generations: prompts.map((p) => ({ prompt: { tokens: p }, sampling: { temperature: 0 }, maxTokens, stopTokens: [], logprobs: true })),
});

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rbee-st-twins-'));
  const session = await openBrowserSession();
  try {
    const base = session.serveFolder(dir);
    const url = (path: string) => `${base}${path.slice(dir.length + 1)}`;
    const names: string[] = [];
    const jobs: HarnessJob[] = [];
    if (HAS_FIXTURES) {
      const weights = await writeSafetensorsTwin(fixture('models/stories260K.gguf'), join(dir, 'stories260K'));
      oracles.set('stories260K', [await oracleGreedy(fixture('models/stories260K.gguf'), STORIES_PROMPT, 64, { topN: 2 })]);
      names.push('stories260K');
      jobs.push(job(url(weights), [STORIES_PROMPT], 64));
    }
    for (const c of CASES) {
      const slug = c.name.replace(/[^a-z0-9]+/gi, '-');
      const write = (f32Twin: boolean) =>
        c.family === 'llama'
          ? writeGeneratedModel(dir, { weightType: c.type, f32Twin, seed: c.seed }, `${slug}${f32Twin ? '-f32' : ''}.gguf`)
          : writeFamilyModel(dir, { family: c.family, weightType: c.type, f32Twin, seed: c.seed });
      const gguf = await write(false);
      const exact = c.type === 'F32' ? gguf : await write(true);
      const weights = await writeSafetensorsTwin(gguf, join(dir, slug), { shards: c.shards });
      const runs: OracleRun[] = [];
      for (const p of PROMPTS) runs.push(await oracleGreedy(exact, p, GENERATED_TOKENS, { topN: 2 }));
      oracles.set(c.name, runs);
      names.push(c.name);
      jobs.push(job(url(weights), PROMPTS, GENERATED_TOKENS));
    }
    const out = await session.run(jobs);
    names.forEach((n, i) => results.set(n, out[i]!));
  } finally {
    await session.close();
  }
  const lines = ['SafeTensors twins vs llama.cpp on their GGUF (greedy):'];
  for (const [name, oracle] of oracles) {
    const r = results.get(name)!;
    if ('error' in r) {
      lines.push(`  ${name.padEnd(24)} ERROR ${r.error.message}`);
      continue;
    }
    const cmp = r.results.map((g, i) => ('error' in g ? undefined : compareWithOracle(g, oracle[i]!, name === 'stories260K' ? 'exact' : NEAR_TIE_MARGIN)));
    const steps = cmp.reduce((s, x) => s + (x?.compared ?? 0), 0);
    const max = Math.max(0, ...cmp.map((x) => x?.maxProbabilityDifference ?? Infinity));
    lines.push(`  ${name.padEnd(24)} ${steps} steps, max |Δp| ${max.toFixed(4)}${cmp.some((x) => !x || x.firstMismatch >= 0) ? ' MISMATCH' : ''}`);
  }
  console.log(lines.join('\n'));
}, 420_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe.runIf(HAS_FIXTURES)('stories260K as SafeTensors', () => {
  test("stories260K's SafeTensors twin (HF names, rotate-half q/k, config.json): all 64 greedy tokens equal llama.cpp on the GGUF", () => {
    const [ours] = generations('stories260K');
    const oracle = oracles.get('stories260K')![0]!;
    expect(oracle.tokens.slice(0, 8)).toEqual([432, 383, 286, 261, 376, 298, 315, 421]);
    expect(ours!.tokens).toEqual(oracle.tokens);
    expect(compareWithOracle(ours!, oracle, 'exact').maxProbabilityDifference).toBeLessThan(0.005);
  });
});

describe('random-weight SafeTensors twins', () => {
  const TITLES: Record<string, string> = {
    'llama F16 (2 shards)': 'Llama SafeTensors F16 in 2 shards: greedy tokens equal llama.cpp on its GGUF',
    'llama BF16': 'Llama SafeTensors BF16: greedy tokens equal llama.cpp on its GGUF',
    'qwen2 BF16': 'Qwen2 SafeTensors BF16 (biases, tied lm_head): greedy tokens equal llama.cpp on its GGUF',
    'qwen3 F16': 'Qwen3 SafeTensors F16 (q/k norms): greedy tokens equal llama.cpp on its GGUF',
    'gemma F32': 'Gemma SafeTensors F32 (1 + w norms): greedy tokens equal llama.cpp on its GGUF',
    'gemma2 BF16 (2 shards)': 'Gemma 2 SafeTensors BF16 in 2 shards: greedy tokens equal llama.cpp on its GGUF',
    'gemma3 F16': 'Gemma 3 SafeTensors F16: greedy tokens equal llama.cpp on its GGUF',
  };
  for (const c of CASES) {
    test(TITLES[c.name]!, () => {
      const oracle = oracles.get(c.name)!;
      const cmp = generations(c.name).map((g, i) => compareWithOracle(g, oracle[i]!, NEAR_TIE_MARGIN));
      for (const x of cmp) {
        const m = x.steps[x.firstMismatch];
        expect(x.firstMismatch, m ? `step ${m.step}: ours ${m.ourToken}, llama.cpp ${m.oracleToken}` : '').toBe(-1);
        expect(x.maxProbabilityDifference).toBeLessThanOrEqual(TWIN_PROBABILITY_TOLERANCE);
      }
      expect(cmp.reduce((s, x) => s + x.compared, 0)).toBeGreaterThanOrEqual(MIN_STEPS);
    });
  }
});
