/**
 * `rbee-web tokenize --model <file|url|hf-ref> [--no-special] [--json] [--send-token-to-hub]`
 *
 * --json: reads a JSON array of strings on standard input and prints a JSON array of token-id arrays.
 * Otherwise: reads all of standard input as one text and prints its ids on one line, space-separated.
 * --no-special: no BOS / EOS added and special-token text not parsed (what llama.cpp's tokenizer tests use).
 */
import { RbeeError } from '../lib/errors.ts';
import { DEFAULT_HUB } from '../lib/hub/hf.ts';
import { dirOf, type ModelFileSet } from '../lib/model/model-file-set.ts';
import { inspectSet } from '../lib/model/inspect.ts';
import { resolve } from '../lib/model/resolve.ts';
import { tokenizerForModel } from '../lib/tokenizer/model-tokenizer.ts';
import { hubTokenFor, SEND_TOKEN_FLAG } from './hub-token.ts';
import { MODEL_OPTIONS, readOptions, sendsTokenToHub } from './options.ts';
import { isLocalPath, localFileMissing, localFileSet, looksLikeLocalPath } from './local-file-set.ts';

const USAGE = 'usage: rbee-web tokenize --model <file|url|hf-ref> [--no-special] [--json] [--send-token-to-hub] < input';

const HELP = `${USAGE}

  --model M       a .gguf file, a model folder (tokenizer.json beside the weights), an http(s) URL or owner/repo
  --json          standard input is a JSON array of strings; prints a JSON array of token-id arrays
                  (without it: all of standard input is one text, and its ids are printed space-separated)
  --no-special    no BOS / EOS added and special-token text not parsed (what llama.cpp's tokenizer tests use)
  --send-token-to-hub  send HF_TOKEN to a custom hub ($RBEE_HUB) too; by default it goes to huggingface.co only`;

function looksLikeJsonStrings(text: string): boolean {
  if (!/^\s*\[/.test(text)) return false;
  try {
    const v: unknown = JSON.parse(text);
    return Array.isArray(v) && v.every((t) => typeof t === 'string');
  } catch {
    return false;
  }
}

interface Args {
  model: string;
  special: boolean;
  json: boolean;
  sendTokenToHub: boolean;
}

const TOKENIZE_OPTIONS = {
  model: { ...MODEL_OPTIONS.model, short: 'm' },
  'no-special': { type: 'boolean' },
  json: MODEL_OPTIONS.json,
  [SEND_TOKEN_FLAG.slice(2)]: { type: 'boolean' },
} as const;

function parseArgs(argv: string[]): Args {
  const v = readOptions('tokenize', argv, TOKENIZE_OPTIONS).values;
  if (!v.model) throw new RbeeError('bad-value', `--model is required.\n${USAGE}`);
  return { model: v.model, special: v['no-special'] !== true, json: v.json === true, sendTokenToHub: sendsTokenToHub(v) };
}

function hubFileSet(model: string, hubBase: string, sendTokenToHub: boolean): Promise<ModelFileSet> {
  const token = hubTokenFor(hubBase, sendTokenToHub);
  return resolve({ kind: 'remote', source: model }, { hubBase, ...(token ? { token } : {}) });
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function run(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(HELP);
    return 0;
  }
  const args = parseArgs(argv);
  if (process.stdin.isTTY) console.error(args.json ? 'Reading a JSON array of strings from standard input (end with Ctrl-D)…' : 'Reading the text to tokenize from standard input (end with Ctrl-D)…');
  const input = await readStdin();
  if (!args.json && looksLikeJsonStrings(input)) {
    // Tokenized as the raw text, as asked; but say so, since --json was most likely meant.
    console.error('rbee-web tokenize: standard input looks like a JSON array of strings; it was tokenized as one raw text. Add --json to tokenize each string.');
  }
  let texts: string[];
  if (args.json) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(input);
    } catch (e) {
      throw new RbeeError('bad-json', 'Standard input is not JSON.', { hint: 'Give a JSON array of strings, e.g. ["Hello", "world"].', cause: e });
    }
    if (!Array.isArray(parsed) || !parsed.every((t) => typeof t === 'string'))
      throw new RbeeError('bad-json', 'Standard input must be a JSON array of strings.', { hint: 'e.g. ["Hello", "world"]' });
    texts = parsed;
  } else texts = [input];

  if (!isLocalPath(args.model) && looksLikeLocalPath(args.model)) throw localFileMissing(args.model);
  const set: ModelFileSet = isLocalPath(args.model)
    ? localFileSet(args.model)
    : await hubFileSet(args.model, process.env.RBEE_HUB ?? DEFAULT_HUB, args.sendTokenToHub);
  try {
    const result = await inspectSet(set);
    const primary = result.chosen >= 0 ? result.candidates[result.chosen]!.primary : (set.primary ?? '');
    const tokenizer = await tokenizerForModel(result.descriptor, set, dirOf(primary));
    const options = args.special ? { addSpecial: true, parseSpecial: true } : { addSpecial: false, parseSpecial: false };
    const ids = texts.map((t) => tokenizer.encode(t, options));
    process.stdout.write(args.json ? `${JSON.stringify(ids)}\n` : `${ids[0]!.join(' ')}\n`);
    return 0;
  } finally {
    await set.close?.();
  }
}
