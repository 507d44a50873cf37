/**
 * The commands' options, read by Node's own parser (node:util parseArgs: `--flag value` and `--flag=value`, unknown
 * options refused), with its errors turned into RbeeErrors that say what to do, and the options the commands share
 * (the model, the hub and its token, the context, JSON output) declared once.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { DEFAULT_HUB } from '../lib/hub/hf.ts';
import { RbeeError } from '../lib/errors.ts';
import { SEND_TOKEN_FLAG } from './hub-token.ts';

type Options = NonNullable<ParseArgsConfig['options']>;

/** --model, --context, --json, --hub and the hub-token flag: what generate and score both take. */
export const MODEL_OPTIONS = {
  model: { type: 'string' },
  context: { type: 'string' },
  json: { type: 'boolean' },
  hub: { type: 'string' },
  [SEND_TOKEN_FLAG.slice(2)]: { type: 'boolean' },
} as const satisfies Options;

/**
 * The options of `rbee-web <command>`, by name (without the dashes); anything else is a usage error. Commands that
 * take inputs (inspect's files and references) get them as `positionals`; `--` ends the options.
 */
export function readOptions<O extends Options>(command: string, argv: string[], options: O, takesInputs = false) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: takesInputs });
  } catch (e) {
    // Node's messages name the option ("Unknown option '--bogus'", "Option '--model <value>' argument missing").
    throw new RbeeError('bad-value', `${(e as Error).message.replace(/\.?$/, '.')}`, { hint: `rbee-web ${command} --help lists the options.` });
  }
}

/** The hub the command talks to: --hub, else RBEE_HUB, else huggingface.co. */
export function hubOption(values: { hub?: string | boolean | (string | boolean)[] | undefined }): string {
  return typeof values.hub === 'string' ? values.hub : (process.env.RBEE_HUB ?? DEFAULT_HUB);
}

/** Whether the user allowed their HF_TOKEN to go to a hub other than huggingface.co. */
export function sendsTokenToHub(values: Record<string, unknown>): boolean {
  return values[SEND_TOKEN_FLAG.slice(2)] === true;
}

/** A number option's value; `integer` also refuses fractions; `min` bounds it from below. Undefined when not given. */
export function numberOption(flag: string, value: unknown, kind: { integer: boolean; min?: number }): number | undefined {
  if (value === undefined) return undefined;
  const text = String(value);
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || (kind.integer && !Number.isInteger(n)))
    throw new RbeeError('bad-value', `${flag} needs ${kind.integer ? 'an integer' : 'a number'}, not '${text}'.`);
  if (kind.min !== undefined && n < kind.min) throw new RbeeError('bad-value', `${flag} must be at least ${kind.min}, not ${text}.`);
  return n;
}
