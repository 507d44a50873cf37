/**
 * What the CLI commands that run a model (`generate`, `score`) share: --help and usage errors, and one model job in
 * a fresh headless Chromium — the session opened and always closed, the job's failure (or a failed generation or
 * scoring) turned back into the RbeeError the page raised, Chromium's console printed on failure with RBEE_DEBUG.
 */
import { RbeeError } from '../lib/errors.ts';
import type { LoadedModelInfo, SerializedError } from '../lib/engine/worker-protocol.ts';
import type { HarnessEvent, HarnessJob, HarnessJobResult } from './browser-harness/harness-page.ts';
import { type BrowserSession, openBrowserSession } from './browser-harness/run-in-browser.ts';

/**
 * A command's arguments, or the exit code when there is nothing to run: 0 after --help, 2 after a usage error (the
 * message and the usage on stderr).
 */
export function commandArgs<A>(command: string, argv: string[], usage: string, parse: (argv: string[]) => A): { args: A } | { exit: number } {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(usage);
    return { exit: 0 };
  }
  try {
    return { args: parse(argv) };
  } catch (e) {
    console.error(`rbee-web ${command}: ${(e as Error).message}\n\n${usage}`);
    return { exit: 2 };
  }
}

export type FinishedJob = Exclude<HarnessJobResult, { error: SerializedError }>;

/** The page's error as the RbeeError it was. */
export function rbeeErrorOf(error: SerializedError): RbeeError {
  return new RbeeError(error.code, error.message, error.hint ? { hint: error.hint } : {});
}

/** A generation's or scoring's own result, or its error thrown. */
export function resultOf<T extends object>(result: T | { error: SerializedError } | undefined, what: string): T {
  if (!result) throw new RbeeError('internal', `The browser returned no ${what}.`);
  if ('error' in result) throw rbeeErrorOf(result.error);
  return result;
}

/** The model as the CLI's JSON reports it. */
export function modelSummary(m: LoadedModelInfo): { name: string; architecture: string; fileType?: string; contextLength: number } {
  return { name: m.name, architecture: m.architecture, ...(m.fileType ? { fileType: m.fileType } : {}), contextLength: m.contextLength };
}

/**
 * Runs the job `makeJob` builds (it may serve a local folder through the session), then `finish` on its result while
 * the session is still open; closes the session either way.
 */
export async function runBrowserJob<T>(
  makeJob: (session: BrowserSession) => HarnessJob,
  finish: (out: FinishedJob) => T,
  onEvent?: (e: HarnessEvent) => void,
): Promise<T> {
  const session = await openBrowserSession();
  try {
    const [out] = await session.run([makeJob(session)], onEvent ? { onEvent } : {});
    if (!out) throw new RbeeError('internal', 'The browser returned no result.');
    if ('error' in out) throw rbeeErrorOf(out.error);
    return finish(out);
  } catch (e) {
    if (session.console.length > 0 && process.env.RBEE_DEBUG) console.error(session.console.join('\n'));
    throw e;
  } finally {
    await session.close();
  }
}
