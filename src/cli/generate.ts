/**
 * `rbee-web generate --model <file|url|hf-ref> (--tokens 1,2,3 | --prompt TEXT) [options]` — runs the app's own
 * engines in headless Chromium (see browser-harness/) and prints what it generated: `--engine webgpu` the inference
 * worker on WebGPU, `--engine wasm` llama.cpp's WebAssembly build on the CPU; by default the one the app would choose on
 * that browser's adapter (on a software adapter such as SwiftShader: wasm).
 *
 * --tokens are the exact prompt ids (no BOS is added); --prompt is tokenized with the model's tokenizer (BOS added
 * as the model asks). Sampling defaults are llama.cpp's (temperature 0.8, top-k 40, top-p 0.95, min-p 0.05, no
 * repetition penalty); --temperature 0 is greedy. Generation stops at --max-tokens or at an end-of-generation token
 * (--stop overrides the stop ids; --no-stop never stops early).
 *
 * With --json: one JSON object {tokens, steps: [{token, logprob, top?}], text, stopReason, seed,
 * timings: {prefillTokensPerSecond, decodeTokensPerSecond, loadSeconds, …}, adapter: {vendor, architecture,
 * features}, memory: {weightsBytes, kvCacheBytes, scratchBytes, totalBytes} (the WebGPU engine's GPU allocations)}.
 * Without: the text as it is generated, then the timings on stderr.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { RbeeError } from '../lib/errors.ts';
import type { GenerateRequestOptions, GenerationResult, LoadedModelInfo, ModelToLoad, Prompt } from '../lib/engine/worker-protocol.ts';
import { DEFAULT_REPEAT_LAST_N, LLAMA_CPP_SAMPLING_DEFAULTS, validateSamplingSettings, type SamplingSettings } from '../lib/engine/sampling.ts';
import { parseHfRef } from '../lib/hub/hf.ts';
import type { HarnessEngine } from './browser-harness/harness-page.ts';
import { commandArgs, modelSummary, resultOf, runBrowserJob } from './browser-job.ts';
import { holdsNoWeights, noWeightsError } from '../lib/formats/no-weights.ts';
import { inspectSet } from '../lib/model/inspect.ts';
import { hubTokenFor } from './hub-token.ts';
import { hubOption, MODEL_OPTIONS, numberOption, readOptions, sendsTokenToHub } from './options.ts';
import { localFileMissing, localFileSet, looksLikeLocalPath } from './local-file-set.ts';
import type { GpuMemory } from '../lib/engine/memory-plan.ts';

/** The sampling defaults the usage names: llama.cpp's, declared once in sampling.ts. */
const D = LLAMA_CPP_SAMPLING_DEFAULTS;

const USAGE = `usage: rbee-web generate --model <file|url|hf-ref> (--tokens 1,2,3 | --prompt TEXT [--chat]) [options]

  --model M            a .gguf file (split parts beside it), a model folder (config.json + SafeTensors), an
                       http(s) URL, or a Hugging Face reference
  --tokens 1,2,3       the exact prompt token ids (no BOS added)
  --prompt TEXT        a text prompt, tokenized with the model's tokenizer
  --chat               send --prompt as a user message through the model's chat template (a stated fallback when
                       the model has none); --system TEXT adds a system message
  --max-tokens N       tokens to generate (default 64)
  --temperature T      0 = greedy (default ${D.temperature})
  --seed S             seed of the sampler (default: random, printed)
  --top-k K            default ${D.topK} (0 = off)
  --top-p P            default ${D.topP} (1 = off)
  --min-p M            default ${D.minP} (0 = off)
  --repeat-penalty R   default ${D.repeatPenalty} (off); --repeat-last-n N (default ${DEFAULT_REPEAT_LAST_N})
  --top-logprobs K     report the K most likely tokens per step (JSON)
  --stop 2,32000       stop token ids (default: the model's end-of-generation tokens); --no-stop: none
  --context N          KV cache length (default: the model's, at most 4096)
  --engine E           webgpu (rbee-web's WebGPU engine) or wasm (llama.cpp's WebAssembly build, CPU); default: what
                       the app chooses on this browser's adapter (a software adapter such as SwiftShader → wasm)
  --threads N          the wasm engine's threads (default 1)
  --json               one JSON object with tokens, per-step logprobs, timings, the engine, the adapter and (WebGPU)
                       the GPU memory the load allocated
  --hub URL            Hugging Face hub base URL (HF_TOKEN is sent for gated repositories, to huggingface.co only
                       unless --send-token-to-hub says this hub may have it too)`;

interface Args {
  model: string;
  prompt: Prompt;
  maxTokens: number;
  sampling: SamplingSettings;
  topLogprobs: number;
  stop: number[] | undefined;
  contextLength: number | undefined;
  json: boolean;
  hub: string;
  sendTokenToHub: boolean;
  engine: HarnessEngine | undefined;
  threads: number | undefined;
}

function parseIds(flag: string, value: string | undefined): number[] {
  const parts = (value ?? '').split(/[\s,]+/).filter(Boolean);
  if (parts.length === 0) throw new RbeeError('bad-value', `${flag} needs comma-separated token ids.`);
  return parts.map((p) => {
    const n = Number(p);
    if (!Number.isInteger(n) || n < 0) throw new RbeeError('bad-value', `${flag}: '${p}' is not a token id.`);
    return n;
  });
}

const GENERATE_OPTIONS = {
  ...MODEL_OPTIONS,
  tokens: { type: 'string' },
  prompt: { type: 'string' },
  chat: { type: 'boolean' },
  system: { type: 'string' },
  'max-tokens': { type: 'string' },
  temperature: { type: 'string' },
  seed: { type: 'string' },
  'top-k': { type: 'string' },
  'top-p': { type: 'string' },
  'min-p': { type: 'string' },
  'repeat-penalty': { type: 'string' },
  'repeat-last-n': { type: 'string' },
  'top-logprobs': { type: 'string' },
  stop: { type: 'string' },
  'no-stop': { type: 'boolean' },
  engine: { type: 'string' },
  threads: { type: 'string' },
} as const;

export function parseGenerateArgs(argv: string[]): Args {
  const v = readOptions('generate', argv, GENERATE_OPTIONS).values;
  const integer = (flag: keyof typeof GENERATE_OPTIONS, min?: number) => numberOption(`--${flag}`, v[flag], { integer: true, ...(min !== undefined ? { min } : {}) });
  const real = (flag: keyof typeof GENERATE_OPTIONS) => numberOption(`--${flag}`, v[flag], { integer: false });
  const { model, prompt: text, system } = v;
  const chat = v.chat === true;
  const tokens = v.tokens !== undefined ? parseIds('--tokens', v.tokens) : undefined;
  // Sampler options not given keep llama.cpp's defaults (validated together below).
  const sampling: SamplingSettings = { ...LLAMA_CPP_SAMPLING_DEFAULTS };
  const set = <K extends keyof SamplingSettings>(key: K, value: SamplingSettings[K] | undefined): void => {
    if (value !== undefined) sampling[key] = value;
  };
  set('temperature', real('temperature'));
  set('seed', integer('seed'));
  set('topK', integer('top-k'));
  set('topP', real('top-p'));
  set('minP', real('min-p'));
  set('repeatPenalty', real('repeat-penalty'));
  set('repeatLastN', integer('repeat-last-n'));
  if (v.engine !== undefined && v.engine !== 'webgpu' && v.engine !== 'wasm') throw new RbeeError('bad-value', `--engine is webgpu or wasm, not '${v.engine}'.`);
  const a: Omit<Args, 'model' | 'prompt' | 'sampling'> = {
    maxTokens: integer('max-tokens') ?? 64,
    topLogprobs: integer('top-logprobs') ?? 0,
    stop: v['no-stop'] ? [] : v.stop !== undefined ? parseIds('--stop', v.stop) : undefined,
    contextLength: integer('context'),
    json: v.json === true,
    hub: hubOption(v),
    sendTokenToHub: sendsTokenToHub(v),
    engine: v.engine,
    threads: integer('threads', 1),
  };
  if (!model) throw new RbeeError('bad-value', '--model is required.', { hint: 'rbee-web generate --model stories260K.gguf --tokens 1,403 --max-tokens 32' });
  if ((tokens === undefined) === (text === undefined)) throw new RbeeError('bad-value', 'Give exactly one of --tokens and --prompt.');
  if ((chat || system !== undefined) && text === undefined)
    throw new RbeeError('bad-value', '--chat and --system apply to --prompt, not to --tokens.');
  if (a.maxTokens < 1) throw new RbeeError('bad-value', '--max-tokens must be at least 1.');
  validateSamplingSettings(sampling);
  const prompt: Prompt = tokens
    ? { tokens }
    : chat || system !== undefined
      ? { messages: [...(system !== undefined ? [{ role: 'system' as const, content: system }] : []), { role: 'user' as const, content: text! }] }
      : { text: text! };
  return { ...a, model, prompt, sampling };
}

/**
 * The user's --model as what the worker loads: a local file (served to the page by the harness, its folder with it
 * so split parts are found), an http(s) URL, or a Hugging Face reference. Checked before Chromium starts.
 */
export type ModelArg = { kind: 'disk'; folder: string; file: string } | { kind: 'remote'; load: ModelToLoad };

export function resolveModelArg(model: string, hub: string, sendTokenToHub: boolean): ModelArg {
  if (existsSync(model)) {
    const full = resolve(model);
    if (statSync(full).isDirectory()) return { kind: 'disk', folder: full, file: weightsInFolder(full, model) };
    return { kind: 'disk', folder: dirname(full), file: basename(full) };
  }
  if (looksLikeLocalPath(model)) throw localFileMissing(model);
  if (/^https?:\/\//i.test(model) && !parseHfRef(model, hub)) return { kind: 'remote', load: { model: { kind: 'remote', source: model }, reach: { hubBase: hub } } };
  if (parseHfRef(model, hub)) {
    const token = hubTokenFor(hub, sendTokenToHub);
    return { kind: 'remote', load: { model: { kind: 'remote', source: model }, reach: { hubBase: hub, ...(token ? { token } : {}) } } };
  }
  throw new RbeeError('not-found', `'${model}' is not a file here, an http(s) URL or a Hugging Face reference.`, {
    hint: 'Give a path to a .gguf file, its URL, or owner/repo/file.gguf.',
  });
}

/**
 * The weights file of a model folder: model.safetensors, the first shard an index names (config.json and the other
 * shards are found beside it), or the folder's one .gguf file.
 */
function weightsInFolder(folder: string, shown: string): string {
  if (existsSync(join(folder, 'model.safetensors'))) return 'model.safetensors';
  const index = join(folder, 'model.safetensors.index.json');
  if (existsSync(index)) {
    const map = (JSON.parse(readFileSync(index, 'utf8')) as { weight_map?: Record<string, string> }).weight_map ?? {};
    const first = Object.values(map).sort()[0];
    if (first && existsSync(join(folder, first))) return first;
  }
  const ggufs = readdirSync(folder).filter((f) => /\.gguf$/i.test(f));
  if (ggufs.length === 1) return ggufs[0]!;
  throw new RbeeError('bad-value', `${shown} is a folder without one model in it.`, {
    hint: 'A model folder holds config.json with model.safetensors (or model.safetensors.index.json and its shards), or a single .gguf file; otherwise give the file.',
  });
}

/**
 * A local file the verdict already rules out (no weight tensors: a vocabulary file) fails here with the verdict's
 * reason, before Chromium starts; the worker gives the same error for URLs and hub files (model-opening.ts).
 */
async function refuseFileWithoutWeights(path: string): Promise<void> {
  const set = localFileSet(path);
  try {
    const { descriptor } = await inspectSet(set);
    if (holdsNoWeights(descriptor)) throw noWeightsError();
  } finally {
    await set.close?.();
  }
}

export function modelInput(arg: ModelArg, serveFolder: (dir: string) => string): ModelToLoad {
  return arg.kind === 'disk' ? { model: { kind: 'remote', source: serveFolder(arg.folder) + encodeURIComponent(arg.file) } } : arg.load;
}

export interface GenerateJson {
  /** The engine that ran: webgpu (rbee-web's kernels) or wasm (llama.cpp's WebAssembly build). */
  engine: HarnessEngine;
  tokens: number[];
  steps: { token: number; logprob: number; top?: { token: number; logprob: number }[] }[];
  text: string;
  stopReason: GenerationResult['stopReason'];
  seed: number;
  timings: GenerationResult['timings'] & { loadSeconds: number };
  adapter: LoadedModelInfo['adapter'];
  model: ReturnType<typeof modelSummary>;
  /** What the WebGPU engine allocated on the GPU (weights, KV cache, scratch); absent for the wasm engine. */
  memory?: GpuMemory;
  /** Set when the model's chat template failed (or ran past its budget) on this conversation and the fallback wrote it. */
  templateFallback?: GenerationResult['templateFallback'];
}

export function toJson(model: LoadedModelInfo, result: GenerationResult, engine: HarnessEngine = 'webgpu'): GenerateJson {
  return {
    engine,
    tokens: result.tokens,
    steps: result.steps.map((s) => ({ token: s.token, logprob: s.logprob ?? NaN, ...(s.top ? { top: s.top } : {}) })),
    text: result.text,
    stopReason: result.stopReason,
    seed: result.seed,
    timings: { ...result.timings, loadSeconds: model.loadSeconds },
    adapter: model.adapter,
    model: modelSummary(model),
    ...(model.gpuMemory ? { memory: model.gpuMemory } : {}),
    ...(result.templateFallback ? { templateFallback: result.templateFallback } : {}),
  };
}

export async function run(argv: string[]): Promise<number> {
  const parsed = commandArgs('generate', argv, USAGE, parseGenerateArgs);
  if ('exit' in parsed) return parsed.exit;
  const { args } = parsed;
  const modelArg = resolveModelArg(args.model, args.hub, args.sendTokenToHub);
  if (modelArg.kind === 'disk') await refuseFileWithoutWeights(join(modelArg.folder, modelArg.file));
  const request: GenerateRequestOptions = {
    prompt: args.prompt,
    sampling: args.sampling,
    maxTokens: args.maxTokens,
    ...(args.stop ? { stopTokens: args.stop } : {}),
    logprobs: args.json,
    ...(args.topLogprobs > 0 ? { topLogprobs: args.topLogprobs } : {}),
  };
  await runBrowserJob(
    (session) => ({
      model: modelInput(modelArg, (d) => session.serveFolder(d)),
      ...(args.contextLength ? { contextLength: args.contextLength } : {}),
      engine: args.engine ?? ('auto' as const),
      ...(args.threads ? { threads: args.threads } : {}),
      generations: [request],
    }),
    (out) => {
      const result = resultOf(out.results[0], 'generation');
      if (args.json) {
        console.log(JSON.stringify(toJson(out.model, result, out.engine)));
        return;
      }
      if (result.templateFallback) {
        const used = result.templateFallback.kind === 'chatml-fallback' ? 'ChatML' : 'plain text';
        console.error(`\nnote: the model's chat template failed on this conversation (${result.templateFallback.error}); the prompt was written as ${used}.`);
      }
      const t = result.timings;
      process.stdout.write('\n');
      console.error(
        `[${out.model.name} · ${out.engine} · ${out.model.adapter.vendor}/${out.model.adapter.architecture}] load ${out.model.loadSeconds.toFixed(2)} s · ` +
          `prefill ${t.promptTokens} tokens ${t.prefillTokensPerSecond.toFixed(1)} tok/s · decode ${t.generatedTokens} tokens ` +
          `${t.decodeTokensPerSecond.toFixed(1)} tok/s · stop: ${result.stopReason} · seed ${result.seed}`,
      );
    },
    args.json ? undefined : (e) => (e.type === 'token' ? process.stdout.write(e.text) : undefined),
  );
  return 0;
}
