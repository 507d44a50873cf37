/**
 * `rbee-web` as a user runs it, for the CLI and parity tests: a real process (bin/rbee-web.mjs) from the repository
 * root, its exit code, stdout and stderr. It never throws for a failing command: the exit code is part of what
 * the tests check.
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from './fixtures.ts';

export const BIN = resolve(REPO_ROOT, 'bin/rbee-web.mjs');
const run = promisify(execFile);

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `rbee-web <args>`; generate and score start headless Chromium, so the default limit is generous. */
export async function runCli(args: string[], timeoutMs = 170_000): Promise<CliRun> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { cwd: REPO_ROOT, timeout: timeoutMs, maxBuffer: 64 << 20 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof x.code === 'number' ? x.code : -1, stdout: x.stdout ?? '', stderr: x.stderr ?? '' };
  }
}

/** The JSON a successful command printed; a failed one throws with its stderr. */
export async function cliJson<T>(args: string[]): Promise<T> {
  const r = await runCli(args);
  if (r.code !== 0) throw new Error(`rbee-web ${args[0]} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}
