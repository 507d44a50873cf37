/**
 * `rbee-web score --model M --text-file F [--window N] [--json]` — teacher-forced scoring of a text with the app's own
 * inference worker on WebGPU in headless Chromium (as `generate`): the text is tokenized with the model's tokenizer
 * (BOS first, as the model asks), cut into windows of at most the loaded context (src/lib/engine/scoring.ts says
 * how), and at every position the log-probability of the actual next token and the model's top-1 guess are kept.
 *
 * Without --json: perplexity, positions, windows and time. With --json: one JSON object
 * {perplexity, positions, top1: [top-1 id at each position], logprobs: [log-prob of each actual next token],
 *  tokens, windows, window, seconds, model}.
 *
 * (--engine is not offered yet: the worker runs the WebGPU engine only.)
 */
import { readFileSync, statSync } from 'node:fs';
import { RbeeError } from '../lib/errors.ts';
import type { ScoreResult } from '../lib/engine/worker-protocol.ts';
import { commandArgs, modelSummary, resultOf, runBrowserJob } from './browser-job.ts';
import { modelInput, resolveModelArg } from './generate.ts';
import { hubOption, MODEL_OPTIONS, numberOption, readOptions, sendsTokenToHub } from './options.ts';

const USAGE = `usage: rbee-web score --model <file|folder|url|hf-ref> --text-file F [--window N] [--context N] [--json]

  --model M        a .gguf file, a model folder, an http(s) URL or a Hugging Face reference
  --text-file F    UTF-8 text to score (tokenized with the model's tokenizer, BOS first)
  --window N       tokens per window (default: the loaded context); longer texts are cut into windows, each
                   starting with BOS
  --context N      KV cache length to load (default: the model's, at most 4096)
  --json           {perplexity, positions, top1, logprobs, tokens, windows, window, seconds, model}
  --hub URL        Hugging Face hub base URL (HF_TOKEN is sent for gated repositories, to huggingface.co only
                   unless --send-token-to-hub says this hub may have it too)`;

/**
 * Largest text file read: 16 MiB is several million tokens, hours of scoring on a software adapter and a JSON answer of
 * tens of MB; a larger file is more likely a mistake (a model file given as text) than a corpus.
 */
export const MAX_TEXT_BYTES = 16 * 1024 * 1024;

interface Args {
  model: string;
  textFile: string;
  window: number | undefined;
  contextLength: number | undefined;
  json: boolean;
  hub: string;
  sendTokenToHub: boolean;
}

const SCORE_OPTIONS = { ...MODEL_OPTIONS, 'text-file': { type: 'string' }, window: { type: 'string' } } as const;

export function parseScoreArgs(argv: string[]): Args {
  const v = readOptions('score', argv, SCORE_OPTIONS).values;
  const a = {
    model: v.model,
    textFile: v['text-file'],
    // A window of one token has nothing to predict.
    window: numberOption('--window', v.window, { integer: true, min: 2 }),
    contextLength: numberOption('--context', v.context, { integer: true, min: 2 }),
    json: v.json === true,
    hub: hubOption(v),
    sendTokenToHub: sendsTokenToHub(v),
  };
  if (!a.model) throw new RbeeError('bad-value', '--model is required.', { hint: 'rbee-web score --model stories260K.gguf --text-file story.txt' });
  if (!a.textFile) throw new RbeeError('bad-value', '--text-file is required.', { hint: 'rbee-web score --model stories260K.gguf --text-file story.txt' });
  return { ...a, model: a.model, textFile: a.textFile };
}

/** The text of --text-file, refused before Chromium starts when it is missing, too large or not UTF-8. */
export function readScoreText(path: string): string {
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    throw new RbeeError('not-found', `${path} is not a file here.`, { hint: 'Give the path of a UTF-8 text file.' });
  }
  if (size > MAX_TEXT_BYTES)
    throw new RbeeError('limit-exceeded', `${path} is ${(size / 2 ** 20).toFixed(1)} MiB; score reads at most ${MAX_TEXT_BYTES / 2 ** 20} MiB.`, {
      hint: 'Score a part of the text (perplexity over a few thousand tokens is already a stable figure).',
    });
  const bytes = readFileSync(path);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new RbeeError('bad-value', `${path} is not UTF-8 text.`, { hint: 'Convert it to UTF-8 first.' });
  }
  if (text.trim() === '') throw new RbeeError('bad-value', `${path} is empty.`, { hint: 'Give a text to score.' });
  return text;
}

export interface ScoreJson extends ScoreResult {
  model: ReturnType<typeof modelSummary>;
}

export async function run(argv: string[]): Promise<number> {
  const parsed = commandArgs('score', argv, USAGE, parseScoreArgs);
  if ('exit' in parsed) return parsed.exit;
  const { args } = parsed;
  const text = readScoreText(args.textFile);
  const modelArg = resolveModelArg(args.model, args.hub, args.sendTokenToHub);
  await runBrowserJob(
    (session) => ({
      model: modelInput(modelArg, (d) => session.serveFolder(d)),
      // Scoring is the WebGPU worker's request (the CPU engine has no all-positions logits yet).
      engine: 'webgpu',
      ...(args.contextLength ? { contextLength: args.contextLength } : {}),
      generations: [],
      scores: [{ input: { text }, ...(args.window ? { window: args.window } : {}) }],
    }),
    (out) => {
      const result = resultOf(out.scores?.[0], 'score');
      const m = out.model;
      if (args.json) {
        const json: ScoreJson = { ...result, model: modelSummary(m) };
        console.log(JSON.stringify(json));
        return;
      }
      console.log(
        `perplexity ${result.perplexity.toFixed(4)} over ${result.positions} positions (${result.tokens} tokens, ${result.windows} window${result.windows === 1 ? '' : 's'} of ≤ ${result.window})`,
      );
      console.error(`[${m.name} · ${m.adapter.vendor}/${m.adapter.architecture}] load ${m.loadSeconds.toFixed(2)} s · scored ${result.positions} positions in ${result.seconds.toFixed(2)} s`);
    },
  );
  return 0;
}
