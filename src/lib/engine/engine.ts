/**
 * WebGpuEngine: the one object the worker (and tests) talk to. It owns a GPU device, a model's weights on it and
 * the KV cache; `prefill` and `decode` return logits, sampling happens elsewhere (sampling.ts, generation.ts).
 *
 *   const engine = await WebGpuEngine.create();
 *   await engine.load(descriptor, sources, { onProgress });
 *   let logits = await engine.prefill(promptIds);   // last token's logits
 *   logits = await engine.decode(nextId);
 *
 * Calls are serialised (one step at a time). A lost device makes every later call fail with RbeeError
 * ('device-lost'); `load` then opens a fresh device, so the engine can be used again.
 *
 * The engine remembers which tokens are in the KV cache (`cachedTokens`: position i holds the K/V of token i, exactly
 * what prefill and decode wrote, in order), so a caller can keep a shared prefix between generations: `truncate(n)`
 * keeps positions 0…n−1 and the next prefill writes from n on (attention only reads positions before the one it
 * computes, so rows past n are never seen before they are overwritten). Unload, load and device loss forget it.
 */
import { RbeeError, toRbeeError } from '../errors.ts';
import type { ByteSource } from '../formats/byte-source.ts';
import type { PrefillHooks } from './generation.ts';
import type { ModelDescriptor } from '../formats/descriptor.ts';
import { architectureFor, runnableDescriptor } from './architectures/architecture.ts';
import { type GpuCaps, GpuContext, type GpuLimits } from './device.ts';
import { weightFormat } from './kernels/weight-formats.ts';
import type { DecodeVariants } from './decode-graph.ts';
import type { DecodeProfile } from './decode-profile.ts';
import { MAX_EXCLUDED, MAX_TOP_K } from './kernels/select-token.ts';
import { KernelSet, type SelectedToken, type TokenSelection, TransformerModel } from './model.ts';
import { type GpuMemory, MAX_CHUNK } from './memory-plan.ts';

export interface LoadProgress {
  bytesUploaded: number;
  totalBytes: number;
  tensorsUploaded: number;
  totalTensors: number;
}

export type EngineCaps = GpuCaps;


/**
 * Slicing of an abandonable prefill: slices are sized from the speed measured so far to take about SLICE_TARGET_MS
 * each, so Stop takes effect within about that time on any model and a fast model still reads a prompt in few
 * submissions (each slice costs one submission and one wait for the GPU: a few ms on SwiftShader, where a
 * 150-token stories260K prompt takes about 40 ms). The model's first sliced prefill starts with a short slice, to measure;
 * later ones start from the speed the last one measured. Slices are whole 8-token tiles of the prefill matrix kernel.
 */
export const FIRST_SLICE = 16;
export const SLICE_TARGET_MS = 250;

export interface LoadOptions {
  /** KV cache length in tokens (default: the model's context length, capped at 4096). */
  contextLength?: number;
  onProgress?: (p: LoadProgress) => void;
  signal?: AbortSignal;
  /** Kernel variants of the decode graph (default: chosen for the adapter); tests and benchmarks compare them. */
  decodeVariants?: DecodeVariants;
}

export class WebGpuEngine {
  private ctx: GpuContext;
  private kernels: KernelSet | undefined;
  private model: TransformerModel | undefined;
  /** The tokens whose K/V are in the cache, position by position (its length is the position). */
  private cached: number[] = [];
  /** The loaded model's prefill speed (ms per token) as the last sliced prefill measured it; undefined until then. */
  private prefillMsPerToken: number | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    ctx: GpuContext,
    private readonly requiredLimits: Partial<Record<keyof GpuLimits, number>>,
  ) {
    this.ctx = ctx;
  }

  /** Opens the GPU device; RbeeError('no-webgpu') when there is none. */
  static async create(opts: { requiredLimits?: Partial<Record<keyof GpuLimits, number>> } = {}): Promise<WebGpuEngine> {
    const limits = opts.requiredLimits ?? {};
    return new WebGpuEngine(await GpuContext.open(limits), limits);
  }

  /** The GPU memory the loaded model's load allocated (memory-plan.ts); undefined before a load. */
  get gpuMemory(): GpuMemory | undefined {
    return this.model?.memory;
  }

  get caps(): EngineCaps {
    return this.ctx.caps;
  }

  /** The device, for tests and benchmarks that dispatch kernels directly. */
  get gpu(): GpuContext {
    return this.ctx;
  }

  /** Bytes of weights one decode step reads (every layer matrix and the output projection). */
  get weightBytesPerToken(): number {
    return this.model?.weightBytesPerToken ?? 0;
  }

  /** What a selection may ask (prefillSelect / decodeSelect): excluded ids, top-k, and the vocabulary they share. */
  get selectionLimits(): { maxExcluded: number; maxTopK: number; vocab: number } {
    return { maxExcluded: MAX_EXCLUDED, maxTopK: MAX_TOP_K, vocab: this.model?.arch.hyper.nVocab ?? 0 };
  }

  get contextLength(): number {
    return this.model?.contextLength ?? 0;
  }

  /** Uploads a GGUF or SafeTensors model's weights and allocates its KV cache; replaces any model loaded before. */
  async load(described: ModelDescriptor, sources: ByteSource[], opts: LoadOptions = {}): Promise<void> {
    return this.serial(async () => {
      this.unloadNow();
      this.prefillMsPerToken = undefined;
      if (this.ctx.lost) {
        this.ctx = await GpuContext.open(this.requiredLimits);
        this.kernels = undefined;
      }
      const descriptor = runnableDescriptor(described);
      const arch = architectureFor(descriptor);
      // Fail before uploading anything when a matrix has a type no kernel decodes.
      for (const t of descriptor.tensors) if (t.dims.length >= 2) weightFormat(t.type, t.name);
      const device = this.ctx.device;
      this.kernels ??= new KernelSet(this.ctx);
      const totalBytes = descriptor.tensors.reduce((a, t) => a + (t.size ?? 0), 0);
      const counter = {
        bytes: 0,
        tensors: 0,
        ...(opts.signal ? { signal: opts.signal } : {}),
        report: () =>
          opts.onProgress?.({ bytesUploaded: counter.bytes, totalBytes, tensorsUploaded: counter.tensors, totalTensors: descriptor.tensors.length }),
      };
      device.pushErrorScope('out-of-memory');
      device.pushErrorScope('validation');
      let model: TransformerModel | undefined;
      let failure: unknown;
      try {
        model = await TransformerModel.load(this.ctx, this.kernels, arch, descriptor, sources, counter, opts.contextLength, opts.decodeVariants);
      } catch (e) {
        failure = e;
      }
      const validation = await device.popErrorScope();
      const oom = await device.popErrorScope();
      if (failure === undefined && (oom || validation)) {
        model?.destroy();
        model = undefined;
        failure = oom
          ? new RbeeError('out-of-memory', `The GPU ran out of memory loading this model (${oom.message}).`, {
              hint: 'Use a smaller quantization (Q4_K_M), a shorter context, or close other GPU-heavy tabs.',
            })
          : new RbeeError('internal', `The GPU rejected the model setup: ${validation!.message}`);
      }
      if (failure !== undefined) {
        await this.ctx.settle();
        this.ctx.assertAlive();
        throw toRbeeError(failure);
      }
      this.model = model;
      this.cached = [];
    });
  }

  /**
   * Appends tokens to the KV cache; returns the last token's logits. Without hooks: chunks of at most MAX_CHUNK per
   * submission, queued back to back. With hooks: slices (FIRST_SLICE, then sized to SLICE_TARGET_MS), each waited
   * for, reported and followed by the abort check; an abandoned prefill throws RbeeError('aborted') and the cache
   * holds exactly the slices that ran (`cachedTokens`), which the next prompt can reuse.
   */
  async prefill(tokens: number[], hooks?: PrefillHooks): Promise<Float32Array> {
    return this.prefillThen(tokens, hooks, async (model, chunk, pos0) => (await model.step(chunk, pos0, true))!);
  }

  /** Most tokens one prefillAllPositions call takes (its [T][nVocab] logits are read back in one piece). */
  get allPositionsChunk(): number {
    return this.model?.allPositionsChunk ?? 0;
  }

  /**
   * Appends `tokens` (at most allPositionsChunk) to the KV cache, as prefill does, and returns the logits of every
   * one of them, [tokens.length][nVocab] row-major: teacher-forced scoring (perplexity) reads them all.
   */
  async prefillAllPositions(tokens: number[]): Promise<Float32Array> {
    if (tokens.length === 0) throw new RbeeError('bad-value', 'Scoring needs at least one token.');
    return this.serial(async () => {
      const model = this.loaded();
      const logits = await this.run(() => model.stepAllPositions(tokens, this.cached.length));
      this.cached.push(...tokens);
      return logits;
    });
  }

  /**
   * Like prefill, but the next token's candidates are selected on the GPU (the k best logits outside
   * `selection.exclude`, and the raw logits of those): reads back a few bytes instead of the logits. The result is
   * valid until the next call.
   */
  async prefillSelect(tokens: number[], selection: TokenSelection, hooks?: PrefillHooks): Promise<SelectedToken> {
    return this.prefillThen(tokens, hooks, (model, chunk, pos0) => model.stepSelect(chunk, pos0, selection));
  }

  /** Runs all but the last chunk / slice of a prefill, then `last` on the last (which gives the result). */
  private prefillThen<T>(
    tokens: number[],
    hooks: PrefillHooks | undefined,
    last: (model: TransformerModel, chunk: number[], pos0: number) => Promise<T>,
  ): Promise<T> {
    if (tokens.length === 0) throw new RbeeError('bad-value', 'Prefill needs at least one token.');
    return this.serial(async () => {
      const model = this.loaded();
      const device = this.ctx.device;
      const sliceFor = (msPerToken: number) => Math.min(MAX_CHUNK, Math.max(8, Math.floor(SLICE_TARGET_MS / msPerToken / 8) * 8));
      let size = !hooks ? MAX_CHUNK : this.prefillMsPerToken ? sliceFor(this.prefillMsPerToken) : FIRST_SLICE;
      hooks?.onProgress?.(0, tokens.length);
      for (let i = 0; ; ) {
        if (hooks?.aborted?.()) {
          throw new RbeeError('aborted', `The prompt was abandoned after ${i} of ${tokens.length} tokens.`);
        }
        const chunk = tokens.slice(i, i + size);
        const pos0 = this.cached.length;
        if (i + chunk.length >= tokens.length) {
          const result = await this.run(() => last(model, chunk, pos0));
          this.cached.push(...chunk);
          hooks?.onProgress?.(tokens.length, tokens.length);
          return result;
        }
        const started = performance.now();
        await this.run(async () => {
          await model.step(chunk, pos0, false);
          // Waited for only when abandonable: the abort check and the progress must follow the GPU.
          if (hooks) await device.queue.onSubmittedWorkDone();
        });
        // Recorded only once the chunk ran: a failed step wrote nothing below its first position.
        this.cached.push(...chunk);
        i += chunk.length;
        if (hooks) {
          hooks.onProgress?.(i, tokens.length);
          this.prefillMsPerToken = Math.max(performance.now() - started, 0.001) / chunk.length;
          size = sliceFor(this.prefillMsPerToken);
        }
      }
    });
  }

  /** One token in, the next selected on the GPU (see prefillSelect). */
  async decodeSelect(token: number, selection: TokenSelection): Promise<SelectedToken> {
    return this.serial(async () => {
      const model = this.loaded();
      const selected = await this.run(() => model.stepSelect([token], this.cached.length, selection));
      this.cached.push(token);
      return selected;
    });
  }

  /**
   * Where a decode step's time goes (decode-profile.ts): `steps` greedy decode steps after the cached tokens (their
   * K/V rows are scratch: the cache still holds exactly what it held), timed on the host and per kernel on the GPU.
   */
  async profileDecode(steps = 32): Promise<DecodeProfile> {
    if (!Number.isInteger(steps) || steps < 1) throw new RbeeError('bad-value', `Profile steps must be an integer ≥ 1, not ${steps}.`);
    return this.serial(async () => {
      const model = this.loaded();
      const pos0 = this.cached.length;
      if (pos0 + 1 >= model.contextLength) throw new RbeeError('limit-exceeded', `The context is full (${model.contextLength} tokens).`);
      return this.run(() => model.profileDecode(this.cached.at(-1) ?? 1, pos0, steps));
    });
  }

  /** One token in, its logits out. */
  async decode(token: number): Promise<Float32Array> {
    return this.serial(async () => {
      const model = this.loaded();
      const logits = await this.run(() => model.step([token], this.cached.length, true));
      this.cached.push(token);
      return logits!;
    });
  }

  /** Tokens in the KV cache. */
  get position(): number {
    return this.cachedTokens.length;
  }

  /** The tokens whose K/V the cache holds, in position order (empty with no model or a lost device). */
  get cachedTokens(): readonly number[] {
    return this.model && !this.ctx.lost ? this.cached : [];
  }

  /**
   * Keeps the first `n` cached positions and forgets the rest (logically: their rows are overwritten by the next
   * prefill). Call between steps, not while one is in flight.
   */
  truncate(n: number): void {
    if (!Number.isInteger(n) || n < 0 || n > this.cached.length)
      throw new RbeeError('internal', `Cannot keep ${n} cached positions: the cache holds ${this.cached.length}.`);
    this.cached.length = n;
  }

  /** Clears the KV cache (the model stays loaded): later positions overwrite the old rows. */
  reset(): void {
    this.cached = [];
  }

  /** Frees the model's GPU buffers; the engine can load another model. */
  unload(): void {
    this.unloadNow();
  }

  /** Ends the device too (the engine cannot be used afterwards). */
  destroy(): void {
    this.unloadNow();
    this.ctx.destroy();
  }

  private unloadNow(): void {
    this.model?.destroy();
    this.model = undefined;
    this.cached = [];
  }

  private loaded(): TransformerModel {
    this.ctx.assertAlive();
    if (!this.model) throw new RbeeError('internal', 'No model is loaded.', { hint: 'Load a model first.' });
    return this.model;
  }

  private async run<T>(f: () => Promise<T>): Promise<T> {
    try {
      const r = await f();
      this.ctx.assertAlive();
      return r;
    } catch (e) {
      await this.ctx.settle();
      // Whatever the cache held is gone with the device: nothing may be reused from it.
      if (this.ctx.lost) this.cached = [];
      this.ctx.assertAlive();
      throw toRbeeError(e);
    }
  }

  private serial<T>(f: () => Promise<T>): Promise<T> {
    const next = this.queue.then(f, f);
    this.queue = next.catch(() => undefined);
    return next;
  }
}
