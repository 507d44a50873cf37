/**
 * `rbee-web <command>`: each command lives in its own file and exports `run(argv): Promise<number>` (the exit code).
 * Errors reach the user as `code: message` (or JSON with --json), never as a stack trace.
 */
import { redactUrlsInText } from '../lib/url-redaction.ts';
import { isRbeeError } from '../lib/errors.ts';

const COMMANDS: Record<string, { summary: string; load: () => Promise<{ run(argv: string[]): Promise<number> }> }> = {
  inspect: { summary: 'inspect [--json] <file|url|hf-ref>...   what a model is and whether it runs', load: () => import('./inspect.ts') },
  generate: { summary: 'generate --model M (--tokens 1,2 | --prompt T) --max-tokens N [--json]', load: () => import('./generate.ts') },
  tokenize: { summary: 'tokenize --model M [--no-special] --json < strings.json', load: () => import('./tokenize.ts') },
  companion: { summary: 'companion --model <file.gguf> [--port N] [--token T] [--allow-origin URL] [--proxy URL]', load: () => import('./companion.ts') },
};

function usage(): string {
  return ['usage: rbee-web <command> [options]', '', ...Object.values(COMMANDS).map((c) => `  rbee-web ${c.summary}`)].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`rbee-web: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  try {
    const mod = await command.load();
    return await mod.run(rest);
  } catch (e) {
    if (isRbeeError(e)) console.error(`rbee-web ${name}: ${e.code}: ${e.message}${e.hint ? `\n  ${e.hint}` : ''}`);
    else console.error(`rbee-web ${name}: internal error: ${redactUrlsInText(e instanceof Error ? e.message : String(e))}`);
    return 1;
  }
}
