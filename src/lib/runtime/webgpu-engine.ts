/**
 * The WebGPU engine (src/lib/engine: rbee-web's own kernels in a worker) behind the ChatEngine interface. GGUF
 * (and, once its loader lands, SafeTensors) models route here.
 */
import { RbeeError, toRbeeError } from '../errors.ts';
import type { InferenceClient } from './inference-client.ts';
import type { LoadProgressEvent, ModelToLoad, Prompt } from '../engine/worker-protocol.ts';
import type { ChatEngine, EngineGenerateOptions, EngineGenerateRequest, EngineGenerationResult, EngineLoadOptions, EngineModelInfo, EngineProgress } from './engine.ts';

/** The worker's byte-counted progress as an EngineProgress. */
export function webgpuProgress(p: LoadProgressEvent): EngineProgress {
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

export class WebGpuEngine implements ChatEngine {
  readonly kind = 'webgpu' as const;

  /** `client` is created lazily (a Worker) so building the engine costs nothing until load. */
  constructor(
    private readonly model: ModelToLoad,
    private readonly createClient: () => InferenceClient | Promise<InferenceClient>,
  ) {}

  private client: InferenceClient | undefined;

  async load(options: EngineLoadOptions = {}): Promise<EngineModelInfo> {
    try {
      this.client ??= await this.createClient();
      const info = await this.client.load(this.model, {
        ...(options.contextLength !== undefined ? { contextLength: options.contextLength } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
        onProgress: (p) => options.onProgress?.(webgpuProgress(p)),
      });
      options.onProgress?.({ phase: 'ready', fraction: 1, text: `Loaded ${info.name}` });
      const features = info.adapter.features.includes('shader-f16') ? ' (shader-f16)' : '';
      return { engine: 'webgpu', name: info.name, device: `WebGPU${features}`, contextLength: info.contextLength, loadSeconds: info.loadSeconds };
    } catch (e) {
      throw toRbeeError(e);
    }
  }

  async generate(request: EngineGenerateRequest, options: EngineGenerateOptions = {}): Promise<EngineGenerationResult> {
    const client = this.client;
    if (!client) throw notLoaded();
    const started = performance.now();
    try {
      const result = await client.generate(
        {
          prompt: promptOf(request),
          sampling: {
            temperature: request.temperature,
            ...(request.topK !== undefined ? { topK: request.topK } : {}),
            ...(request.topP !== undefined ? { topP: request.topP } : {}),
            ...(request.seed !== undefined ? { seed: request.seed } : {}),
          },
          maxTokens: request.maxTokens,
        },
        { onToken: (step) => step.text && options.onText?.(step.text), ...(options.signal ? { signal: options.signal } : {}) },
      );
      return {
        text: result.text,
        stopReason: result.stopReason,
        tokens: result.tokens.length,
        promptTokens: result.timings.promptTokens,
        tokensPerSecond: result.timings.decodeTokensPerSecond,
        elapsedMs: performance.now() - started,
      };
    } catch (e) {
      throw toRbeeError(e);
    }
  }

  /**
   * How many tokens the prompt `generate` would send for these messages (or this text) becomes, counted by the
   * worker's own tokenizer and chat format — for fitting a conversation to the context (conversation-window.ts).
   */
  async countPrompt(request: Pick<EngineGenerateRequest, 'messages' | 'prompt'>): Promise<number> {
    const client = this.client;
    if (!client) throw notLoaded();
    try {
      return await client.countPrompt(promptOf(request));
    } catch (e) {
      throw toRbeeError(e);
    }
  }

  async unload(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    try {
      await client.unload();
    } finally {
      client.terminate();
    }
  }
}

/** The worker prompt for an engine request: its conversation, else its text. */
function promptOf(request: Pick<EngineGenerateRequest, 'messages' | 'prompt'>): Prompt {
  return request.messages ? { messages: request.messages } : { text: request.prompt ?? '' };
}

function notLoaded(): RbeeError {
  return new RbeeError('internal', 'No model is loaded: call load() first.');
}
