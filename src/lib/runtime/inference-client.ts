/**
 * InferenceClient: the main thread's handle on the inference worker. Promises for requests, callbacks for the
 * events they stream (load progress, generated tokens), AbortSignals for stopping; errors arrive as RbeeError with
 * the worker's code, message and hint. The page, the CLI's browser harness and the tests all use this one class.
 *
 *   const client = InferenceClient.create();
 *   const info = await client.load({ model: { kind: 'remote', source: url } }, { onProgress: (p) => … });
 *   const result = await client.generate({ prompt: { tokens: [1, 403] }, sampling: { temperature: 0 }, maxTokens: 64 },
 *                                        { onToken: (step) => … , signal });
 */
import { RbeeError } from '../errors.ts';
import type {
  DecodeProfile,
  GeneratedStep,
  GenerateRequestOptions,
  GenerationResult,
  LoadedModelInfo,
  LoadProgressEvent,
  ModelToLoad,
  Prompt,
  ScoreRequestOptions,
  ScoreResult,
  WorkerEvent,
  WorkerRequest,
} from '../engine/worker-protocol.ts';

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: RbeeError) => void;
  onEvent?: (event: WorkerEvent) => void;
}

/** Request payloads without the id the client assigns. */
type Outgoing = WorkerRequest extends infer R ? (R extends WorkerRequest ? Omit<R, 'id'> : never) : never;

export interface InferenceClientOptions {
  /** How to start the worker (the harness passes a bundled worker's URL); default: Vite's worker import. */
  createWorker?: () => Worker;
}

export class InferenceClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private terminated = false;

  private constructor(private readonly worker: Worker) {
    worker.onmessage = (e: MessageEvent<WorkerEvent>) => this.receive(e.data);
    worker.onerror = (e: ErrorEvent) => {
      e.preventDefault?.();
      this.failAll(new RbeeError('internal', `The inference worker failed: ${e.message || 'it could not start'}.`, {
        hint: 'Reload the page; if it happens again, report it with the browser’s console output.',
      }));
    };
  }

  static create(options: InferenceClientOptions = {}): InferenceClient {
    const worker = options.createWorker
      ? options.createWorker()
      : new Worker(new URL('../../workers/inference.worker.ts', import.meta.url), { type: 'module', name: 'rbee-inference' });
    return new InferenceClient(worker);
  }

  /** Loads a model (replacing any loaded one); resolves when its weights are on the GPU. */
  load(model: ModelToLoad, options: { contextLength?: number; onProgress?: (p: LoadProgressEvent) => void; signal?: AbortSignal } = {}): Promise<LoadedModelInfo> {
    return this.request(
      { type: 'load', ...model, ...(options.contextLength !== undefined ? { contextLength: options.contextLength } : {}) },
      (event) => {
        if (event.type === 'progress') options.onProgress?.(event.progress);
      },
      options.signal,
    ) as Promise<LoadedModelInfo>;
  }

  /**
   * Generates; `onPromptProgress` sees how much of the prompt has been read (after each prefill slice), `onToken`
   * each step as it is produced. An aborted generation resolves (stopReason 'aborted'), during the prompt too.
   */
  generate(
    request: GenerateRequestOptions,
    options: { onToken?: (step: GeneratedStep) => void; onPromptProgress?: (done: number, total: number) => void; signal?: AbortSignal } = {},
  ): Promise<GenerationResult> {
    return this.request(
      { type: 'generate', ...request },
      (event) => {
        if (event.type === 'token') options.onToken?.(event.step);
        else if (event.type === 'prompt-progress') options.onPromptProgress?.(event.done, event.total);
      },
      options.signal,
    ) as Promise<GenerationResult>;
  }

  tokenize(text: string, addSpecial = true): Promise<number[]> {
    return this.request({ type: 'tokenize', text, addSpecial }) as Promise<number[]>;
  }

  /**
   * How many tokens `prompt` becomes in the loaded model — exactly the promptTokens a generate with it would
   * evaluate (a conversation rendered with its chat template or fallback, special tokens and BOS included).
   */
  countPrompt(prompt: Prompt): Promise<number> {
    return this.request({ type: 'count-prompt', prompt }) as Promise<number>;
  }

  /** Teacher-forced log-probabilities of a text or ids under the loaded model (perplexity; see scoring.ts). */
  score(request: ScoreRequestOptions, options: { signal?: AbortSignal } = {}): Promise<ScoreResult> {
    return this.request({ type: 'score', ...request }, undefined, options.signal) as Promise<ScoreResult>;
  }

  /** Where a decode step's time goes, for the loaded model (see the `profile` request in protocol.ts). */
  profileDecode(steps?: number): Promise<DecodeProfile> {
    return this.request({ type: 'profile', ...(steps !== undefined ? { steps } : {}) }) as Promise<DecodeProfile>;
  }

  unload(): Promise<void> {
    return this.request({ type: 'unload' }) as Promise<void>;
  }

  /** Stops the worker at once (its GPU device goes with it); pending requests fail with 'aborted'. */
  terminate(): void {
    if (this.terminated) return;
    this.terminated = true;
    this.worker.terminate();
    this.failAll(new RbeeError('aborted', 'The inference worker was stopped.'));
  }

  private request(payload: Outgoing, onEvent?: (event: WorkerEvent) => void, signal?: AbortSignal): Promise<unknown> {
    if (this.terminated) return Promise.reject(new RbeeError('aborted', 'The inference worker was stopped.'));
    if (signal?.aborted) return Promise.reject(new RbeeError('aborted', 'Cancelled.'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const onAbort = () => this.worker.postMessage({ type: 'abort', id: this.nextId++, target: id } satisfies WorkerRequest);
      signal?.addEventListener('abort', onAbort, { once: true });
      const cleanup = () => signal?.removeEventListener('abort', onAbort);
      this.pending.set(id, {
        resolve: (v) => {
          cleanup();
          resolve(v);
        },
        reject: (e) => {
          cleanup();
          reject(e);
        },
        ...(onEvent ? { onEvent } : {}),
      });
      this.worker.postMessage({ ...payload, id } as WorkerRequest);
    });
  }

  private receive(event: WorkerEvent): void {
    const pending = this.pending.get(event.id);
    if (!pending) return;
    switch (event.type) {
      case 'progress':
      case 'prompt-progress':
      case 'token':
        pending.onEvent?.(event);
        return;
      case 'error':
        this.pending.delete(event.id);
        pending.reject(new RbeeError(event.error.code, event.error.message, event.error.hint ? { hint: event.error.hint } : {}));
        return;
      case 'loaded':
        this.pending.delete(event.id);
        pending.resolve(event.model);
        return;
      case 'done':
      case 'scored':
        this.pending.delete(event.id);
        pending.resolve(event.result);
        return;
      case 'tokenized':
      case 'prompt-counted':
        this.pending.delete(event.id);
        pending.resolve(event.tokens);
        return;
      case 'profiled':
        this.pending.delete(event.id);
        pending.resolve(event.profile);
        return;
      case 'unloaded':
        this.pending.delete(event.id);
        pending.resolve(undefined);
        return;
    }
  }

  private failAll(error: RbeeError): void {
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }
}
