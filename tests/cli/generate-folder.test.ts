// `rbee-web generate --model <folder>` (issue 5): a Hugging Face style folder — config.json with model.safetensors,
// or model.safetensors.index.json and its shards, no tokenizer files — runs with --tokens, as a real process.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCli, type CliRun } from '../support/cli-process.ts';
import { fixture, HAS_FIXTURES } from '../support/fixtures.ts';
import { writeSafetensorsTwin } from '../support/safetensors-twin.ts';

let dir: string;

/** `rbee-web generate` on rbee-web's WebGPU engine (SwiftShader's verdict would pick the CPU engine). */
const cli = (args: string[]): Promise<CliRun> => runCli(['generate', '--engine', 'webgpu', ...args]);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rbee-cli-folder-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe.runIf(HAS_FIXTURES)('rbee-web generate --model <folder>', () => {
  test("a sharded SafeTensors folder of stories260K continues [1, 403, 407, 261, 378] with llama.cpp's tokens", async () => {
    const folder = join(dir, 'stories260K');
    await writeSafetensorsTwin(fixture('models/stories260K.gguf'), folder, { shards: 2 });
    const r = await cli(['--model', folder, '--tokens', '1,403,407,261,378', '--max-tokens', '8', '--temperature', '0', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { tokens: number[] };
    expect(out.tokens).toEqual([432, 383, 286, 261, 376, 298, 315, 421]); // llama.cpp's greedy continuation of the GGUF
  }, 180_000);

  test('a folder without a model in it is a bad-value error naming what a model folder holds', async () => {
    const r = await cli(['--model', dir, '--tokens', '1', '--max-tokens', '1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/folder without one model/);
    expect(r.stderr).toMatch(/config\.json/);
  });
});
