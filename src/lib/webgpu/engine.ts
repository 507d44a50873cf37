/**
 * WebGpuEngine: the one object the worker (and tests) talk to. It owns a GPU device, a model's weights on it and
 * the KV cache; `prefill` and `decode` return logits, sampling happens elsewhere (src/lib/inference/).
 *
 *   const engine = await WebGpuEngine.create();
 *   await engine.load(descriptor, sources, { onProgress });
 *   let logits = await engine.prefill(promptIds);   // last token's logits
 *   logits = await engine.decode(nextId);
 */
import { RbeeError } from '../errors.ts';
import type { ByteSource } from '../loaders/byte-source.ts';
import type { ModelDescriptor } from '../loaders/descriptor.ts';

export interface LoadProgress {
  bytesUploaded: number;
  totalBytes: number;
  tensorsUploaded: number;
  totalTensors: number;
}

export interface EngineCaps {
  vendor: string;
  architecture: string;
  shaderF16: boolean;
  subgroups: boolean;
  limits: { maxBufferSize: number; maxStorageBufferBindingSize: number; maxComputeWorkgroupStorageSize: number };
}

export interface LoadOptions {
  /** KV cache length in tokens (default: the model's context length, capped at 4096). */
  contextLength?: number;
  onProgress?: (p: LoadProgress) => void;
  signal?: AbortSignal;
}

export class WebGpuEngine {
  readonly caps: EngineCaps;

  private constructor(caps: EngineCaps) {
    this.caps = caps;
  }

  static async create(_opts: { requiredLimits?: Record<string, number> } = {}): Promise<WebGpuEngine> {
    throw new RbeeError('internal', 'WebGpuEngine.create: not implemented yet');
  }

  async load(_descriptor: ModelDescriptor, _sources: ByteSource[], _opts: LoadOptions = {}): Promise<void> {
    throw new RbeeError('internal', 'WebGpuEngine.load: not implemented yet');
  }

  /** Appends tokens to the KV cache (chunks of at most 512 per submission); returns the last token's logits. */
  async prefill(_tokens: number[]): Promise<Float32Array> {
    throw new RbeeError('internal', 'WebGpuEngine.prefill: not implemented yet');
  }

  /** One token in, its logits out. */
  async decode(_token: number): Promise<Float32Array> {
    throw new RbeeError('internal', 'WebGpuEngine.decode: not implemented yet');
  }

  /** Tokens in the KV cache. */
  get position(): number {
    return 0;
  }

  /** Clears the KV cache (the model stays loaded). */
  reset(): void {}

  /** Frees the model's GPU buffers; the engine can load another model. */
  unload(): void {}
}
