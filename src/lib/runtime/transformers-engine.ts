/**
 * transformers.js (ONNX exports) behind the ChatEngine interface: a text-generation pipeline on WebGPU (WASM when
 * there is no GPU, or none with the features the dtype needs, or WebGPU fails to start), streaming through a
 * TextStreamer, stopped by an InterruptableStoppingCriteria. The library is imported on first load (it is large).
 */
import { RbeeError } from '../errors.ts';
import type { ChatEngine, EngineGenerateOptions, EngineGenerateRequest, EngineGenerationResult, EngineLoadOptions, EngineModelInfo, EngineProgress } from './engine.ts';
import { finishTiming } from './engine.ts';
import { planTransformersLoad, type OnnxExportLocation, type TransformersDevice, type TransformersPlan } from './transformers-options.ts';

type Transformers = typeof import('@huggingface/transformers');
type TextGenerationPipeline = import('@huggingface/transformers').TextGenerationPipeline;
export type TransformersImport = () => Promise<Transformers>;
const importTransformers: TransformersImport = () => import('@huggingface/transformers');

/** transformers.js progress events (per file: initiate, download, progress, done; progress_total; ready). */
export function mapTransformersProgress(info: { status: string; file?: string; progress?: number; loaded?: number; total?: number }): EngineProgress | undefined {
  const file = info.file ? { file: info.file } : {};
  switch (info.status) {
    case 'progress_total':
      return {
        phase: 'fetching',
        ...(typeof info.progress === 'number' ? { fraction: Math.min(1, Math.max(0, info.progress / 100)) } : {}),
        ...(typeof info.loaded === 'number' ? { loadedBytes: info.loaded } : {}),
        ...(typeof info.total === 'number' ? { totalBytes: info.total } : {}),
        text: `Downloading: ${Math.round(info.progress ?? 0)}%`,
      };
    case 'initiate':
    case 'download':
      return { phase: 'fetching', ...file, text: `Fetching ${info.file ?? ''}`.trim() };
    case 'done':
      return { phase: 'loading', ...file, text: `Fetched ${info.file ?? ''}`.trim() };
    case 'ready':
      return { phase: 'ready', fraction: 1, text: 'Ready' };
    default:
      return undefined; // per-file 'progress' events: progress_total says the same for all files at once
  }
}

/** The library's failure as an RbeeError (its messages are plain Errors; what failed is in the text). */
export function transformersError(e: unknown, model: string): RbeeError {
  if (e instanceof RbeeError) return e;
  const message = e instanceof Error ? e.message : String(e);
  if ((e as { name?: string })?.name === 'AbortError') return new RbeeError('aborted', 'Cancelled.', { cause: e });
  if (/Could not locate file|404|not found/i.test(message)) {
    return new RbeeError('not-found', `transformers.js could not find a file of ${model}: ${message}`, { hint: 'Check that the repository has this ONNX variant and its config.json.', cause: e });
  }
  if (/401|403|Unauthorized|gated/i.test(message)) {
    return new RbeeError('gated', `${model} refused access: ${message}`, { hint: 'Accept the licence on the hub and provide an access token.', cause: e });
  }
  if (e instanceof TypeError || /fetch|network/i.test(message)) {
    return new RbeeError('network', `transformers.js could not download ${model}: ${message}`, { hint: 'The first load needs the hub; later loads come from the browser cache.', cause: e });
  }
  if (/Unsupported model type|not supported/i.test(message)) {
    return new RbeeError('unsupported-architecture', `transformers.js cannot run ${model}: ${message}`, { cause: e });
  }
  return new RbeeError('internal', `transformers.js failed on ${model}: ${message}`, { cause: e });
}

export interface TransformersEngineOptions {
  /** The app's URL (ORT's WASM files are served from ort/ under it); default document.baseURI. */
  appBase?: string;
  /** What the GPU offers; default: asks navigator.gpu. */
  gpu?: { available: boolean; shaderF16: boolean };
  /** Skip WebGPU (tests, or the user's choice). */
  forceDevice?: TransformersDevice;
  import?: TransformersImport;
}

async function probeGpu(): Promise<{ available: boolean; shaderF16: boolean }> {
  const gpu = (globalThis.navigator as { gpu?: GPU } | undefined)?.gpu;
  if (!gpu) return { available: false, shaderF16: false };
  try {
    const adapter = await gpu.requestAdapter();
    return { available: adapter !== null, shaderF16: adapter?.features.has('shader-f16') ?? false };
  } catch {
    return { available: false, shaderF16: false };
  }
}

export class TransformersEngine implements ChatEngine {
  readonly kind = 'transformers.js' as const;
  private pipe: TextGenerationPipeline | undefined;
  private lib: Transformers | undefined;
  /** The plan last used, for the page and the tests. */
  plan: TransformersPlan | undefined;

  constructor(
    readonly location: OnnxExportLocation,
    private readonly opts: TransformersEngineOptions = {},
  ) {}

  async load(options: EngineLoadOptions = {}): Promise<EngineModelInfo> {
    const started = performance.now();
    if (options.signal?.aborted) throw new RbeeError('aborted', 'Cancelled.');
    const gpu = this.opts.forceDevice ? { available: false, shaderF16: false } : (this.opts.gpu ?? (await probeGpu()));
    const appBase = this.opts.appBase ?? (typeof document !== 'undefined' ? document.baseURI : globalThis.location?.href ?? 'http://localhost/');
    const planned = planTransformersLoad(this.location, gpu, appBase);
    const plan = this.opts.forceDevice ? { ...planned, options: { ...planned.options, device: this.opts.forceDevice } } : planned;
    let lib: Transformers;
    try {
      lib = await (this.opts.import ?? importTransformers)();
    } catch (e) {
      throw new RbeeError('internal', `The transformers.js library could not be loaded: ${(e as Error)?.message ?? e}`, { cause: e });
    }
    this.lib = lib;
    this.configure(lib, plan);
    const attempt = async (device: TransformersDevice): Promise<TextGenerationPipeline> => {
      const p = await lib.pipeline(plan.task, plan.model, {
        ...plan.options,
        device,
        progress_callback: (info: Parameters<typeof mapTransformersProgress>[0]) => {
          const event = mapTransformersProgress(info);
          if (event) options.onProgress?.(event);
        },
      } as never);
      return p as unknown as TextGenerationPipeline;
    };
    let device = plan.options.device;
    try {
      try {
        this.pipe = await attempt(device);
      } catch (e) {
        // WebGPU can fail to start (no adapter after all, an op without a WebGPU kernel): the CPU still runs it.
        const webgpuFailure = device === 'webgpu' && /webgpu|adapter|gpu/i.test(e instanceof Error ? e.message : String(e));
        if (!webgpuFailure) throw e;
        device = 'wasm';
        this.pipe = await attempt(device);
      }
    } catch (e) {
      throw transformersError(e, plan.model);
    }
    if (options.signal?.aborted) {
      await this.unload();
      throw new RbeeError('aborted', 'Cancelled.');
    }
    this.plan = { ...plan, options: { ...plan.options, device } };
    options.onProgress?.({ phase: 'ready', fraction: 1, text: `Ready on ${device}` });
    const max = (this.pipe.model.config as { max_position_embeddings?: number }).max_position_embeddings;
    return {
      engine: 'transformers.js',
      name: plan.model,
      device: device === 'webgpu' ? 'WebGPU' : device === 'wasm' ? 'WASM (CPU)' : 'CPU (onnxruntime-node)',
      ...(typeof max === 'number' ? { contextLength: max } : {}),
      loadSeconds: (performance.now() - started) / 1000,
    };
  }

  private configure(lib: Transformers, plan: TransformersPlan): void {
    const env = lib.env;
    env.remoteHost = plan.env.remoteHost;
    env.remotePathTemplate = plan.env.remotePathTemplate;
    env.allowLocalModels = plan.env.allowLocalModels;
    env.allowRemoteModels = plan.env.allowRemoteModels;
    // In the browser ONNX Runtime's WASM build comes from this app; Node (device 'cpu') uses onnxruntime-node.
    const onnx = env.backends.onnx as { wasm?: { wasmPaths?: unknown } };
    if (onnx.wasm && plan.options.device !== 'cpu') onnx.wasm.wasmPaths = { ...plan.env.wasmPaths };
    const token = this.location.token;
    if (token) {
      const hub = plan.env.remoteHost;
      const base = env.fetch;
      // Gated repositories: the hub wants the token; nothing else gets it.
      env.fetch = (input: string | URL, init?: RequestInit) =>
        String(input).startsWith(hub) ? base(input, { ...init, headers: { ...(init?.headers as Record<string, string>), Authorization: `Bearer ${token}` } }) : base(input, init);
    }
  }

  async generate(request: EngineGenerateRequest, options: EngineGenerateOptions = {}): Promise<EngineGenerationResult> {
    const pipe = this.pipe;
    const lib = this.lib;
    if (!pipe || !lib) throw new RbeeError('internal', 'No ONNX model is loaded: call load() first.');
    const started = performance.now();
    let firstAt: number | undefined;
    let text = '';
    let tokens = 0;
    const stopper = new lib.InterruptableStoppingCriteria();
    const onAbort = () => stopper.interrupt();
    if (options.signal?.aborted) stopper.interrupt();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const streamer = new lib.TextStreamer(pipe.tokenizer, {
      skip_prompt: true,
      skip_special_tokens: true,
      callback_function: (piece: string) => {
        if (!piece) return;
        text += piece;
        options.onText?.(piece);
      },
      token_callback_function: () => {
        firstAt ??= performance.now();
        tokens++;
      },
    });
    const { temperature, topP, topK } = request.sampling;
    const greedy = temperature === 0;
    try {
      await pipe((request.messages ?? request.prompt ?? '') as never, {
        max_new_tokens: request.maxTokens,
        do_sample: !greedy,
        ...(greedy ? {} : { temperature }),
        ...(topP !== undefined && !greedy ? { top_p: topP } : {}),
        ...(topK !== undefined && !greedy ? { top_k: topK } : {}),
        streamer,
        stopping_criteria: stopper,
        return_full_text: false,
      } as never);
    } catch (e) {
      if (!options.signal?.aborted) throw transformersError(e, this.location.repo);
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
    }
    const stopReason = options.signal?.aborted ? 'aborted' : tokens >= request.maxTokens ? 'max-tokens' : 'stop-token';
    return { text, stopReason, tokens, ...finishTiming(started, firstAt, tokens) };
  }

  async unload(): Promise<void> {
    const pipe = this.pipe;
    this.pipe = undefined;
    if (pipe) await pipe.dispose().catch(() => undefined);
  }
}

