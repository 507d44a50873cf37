// `rbee-web generate --chat` on a model whose chat template runs away (issue 13, item 1): the real CLI process, the
// real inference worker in headless Chromium. It used to never return; now the worker's render stops at its budget,
// the fallback writes the prompt, the generation runs, and the JSON says why the fallback was used.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { fixture, HAS_FIXTURES, REPO_ROOT } from '../../support/fixtures.ts';
import { withChatTemplate } from '../../support/gguf-chat-template.ts';
import { HOSTILE_TEMPLATES } from '../../support/hostile-templates.ts';

let dir: string;
beforeAll(async () => {
  if (HAS_FIXTURES) dir = await mkdtemp(join(tmpdir(), 'rbee-hostile-template-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [resolve(REPO_ROOT, 'bin/rbee-web.mjs'), 'generate', ...args], { cwd: REPO_ROOT, timeout: 170_000 }, (error, stdout, stderr) =>
      done({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }),
    );
  });
}

describe.runIf(HAS_FIXTURES)('generate --chat with a runaway chat template', () => {
  // Both engines: the CPU engine also hands llama.cpp the file with its template blanked, since llama.cpp would
  // render it at load with no budget (src/lib/runtime/gguf-template-blanking.ts).
  test.each(['wasm', 'webgpu'])('returns on the %s engine: the fallback writes the prompt and the JSON says why', async (engine) => {
    const model = join(dir, `stories260K-nested-loops-${engine}.gguf`);
    await writeFile(model, withChatTemplate(new Uint8Array(await readFile(fixture('models/stories260K.gguf'))), HOSTILE_TEMPLATES['nested loops']!));
    const r = await cli(['--model', model, '--engine', engine, '--prompt', 'Once upon a time', '--chat', '--max-tokens', '4', '--temperature', '0', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { tokens: number[]; templateFallback?: { kind: string; error: string } };
    expect(out.tokens).toHaveLength(4);
    expect(out.templateFallback).toMatchObject({ kind: 'plain-fallback' });
    expect(out.templateFallback!.error).toMatch(/did not finish within/);
  }, 180_000);
});
