// HF_TOKEN is a huggingface.co credential (issue 13, item 9): the CLI sends it to a custom --hub only when the user
// says so with --send-token-to-hub. The real CLI process against a local hub that records what it was sent.
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseGenerateArgs } from '../../src/cli/generate.ts';
import { hubTokenFor } from '../../src/cli/hub-token.ts';
import { fixture, HAS_FIXTURES, REPO_ROOT } from '../support/fixtures.ts';
import { startRangeServer, type RangeServer } from '../support/range-server.ts';

const BIN = resolve(REPO_ROOT, 'bin/rbee-web.mjs');
const TOKEN = 'hf_secret_do_not_leak_1234';

function inspect(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const env = { ...process.env, HF_TOKEN: TOKEN, RBEE_HUB: '' };
    delete (env as Record<string, string | undefined>).RBEE_HUB;
    execFile(process.execPath, [BIN, 'inspect', '--json', ...args], { cwd: REPO_ROOT, env, timeout: 60_000 }, (error, stdout, stderr) => {
      done({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

describe.runIf(HAS_FIXTURES)('HF_TOKEN and a custom --hub', () => {
  let hub: RangeServer;
  const authorizations: Array<string | undefined> = [];

  beforeAll(async () => {
    const json = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v));
    hub = await startRangeServer(
      {
        '/o/r/resolve/main/stories260K.gguf': fixture('models/stories260K.gguf'),
        '/api/models/o/r/tree/main': json([{ type: 'file', path: 'stories260K.gguf', size: 1185376 }]),
      },
      {
        route: (req) => {
          if (req.method !== 'OPTIONS') authorizations.push(req.headers.authorization);
          return false;
        },
      },
    );
  });
  afterAll(async () => hub?.close());

  it('is not sent to a custom hub by default; stderr says so and how to send it', async () => {
    authorizations.length = 0;
    const { code, stdout, stderr } = await inspect(['--hub', hub.url, 'o/r']);
    expect(code, stderr).toBe(0);
    expect(JSON.parse(stdout.trim())).toMatchObject({ format: 'gguf' });
    expect(authorizations.length).toBeGreaterThan(0);
    expect(authorizations.every((a) => a === undefined)).toBe(true);
    expect(stderr).toMatch(/HF_TOKEN is set but not sent to http:\/\/127\.0\.0\.1:\d+.*--send-token-to-hub/);
    expect(stdout + stderr).not.toContain(TOKEN);
  });

  it('is sent to a custom hub with --send-token-to-hub', async () => {
    authorizations.length = 0;
    const { code, stderr } = await inspect(['--hub', hub.url, '--send-token-to-hub', 'o/r']);
    expect(code, stderr).toBe(0);
    expect(authorizations.length).toBeGreaterThan(0);
    expect(authorizations.every((a) => a === `Bearer ${TOKEN}`)).toBe(true);
    expect(stderr).not.toMatch(/not sent/);
  });
});

describe('hubTokenFor', () => {
  it('gives the token to huggingface.co (any path), and to another origin only when told', () => {
    const saved = process.env.HF_TOKEN;
    process.env.HF_TOKEN = TOKEN;
    try {
      const notes: string[] = [];
      expect(hubTokenFor('https://huggingface.co', false, (l) => notes.push(l))).toBe(TOKEN);
      expect(hubTokenFor('https://huggingface.co/', false, (l) => notes.push(l))).toBe(TOKEN);
      expect(notes).toEqual([]);
      // Look-alikes are other origins.
      for (const hub of ['https://huggingface.co.evil.example', 'http://huggingface.co', 'https://hf-mirror.com']) {
        expect(hubTokenFor(hub, false, (l) => notes.push(l)), hub).toBeUndefined();
        expect(hubTokenFor(hub, true, (l) => notes.push(l)), hub).toBe(TOKEN);
      }
      expect(notes).toHaveLength(3);
    } finally {
      if (saved === undefined) delete process.env.HF_TOKEN;
      else process.env.HF_TOKEN = saved;
    }
  });
});

describe('generate --send-token-to-hub', () => {
  it('is a flag of its own: off by default, on when given, and the options around it still parse', () => {
    expect(parseGenerateArgs(['--model', 'o/r', '--tokens', '1']).sendTokenToHub).toBe(false);
    const args = parseGenerateArgs(['--model', 'o/r', '--hub', 'http://127.0.0.1:9', '--send-token-to-hub', '--engine', 'wasm', '--tokens', '1']);
    expect(args).toMatchObject({ sendTokenToHub: true, hub: 'http://127.0.0.1:9', engine: 'wasm' });
  });
});
