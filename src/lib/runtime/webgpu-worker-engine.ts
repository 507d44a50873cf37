/**
 * rbee-web's own WebGPU engine behind the ChatEngine interface, through its worker: InferenceClient (inference-client.ts)
 * talks to the inference worker, which owns the GPU device, the weights and the tokenizer. GGUF and SafeTensors models
 * route here. The engine class itself (webgpu/engine.ts) runs inside the worker; this is the page's side of it, as
 * web-llm's WebWorkerMLCEngine is of its MLCEngine.
 */
import { RbeeError, toRbeeError } from '../errors.ts';
import type { InferenceClient } from './inference-client.ts';
import type { LoadedModelInfo, LoadProgressEvent, ModelToLoad, Prompt } from '../engine/worker-protocol.ts';
import type { ChatMessage } from '../tokenizer/types.ts';
import { protocolPrompt, protocolResult, type ChatEngine, type EngineGenerateOptions, type EngineGenerateRequest, type EngineGenerationResult, type EngineLoadOptions, type EngineModelInfo, type EngineProgress } from './engine.ts';

/** The worker's byte-counted progress as an EngineProgress. */
function webgpuProgress(p: LoadProgressEvent): EngineProgress {
  const fraction = p.totalBytes > 0 ? p.bytesUploaded / p.totalBytes : undefined;
  return {
    phase: p.phase === 'header' ? 'fetching' : 'loading',
    ...(fraction !== undefined ? { fraction } : {}),
    loadedBytes: p.bytesUploaded,
    totalBytes: p.totalBytes,
    done: p.tensorsUploaded,
    total: p.totalTensors,
    text: p.phase === 'header' ? 'Reading the header' : `Uploading weights: ${p.tensorsUploaded}/${p.totalTensors} tensors`,
  };
}

export class WebGpuWorkerEngine implements ChatEngine {
  readonly kind = 'webgpu' as const;

  /** `client` is created lazily (a Worker) so building the engine costs nothing until load. */
  constructor(
    private readonly model: ModelToLoad,
    private readonly createClient: () => InferenceClient | Promise<InferenceClient>,
  ) {}

  private client: InferenceClient | undefined;
  private info: LoadedModelInfo | undefined;

  async load(options: EngineLoadOptions = {}): Promise<EngineModelInfo> {
    // A stopped load ends the worker at once (its half-uploaded weights go with its device), as unload() does.
    if (options.signal?.aborted) throw new RbeeError('aborted', 'Loading was stopped.');
    const stop = () => void this.unload();
    options.signal?.addEventListener('abort', stop, { once: true });
    try {
      this.client ??= await this.createClient();
      const info = await this.client.load(this.model, {
        ...(options.contextLength !== undefined ? { contextLength: options.contextLength } : {}),
        onProgress: (p) => options.onProgress?.(webgpuProgress(p)),
      });
      this.info = info;
      options.onProgress?.({ phase: 'ready', fraction: 1, text: `Loaded ${info.name}` });
      const features = info.adapter.features.includes('shader-f16') ? ' (shader-f16)' : '';
      return { engine: 'webgpu', name: info.name, device: `WebGPU${features}`, contextLength: info.contextLength, loadSeconds: info.loadSeconds, detail: info };
    } catch (e) {
      throw toRbeeError(e);
    } finally {
      options.signal?.removeEventListener('abort', stop);
    }
  }

  async generate(request: EngineGenerateRequest, options: EngineGenerateOptions = {}): Promise<EngineGenerationResult> {
    const client = this.loaded();
    const started = performance.now();
    try {
      const result = await client.generate(
        { prompt: this.promptOf(request), sampling: request.sampling, maxTokens: request.maxTokens },
        {
          onToken: (step) => step.text && options.onText?.(step.text),
          ...(options.onPromptProgress ? { onPromptProgress: options.onPromptProgress } : {}),
          ...(options.signal ? { signal: options.signal } : {}),
        },
      );
      return protocolResult(result, started);
    } catch (e) {
      throw toRbeeError(e);
    }
  }

  /**
   * How many tokens the prompt `generate` would send for this conversation becomes, counted by the worker's own
   * tokenizer and chat format (GGUF and SafeTensors alike), so a fitted conversation is exactly what it evaluates.
   */
  async countPrompt(messages: ChatMessage[]): Promise<number> {
    const client = this.loaded();
    try {
      return await client.countPrompt(this.promptOf({ messages }));
    } catch (e) {
      throw toRbeeError(e);
    }
  }

  /** Ends the worker at once: its GPU device, and the memory on it, go with it (a pending load or reply fails 'aborted'). */
  async unload(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.info = undefined;
    client?.terminate();
  }

  private loaded(): InferenceClient {
    if (!this.client) throw new RbeeError('internal', 'No model is loaded: call load() first.');
    return this.client;
  }

  /**
   * The worker prompt for an engine request: its conversation, else its text. A model without a tokenizer cannot
   * render or tokenize either, so its prompt is BOS alone (the chat's Send says so) and it generates from there.
   */
  private promptOf(request: Pick<EngineGenerateRequest, 'messages' | 'prompt'>): Prompt {
    if (this.info && !this.info.hasTokenizer) return { tokens: this.info.bosToken !== undefined ? [this.info.bosToken] : [] };
    return protocolPrompt(request);
  }
}
