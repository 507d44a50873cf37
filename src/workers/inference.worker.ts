/// <reference lib="webworker" />
/**
 * The inference worker: owns the WebGPU device, the model's weights, its KV cache and its tokenizer. The main thread
 * talks to it only through the messages in src/lib/engine/worker-protocol.ts (see client.ts), so a long prefill never
 * blocks the page and the weights never pass through the main thread.
 *
 * Requests run one at a time in arrival order; `abort` is handled at once (it sets the named request's signal,
 * which a generation checks between prompt slices and after every token, and a load passes to every read and
 * upload).
 *
 * Between generations the KV cache keeps what the last one wrote (its prompt and output, up to where it stopped):
 * the next generate evaluates only what differs from it (generation.ts). Loading or unloading a model forgets it.
 */
import { RbeeError, toRbeeError } from '../lib/errors.ts';
import { runGeneration } from '../lib/engine/generation.ts';
import { loadedModelInfo, prepareModel, type PreparedModel } from '../lib/engine/model-opening.ts';
import { scoreTokens } from '../lib/engine/scoring.ts';
import type { GeneratedStep, LoadedModelInfo, WorkerEvent, WorkerRequest } from '../lib/engine/worker-protocol.ts';
import { WebGpuEngine } from '../lib/engine/engine.ts';
import { DEFAULT_CONTEXT_LENGTH } from '../lib/engine/memory-plan.ts';

declare const self: DedicatedWorkerGlobalScope;

let engine: WebGpuEngine | undefined;
let model: { opened: PreparedModel; info: LoadedModelInfo } | undefined;
const signals = new Map<number, AbortController>();
let queue: Promise<void> = Promise.resolve();

const post = (event: WorkerEvent): void => self.postMessage(event);

self.onmessage = (e: MessageEvent<WorkerRequest>) => {
  const request = e.data;
  if (request.type === 'abort') {
    signals.get(request.target)?.abort();
    return;
  }
  const controller = new AbortController();
  signals.set(request.id, controller);
  queue = queue
    .then(() => handle(request, controller.signal))
    .catch((error: unknown) => post({ type: 'error', id: request.id, error: toRbeeError(error).toJSON() }))
    .finally(() => signals.delete(request.id));
};

async function handle(request: Exclude<WorkerRequest, { type: 'abort' }>, signal: AbortSignal): Promise<void> {
  switch (request.type) {
    case 'load':
      return load(request, signal);
    case 'generate':
      return generate(request, signal);
    case 'unload':
      unload();
      post({ type: 'unloaded', id: request.id });
      return;
    case 'tokenize': {
      const opened = requireModel().opened;
      post({ type: 'tokenized', id: request.id, tokens: opened.text.encode(request.text, request.addSpecial ?? true) });
      return;
    }
    case 'score':
      return score(request, signal);
    case 'profile':
      requireModel();
      post({ type: 'profiled', id: request.id, profile: await engine!.profileDecode(request.steps ?? 32) });
      return;
    case 'count-prompt':
      // The same ModelText.prompt() that generate() evaluates, so the count is that prompt's length exactly.
      post({ type: 'prompt-counted', id: request.id, tokens: requireModel().opened.text.promptLength(request.prompt) });
      return;
  }
}

function requireModel(): { opened: PreparedModel; info: LoadedModelInfo } {
  if (!model) throw new RbeeError('bad-value', 'No model is loaded.', { hint: 'Load a model first.' });
  return model;
}

function unload(): void {
  engine?.unload();
  model = undefined;
}

async function load(request: Extract<WorkerRequest, { type: 'load' }>, signal: AbortSignal): Promise<void> {
  const started = performance.now();
  unload();
  const opened = await prepareModel(request.model, {
    ...(request.reach ? { reach: request.reach } : {}),
    ...(request.known ? { known: request.known } : {}),
    signal,
  });
  post({
    type: 'progress',
    id: request.id,
    progress: { phase: 'header', bytesUploaded: 0, totalBytes: opened.descriptor.totalWeightBytes, tensorsUploaded: 0, totalTensors: opened.descriptor.tensors.length },
  });
  engine ??= await WebGpuEngine.create();
  const contextLength = Math.min(request.contextLength ?? DEFAULT_CONTEXT_LENGTH, opened.descriptor.contextLength ?? DEFAULT_CONTEXT_LENGTH);
  let lastPost = 0;
  await engine.load(opened.descriptor, opened.sources, {
    contextLength,
    signal,
    onProgress: (p) => {
      // At most ~20 progress messages a second: a model has thousands of tensors.
      const t = performance.now();
      if (t - lastPost < 50 && p.tensorsUploaded < p.totalTensors) return;
      lastPost = t;
      post({ type: 'progress', id: request.id, progress: { phase: 'weights', ...p } });
    },
  });
  const info = loadedModelInfo(opened, contextLength, (performance.now() - started) / 1000, {
    vendor: engine.caps.vendor,
    architecture: engine.caps.architecture,
    features: [...(engine.caps.shaderF16 ? ['shader-f16'] : []), ...(engine.caps.subgroups ? ['subgroups'] : [])],
  });
  const gpuMemory = engine.gpuMemory;
  if (gpuMemory) info.gpuMemory = gpuMemory;
  model = { opened, info };
  post({ type: 'loaded', id: request.id, model: info });
}

async function generate(request: Extract<WorkerRequest, { type: 'generate' }>, signal: AbortSignal): Promise<void> {
  const startedAt = performance.now();
  const { opened, info } = requireModel();
  const { tokens: promptTokens, templateFallback } = opened.text.prompt(request.prompt);
  const result = await runGeneration(
    engine!,
    {
      promptTokens,
      sampling: request.sampling,
      maxTokens: request.maxTokens,
      stopTokens: request.stopTokens ?? info.eogTokens,
      ...(request.logprobs !== undefined ? { logprobs: request.logprobs } : {}),
      ...(request.topLogprobs !== undefined ? { topLogprobs: request.topLogprobs } : {}),
      contextLength: info.contextLength,
      ...(request.cachePrompt !== undefined ? { cachePrompt: request.cachePrompt } : {}),
    },
    {
      startedAt,
      onStep: (step: GeneratedStep) => post({ type: 'token', id: request.id, step }),
      onPromptProgress: (done, total) => post({ type: 'prompt-progress', id: request.id, done, total }),
      aborted: () => signal.aborted,
      text: opened.text.stream(),
    },
  );
  post({ type: 'done', id: request.id, result: templateFallback ? { ...result, templateFallback } : result });
}

/** Teacher-forced scoring; it leaves the KV cache empty (the next generate evaluates its whole prompt). */
async function score(request: Extract<WorkerRequest, { type: 'score' }>, signal: AbortSignal): Promise<void> {
  const { opened, info } = requireModel();
  const tokens = 'tokens' in request.input ? request.input.tokens : opened.text.prompt({ text: request.input.text }).tokens;
  const window = Math.min(request.window ?? info.contextLength, info.contextLength);
  const result = await scoreTokens(engine!, {
    tokens,
    window,
    ...(opened.text.bos !== undefined ? { bos: opened.text.bos } : {}),
    aborted: () => signal.aborted,
  });
  post({ type: 'scored', id: request.id, result });
}
