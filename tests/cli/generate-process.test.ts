// `rbee-web generate` as a user runs it: a real process (bin/rbee-web.mjs), a real model file, headless Chromium
// with WebGPU, the JSON it prints, and its exit codes. (Token-for-token parity lives in tests/parity/.)
import { describe, expect, test } from 'vitest';
import { runCli, type CliRun } from '../support/cli-process.ts';
import { fixture, HAS_FIXTURES } from '../support/fixtures.ts';


/** `rbee-web generate` on rbee-web's WebGPU engine (SwiftShader's verdict would pick the CPU engine). */
const cli = (args: string[]): Promise<CliRun> => runCli(['generate', '--engine', 'webgpu', ...args]);

describe.runIf(HAS_FIXTURES)('rbee-web generate (process)', () => {
  test('--prompt with --json: the tokenizer, greedy continuation, logprobs, top-K, timings and adapter', async () => {
    const r = await cli([
      '--model',
      fixture('models/stories260K.gguf'),
      '--prompt',
      'Once upon a time',
      '--max-tokens',
      '8',
      '--temperature',
      '0',
      '--top-logprobs',
      '3',
      '--json',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as {
      tokens: number[];
      text: string;
      steps: { token: number; logprob: number; top: { token: number; logprob: number }[] }[];
      timings: { prefillTokensPerSecond: number; decodeTokensPerSecond: number; loadSeconds: number };
      adapter: { vendor: string; architecture: string; features: string[] };
    };
    expect(out.tokens).toEqual([432, 383, 286, 261, 376, 298, 315, 421]); // llama.cpp's greedy continuation
    expect(out.text).toBe(', there was a little girl');
    expect(out.steps).toHaveLength(8);
    expect(out.steps[0]!.top).toHaveLength(3);
    expect(out.steps[0]!.top[0]!.token).toBe(432);
    expect(out.steps[0]!.logprob).toBeLessThan(0);
    expect(out.steps[0]!.logprob).toBeGreaterThan(-0.1); // ~0.97 probability
    expect(out.timings.prefillTokensPerSecond).toBeGreaterThan(0);
    expect(out.timings.decodeTokensPerSecond).toBeGreaterThan(0);
    expect(out.timings.loadSeconds).toBeGreaterThan(0);
    expect(typeof out.adapter.vendor).toBe('string');
    expect(Array.isArray(out.adapter.features)).toBe(true);
  }, 180_000);

  test('errors: a missing file is `not-found` (exit 1); a usage error exits 2', async () => {
    const missing = await cli(['--model', '/nonexistent/model.gguf', '--tokens', '1', '--max-tokens', '1']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/not-found/);
    const usage = await cli(['--tokens', '1']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--model is required/);
  }, 60_000);
});
