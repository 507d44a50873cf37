// `rbee-web companion` as users start it: the real CLI in a child process, its console output, a job, and shutdown.
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { HAS_FIXTURES, REPO_ROOT } from '../support/fixtures.ts';
import { APP_ORIGIN, HOOK_TIMEOUT_MS, GreedyOracle, MODEL, PROMPT, inferBody, raw, runJob } from '../node/companion/companion-support.ts';

const BIN = resolve(REPO_ROOT, 'bin/rbee-web.mjs');

interface Cli {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function startCli(args: string[]): Cli {
  const child = spawn(process.execPath, [BIN, 'companion', ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, output: () => output, exited };
}

async function waitForLine(cli: Cli, pattern: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const match = pattern.exec(cli.output());
    if (match) return match;
    if (Date.now() > until || cli.child.exitCode !== null) throw new Error(`no ${pattern} in:\n${cli.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.runIf(HAS_FIXTURES)('rbee-web companion (the real CLI)', () => {
  let cli: Cli;
  let url: string;
  let token: string;

  beforeAll(async () => {
    cli = startCli(['--model', MODEL, '--port', '0', '--threads', '1', '--allow-origin', APP_ORIGIN]);
    url = (await waitForLine(cli, /listening on (http:\/\/127\.0\.0\.1:\d+)/))[1]!;
    token = (await waitForLine(cli, /pairing token: (\S+)/))[1]!;
  }, HOOK_TIMEOUT_MS);
  afterAll(() => {
    if (cli?.child.exitCode === null) cli.child.kill('SIGKILL');
  }, HOOK_TIMEOUT_MS);

  test('prints model, backend, a random token and a pairing link for the app origin', async () => {
    expect(cli.output()).toMatch(/rbee-web companion: stories260K on cpu \(llama\.cpp, 1 thread, context \d+\)/);
    expect(token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    const link = (await waitForLine(cli, /pair the app: (\S+)/))[1]!;
    expect(link).toBe(`${APP_ORIGIN}/settings?companion=${encodeURIComponent(url)}&token=${token}`);
    expect(cli.output()).toMatch(/allowed origins: http:\/\/localhost:4173 http:\/\/127\.0\.0\.1:4173 http:\/\/127\.0\.0\.1:4319/);
  });

  test('serves the worker protocol: health, info, a greedy job equal to llama.cpp, CORS for --allow-origin only', async () => {
    expect(JSON.parse((await raw(`${url}/health`)).body)).toEqual({ status: 'healthy' });
    const info = await raw(`${url}/v1/info`, { headers: { origin: APP_ORIGIN } });
    expect(info.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
    expect(JSON.parse(info.body)).toMatchObject({ model: 'stories260K', backend: 'cpu', mode: 'llama' });
    expect((await raw(`${url}/v1/info`, { headers: { origin: 'http://127.0.0.1:4320' } })).status).toBe(403);
    const oracle = await GreedyOracle.load();
    try {
      const { text } = await runJob(url, token, inferBody(24));
      expect(text).toBe(await oracle.continuation(PROMPT, 24));
    } finally {
      await oracle.dispose();
    }
    expect((await raw(`${url}/v1/jobs`, { method: 'POST', body: JSON.stringify(inferBody(2)) })).status).toBe(401);
  });

  test('SIGTERM shuts it down cleanly (exit code 0)', async () => {
    cli.child.kill('SIGTERM');
    expect(await cli.exited).toBe(0);
  });

  test('bad invocations fail with a reason, not a stack trace', async () => {
    const both = startCli(['--model', MODEL, '--proxy', 'http://127.0.0.1:1']);
    expect(await both.exited).toBe(2);
    expect(both.output()).toMatch(/exactly one of --model or --proxy/);
    const missing = startCli(['--model', '/nonexistent/model.gguf', '--port', '0']);
    expect(await missing.exited).toBe(1);
    expect(missing.output()).toMatch(/companion: llama\.cpp could not load \/nonexistent\/model\.gguf/);
    expect(missing.output()).not.toMatch(/\n\s+at /);
  });
});
