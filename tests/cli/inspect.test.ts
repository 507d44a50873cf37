// `rbee-web inspect` as users run it: a real process through bin/rbee-web.mjs, on fixture files, a URL on a local
// Range server, a bad file, a folder and a Hugging Face reference against a local hub.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture, HAS_FIXTURES, REPO_ROOT } from '../support/fixtures.ts';
import { startRangeServer, type RangeServer } from '../support/range-server.ts';
import { writeGguf } from '../support/gguf-writer.ts';

const BIN = resolve(REPO_ROOT, 'bin/rbee-web.mjs');

function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [BIN, 'inspect', ...args], { cwd: REPO_ROOT, env: { ...process.env, ...env }, timeout: 60_000 }, (error, stdout, stderr) => {
      done({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

const lines = (out: string): Record<string, unknown>[] =>
  out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe.runIf(HAS_FIXTURES)('rbee-web inspect', () => {
  let server: RangeServer;
  let dir: string;

  beforeAll(async () => {
    const json = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v));
    server = await startRangeServer(
      {
        '/m/stories260K.gguf': fixture('models/stories260K.gguf'),
        '/o/r/resolve/main/stories260K-Q8_0.gguf': fixture('models/stories260K.gguf'),
        '/o/r/resolve/main/llama-2-tiny-random.F16.gguf': fixture('models/llama-2-tiny-random.gguf'),
        '/api/models/o/r/tree/main': json([
          { type: 'file', path: 'stories260K-Q8_0.gguf', size: 1185376 },
          { type: 'file', path: 'llama-2-tiny-random.F16.gguf', size: 1750560 },
          { type: 'file', path: 'README.md', size: 10 },
        ]),
      },
      { status: { '/api/models/o/gated/tree/main': 403 } },
    );
    dir = mkdtempSync(join(tmpdir(), 'rbee-cli-'));
    writeFileSync(join(dir, 'junk.gguf'), 'not a gguf file at all');
    writeFileSync(join(dir, 'old.bin'), new Uint8Array([0x74, 0x6a, 0x67, 0x67, 1, 0, 0, 0]));
  });
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('--json: one line per input, descriptor with verdict or {source, error}; exit 1 when any failed', async () => {
    const inputs = [
      fixture('models/stories260K.gguf'),
      fixture('safetensors/overall.safetensors'),
      fixture('safetensors/adapters.safetensors'),
      `${server.url}/m/stories260K.gguf`,
      'o/r',
      join(dir, 'junk.gguf'),
      join(dir, 'old.bin'),
      'o/gated',
      `${server.url}/m/missing.gguf`,
    ];
    const { code, stdout, stderr } = await cli(['--json', '--hub', server.url, ...inputs]);
    expect(stderr).not.toMatch(/at .*\.ts:\d+/); // no stack traces
    expect(code).toBe(1);
    const out = lines(stdout);
    expect(out).toHaveLength(inputs.length);

    const [gguf, overall, adapter, url, repo, junk, old, gated, missing] = out as Record<string, any>[];
    expect(gguf).toMatchObject({ format: 'gguf', architecture: 'llama', blockCount: 5, embeddingLength: 64, vocabSize: 512, kind: 'model' });
    expect(gguf!.verdict).toMatchObject({ runs: true, engine: 'webgpu' });
    expect(gguf!.gguf.version).toBe(3);
    // The vocabulary arrays are summarised, scalars kept.
    expect(gguf!.gguf.metadata['tokenizer.ggml.tokens']).toEqual({ type: 'array', length: 512 });
    expect(gguf!.gguf.metadata['general.architecture']).toBe('llama');
    expect(overall).toMatchObject({ format: 'safetensors', kind: 'model', parameterCount: 54 });
    expect(adapter).toMatchObject({ format: 'safetensors', kind: 'adapter' });
    expect(adapter!.verdict.runs).toBe(false);
    expect(url).toMatchObject({ format: 'gguf', source: `${server.url}/m/stories260K.gguf` });
    expect(repo!.hf).toMatchObject({ repo: 'o/r', revision: 'main' });
    expect(repo!.candidates.map((c: { label: string }) => c.label)).toEqual(['Q8_0', 'F16']);
    expect(repo!.candidates[repo!.chosen].label).toBe('Q8_0');
    expect(junk).toEqual({ source: join(dir, 'junk.gguf'), error: expect.objectContaining({ code: 'bad-magic' }) });
    expect(old!.error.code).toBe('legacy-ggml');
    expect(gated!.error).toMatchObject({ code: 'gated', message: expect.stringMatching(/gated or private/) });
    expect(missing!.error.code).toBe('not-found');
  });

  it('human-readable by default; exit 0 when every input parsed', async () => {
    const { code, stdout } = await cli([fixture('models/stories260K.gguf'), fixture('safetensors')]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/GGUF v3 · model · llama/);
    expect(stdout).toMatch(/verdict +runs · verified · engine webgpu/);
    expect(stdout).toMatch(/covered by "F32: equal to llama.cpp on its exact F32 twin/);
    expect(stdout).toMatch(/2 models here/); // the safetensors folder: overall + the adapter
  });

  it('a GGUF with a metadata key written twice: everything read, the duplicate as a warning, verdict "does not run"', async () => {
    const file = join(dir, 'duplicate-key.gguf');
    writeFileSync(
      file,
      writeGguf({
        metadata: [
          ['general.architecture', { type: 'string', value: 'llama' }],
          ['llama.block_count', { type: 'u32', value: 2 }],
          ['llama.block_count', { type: 'u32', value: 3 }],
          ['llama.embedding_length', { type: 'u32', value: 64 }],
        ],
        tensors: [{ name: 'token_embd.weight', dims: [64, 8], type: 0, dataSize: 64 * 8 * 4 }],
      }),
    );
    const json = await cli(['--json', file]);
    expect(json.stderr).toBe('');
    const [d] = lines(json.stdout) as Record<string, any>[];
    expect(d).toMatchObject({ format: 'gguf', blockCount: 2, embeddingLength: 64 });
    expect(d!.warnings.join(' ')).toMatch(/"llama\.block_count" is written twice; llama\.cpp refuses/);
    expect(d!.verdict).toMatchObject({ runs: false, confidence: 'unsupported', engine: 'none' });
    expect(d!.verdict.reasons.join(' ')).toMatch(/written twice/);
    const text = await cli([file]);
    expect(text.stdout).toMatch(/written twice/);
  });

  it('errors are one line with code and hint, and usage errors exit 2', async () => {
    const bad = await cli([join(dir, 'old.bin')]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/error: legacy-ggml: old\.bin is in the old GGML\/GGJT format/);
    expect(bad.stdout).not.toMatch(/\n\s+at /);
    expect((await cli([])).code).toBe(2);
    expect((await cli(['--frobnicate', 'x'])).code).toBe(2);
  });
});
