// `rbee-web generate --model <folder>` (issue 5): a Hugging Face style folder — config.json with model.safetensors,
// or model.safetensors.index.json and its shards, no tokenizer files — runs with --tokens, as a real process.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { fixture, HAS_FIXTURES, REPO_ROOT } from '../support/fixtures.ts';
import { writeSafetensorsTwin } from '../support/safetensors-twin.ts';

const run = promisify(execFile);
const BIN = resolve(REPO_ROOT, 'bin/rbee-web.mjs');
let dir: string;

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, 'generate', '--engine', 'webgpu', ...args], { cwd: REPO_ROOT, timeout: 170_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: x.code ?? -1, stdout: x.stdout ?? '', stderr: x.stderr ?? '' };
  }
}

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
