// What the CLI tells a new user (issue 17): a path that does not exist is "file not found" (not "neither a Hugging
// Face reference nor a URL"); a vocabulary-only GGUF gets the verdict's reason from `inspect` and `generate` alike,
// with no fit figure, and human `inspect` says the verdict assumed a typical GPU; `tokenize --help` is help, and
// JSON given to `tokenize` without --json is tokenized as asked but flagged.
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NO_WEIGHTS_REASON } from '../../src/lib/formats/no-weights.ts';
import { looksLikeLocalPath } from '../../src/cli/local-file-set.ts';
import { fixture, HAS_FIXTURES, REPO_ROOT } from '../support/fixtures.ts';

const BIN = resolve(REPO_ROOT, 'bin/rbee-web.mjs');

function cli(args: string[], stdin?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = execFile(process.execPath, [BIN, ...args], { cwd: REPO_ROOT, timeout: 60_000 }, (error, stdout, stderr) => {
      done({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
    child.stdin?.end(stdin ?? '');
  });
}

describe('rbee-web: messages a new user meets', () => {
  it('what looks like a local path: paths and bare model file names, not hub references or URLs', () => {
    for (const p of ['nonexistent.gguf', './m', '../x/y.gguf', '/abs/model', 'C:\\models\\a.gguf', '~/m.gguf', 'model.safetensors'])
      expect(looksLikeLocalPath(p), p).toBe(true);
    for (const p of ['owner/repo', 'owner/repo/file.gguf', 'hf:owner/repo', 'https://example.com/a.gguf', 'TheBloke/Llama-2-7B-GGUF'])
      expect(looksLikeLocalPath(p), p).toBe(false);
  });

  it('inspect nonexistent.gguf: file not found (human and --json)', async () => {
    const human = await cli(['inspect', 'nonexistent.gguf']);
    expect(human.code).toBe(1);
    expect(human.stdout).toContain('error: not-found: There is no file or folder nonexistent.gguf.');
    expect(human.stdout).not.toContain('neither');
    const json = await cli(['inspect', '--json', './no/such/dir']);
    expect(JSON.parse(json.stdout.trim())).toMatchObject({ source: './no/such/dir', error: { code: 'not-found', message: 'There is no file or folder ./no/such/dir.' } });
  });

  it('generate --model nonexistent.gguf: file not found, before any browser starts', async () => {
    const r = await cli(['generate', '--model', 'nonexistent.gguf', '--prompt', 'hi', '--max-tokens', '1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('not-found: There is no file or folder nonexistent.gguf.');
  });

  it.runIf(HAS_FIXTURES)('a vocabulary-only GGUF: inspect and generate give the verdict’s one reason; no fit figure', async () => {
    const vocab = fixture('tokenizers/ggml-vocab-llama-spm.gguf');
    const inspect = await cli(['inspect', vocab]);
    expect(inspect.code).toBe(0);
    expect(inspect.stdout).toContain(NO_WEIGHTS_REASON);
    expect(inspect.stdout).toMatch(/verdict +does not run · unsupported · engine none\n/);
    expect(inspect.stdout).not.toContain('needs ~');
    // The CLI probes no GPU: it says the verdict assumed one.
    expect(inspect.stdout).toMatch(/note +Device capabilities were assumed \(typical desktop GPU/);

    const generate = await cli(['generate', '--model', vocab, '--prompt', 'Hello', '--max-tokens', '4']);
    expect(generate.code).toBe(1);
    expect(generate.stderr).toContain(`no-weights: ${NO_WEIGHTS_REASON}`);
    expect(generate.stderr).not.toContain('token_embd');
  });

  it.runIf(HAS_FIXTURES)('human inspect of a model that runs: the summary sentence, the fit figure and the assumed device', async () => {
    const r = await cli(['inspect', fixture('models/stories260K.gguf')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^stories260K {2}\(/);
    expect(r.stdout).toMatch(/verdict +runs · \w+ · engine webgpu · needs ~/);
    expect(r.stdout).toContain('Device capabilities were assumed');
  });

  it('tokenize --help is help (exit 0), not an error', async () => {
    const r = await cli(['tokenize', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('usage: rbee-web tokenize --model');
    expect(r.stdout).toContain('--json');
  });

  it.runIf(HAS_FIXTURES)('tokenize without --json: raw text as asked, and a note when the input is a JSON array of strings', async () => {
    const model = fixture('models/stories260K.gguf');
    const raw = await cli(['tokenize', '--model', model], 'Once upon a time');
    expect(raw.code).toBe(0);
    expect(raw.stdout.trim()).toMatch(/^\d+( \d+)+$/);
    expect(raw.stderr).toBe('');
    const json = await cli(['tokenize', '--model', model], '["Once", "upon"]');
    expect(json.code).toBe(0);
    expect(json.stderr).toContain('looks like a JSON array of strings');
    expect(json.stderr).toContain('Add --json');
    const asked = await cli(['tokenize', '--model', model, '--json'], '["Once", "upon"]');
    expect(JSON.parse(asked.stdout)).toHaveLength(2);
    const missing = await cli(['tokenize', '--model', 'nonexistent.gguf', '--json'], '["a"]');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('not-found: There is no file or folder nonexistent.gguf.');
  });
});
