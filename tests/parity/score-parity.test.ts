/**
 * `rbee-web score` against llama.cpp's own teacher-forced log-probabilities (node-llama-cpp, CPU, 1 thread), on
 * stories260K (a real trained Llama, F32) over a few thousand tokens of text the model itself wrote through
 * llama.cpp (sampled at temperature 1, fixed seed: in-domain, not the greedy loop), cut into the same windows.
 *
 * The CLI runs as a user runs it (a text file, the model's tokenizer, the app's worker in headless Chromium); its
 * --json answer is compared position by position with llama.cpp on the same windows:
 *   - the same tokens (our tokenizer = llama.cpp's on this text: count and therefore every window);
 *   - perplexity within 0.1 %;
 *   - every log-probability within 1e-3 (F32 weights, an f32 KV cache and no flash attention on llama.cpp's side,
 *     so only summation order differs; measured: max 4e-5, mean 2e-6, perplexity 0.0001 % apart);
 *   - top-1 agreement ≥ 99.9 % (they may differ only at exact near-ties; measured 100 %), reported.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test, vi } from 'vitest';
import { run as score, type ScoreJson } from '../../src/cli/score.ts';
import { scoreWindows } from '../../src/lib/engine/scoring.ts';
import { fixture, HAS_FIXTURES } from '../support/fixtures.ts';
import { oracleSampledText, oracleScoreWindows, oracleTokenize } from '../support/oracle.ts';

/** Window (= loaded context) small enough that the text spans several windows, so window cutting is exercised. */
const WINDOW = 1024;
const MIN_TOKENS = 3000;

let dir: string | undefined;
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe.skipIf(!HAS_FIXTURES)('rbee-web score vs llama.cpp (stories260K)', () => {
  test('perplexity within 0.1 %, log-probabilities within 1e-3, top-1 agreement ≥ 99.9 %', async () => {
    const model = fixture('models/stories260K.gguf');
    const text = await oracleSampledText(model, { minTokens: MIN_TOKENS, seed: 42 });
    dir = await mkdtemp(join(tmpdir(), 'rbee-score-'));
    const textFile = join(dir, 'stories.txt');
    await writeFile(textFile, text);

    const printed: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((line: unknown) => void printed.push(String(line)));
    let code: number;
    try {
      code = await score(['--model', model, '--text-file', textFile, '--context', String(WINDOW), '--json']);
    } finally {
      log.mockRestore();
    }
    expect(code).toBe(0);
    const ours = JSON.parse(printed.at(-1) ?? 'null') as ScoreJson;

    const tokens = await oracleTokenize(model, text);
    expect(tokens.length).toBeGreaterThanOrEqual(MIN_TOKENS);
    expect(ours.tokens).toBe(tokens.length);
    const windows = scoreWindows(tokens, WINDOW, tokens[0]);
    expect(windows.length).toBe(Math.ceil((tokens.length - 1) / (WINDOW - 1)));
    expect(ours.windows).toBe(windows.length);
    expect(ours.positions).toBe(tokens.length - 1);
    expect(ours.logprobs).toHaveLength(ours.positions);
    expect(ours.top1).toHaveLength(ours.positions);

    const oracle = await oracleScoreWindows(model, windows);
    expect(oracle.logprobs).toHaveLength(ours.positions);
    const oraclePerplexity = Math.exp(-oracle.logprobs.reduce((a, b) => a + b, 0) / oracle.logprobs.length);
    const diffs = ours.logprobs.map((lp, i) => Math.abs(lp - oracle.logprobs[i]!));
    const maxDiff = Math.max(...diffs);
    const meanDiff = diffs.reduce((a, b) => a + b, 0) / diffs.length;
    const worst = diffs
      .map((d, i) => ({ d, i }))
      .sort((a, b) => b.d - a.d)
      .slice(0, 3)
      .map(({ i }) => `#${i}: ${ours.logprobs[i]!.toFixed(4)} vs ${oracle.logprobs[i]!.toFixed(4)}`)
      .join(', ');
    const agree = ours.top1.filter((t, i) => t === oracle.top1[i]).length / ours.positions;
    console.info(
      `score parity (stories260K, ${ours.positions} positions, ${ours.windows} windows of ≤ ${WINDOW}): perplexity ${ours.perplexity.toFixed(4)} ` +
        `vs llama.cpp ${oraclePerplexity.toFixed(4)} (${((100 * (ours.perplexity - oraclePerplexity)) / oraclePerplexity).toFixed(4)} %), ` +
        `|Δ logprob| mean ${meanDiff.toExponential(2)} max ${maxDiff.toExponential(2)}, top-1 agreement ${(100 * agree).toFixed(2)} %; largest differences ${worst}`,
    );
    expect(Math.abs(ours.perplexity - oraclePerplexity) / oraclePerplexity).toBeLessThan(0.001);
    expect(maxDiff).toBeLessThan(1e-3);
    expect(agree).toBeGreaterThanOrEqual(0.999);
  }, 600_000);
});
