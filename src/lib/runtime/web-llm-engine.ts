/**
 * web-llm (MLC builds) behind the ChatEngine interface. The library is imported on first load (it is large), runs in
 * the page, fetches the build's weights from the hub into its own cache (Cache API) and the compiled model library
 * from the record's model_lib URL.
 */
import { RbeeError } from '../errors.ts';
import type { ChatEngine, EngineGenerateOptions, EngineGenerateRequest, EngineGenerationResult, EngineLoadOptions, EngineModelInfo } from './engine.ts';
import { finishTiming } from './engine.ts';
import { rememberWebLlmRecord } from './web-llm-cache.ts';
import { webLlmError } from './web-llm-errors.ts';
import { mapWebLlmProgress } from './web-llm-progress.ts';
import type { MlcModelRecord } from './web-llm-records.ts';
import type { StopReason } from '../engine/worker-protocol.ts';

type WebLlm = typeof import('@mlc-ai/web-llm');
type MLCEngine = import('@mlc-ai/web-llm').MLCEngine;

/** How the library is loaded; tests and the worker variant may pass another. */
export type WebLlmImport = () => Promise<WebLlm>;
const importWebLlm: WebLlmImport = () => import('@mlc-ai/web-llm');

export function stopReasonOf(finish: string | null | undefined): StopReason {
  if (finish === 'length') return 'max-tokens';
  if (finish === 'abort') return 'aborted';
  return 'stop-token';
}

export class WebLlmEngine implements ChatEngine {
  readonly kind = 'web-llm' as const;
  private engine: MLCEngine | undefined;

  constructor(
    readonly record: MlcModelRecord,
    private readonly load_: WebLlmImport = importWebLlm,
  ) {}

  async load(options: EngineLoadOptions = {}): Promise<EngineModelInfo> {
    const started = performance.now();
    const id = this.record.model_id;
    if (options.signal?.aborted) throw new RbeeError('aborted', 'Cancelled.');
    let lib: WebLlm;
    try {
      lib = await this.load_();
    } catch (e) {
      throw new RbeeError('internal', `The web-llm library could not be loaded: ${(e as Error)?.message ?? e}`, { cause: e });
    }
    let device = 'WebGPU';
    const engine = new lib.MLCEngine({
      appConfig: { model_list: [this.record as import('@mlc-ai/web-llm').ModelRecord] },
      logLevel: 'WARN',
      initProgressCallback: (report) => {
        const p = mapWebLlmProgress(report);
        if (p.phase === 'ready') device = report.text.replace(/^Finish loading on /, '');
        options.onProgress?.(p);
      },
    });
    const onAbort = () => void engine.unload().catch(() => undefined);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await engine.reload(id, this.record.overrides?.context_window_size ? { context_window_size: this.record.overrides.context_window_size } : undefined);
    } catch (e) {
      throw webLlmError(e, id);
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
    }
    // web-llm's reload() returns quietly when unload() aborts it.
    if (options.signal?.aborted) throw new RbeeError('aborted', 'Cancelled.');
    this.engine = engine;
    // The library page lists what web-llm stored; it can only ask about builds it knows.
    rememberWebLlmRecord(this.record);
    return {
      engine: 'web-llm',
      name: id,
      device,
      ...(this.record.overrides?.context_window_size ? { contextLength: this.record.overrides.context_window_size } : {}),
      loadSeconds: (performance.now() - started) / 1000,
    };
  }

  async generate(request: EngineGenerateRequest, options: EngineGenerateOptions = {}): Promise<EngineGenerationResult> {
    const engine = this.engine;
    if (!engine) throw new RbeeError('internal', 'No MLC model is loaded: call load() first.');
    const started = performance.now();
    let firstAt: number | undefined;
    let text = '';
    let pieces = 0;
    let finish: string | null | undefined;
    let usage: { completion_tokens?: number; prompt_tokens?: number } | undefined;
    const onAbort = () => void engine.interruptGenerate();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const sampling = {
      max_tokens: request.maxTokens,
      temperature: request.sampling.temperature,
      ...(request.sampling.topP !== undefined ? { top_p: request.sampling.topP } : {}),
      ...(request.sampling.seed !== undefined ? { seed: request.sampling.seed } : {}),
      stream: true as const,
      stream_options: { include_usage: true },
    };
    const take = (delta: string | null | undefined, reason: string | null | undefined): void => {
      if (delta) {
        firstAt ??= performance.now();
        pieces++;
        text += delta;
        options.onText?.(delta);
      }
      if (reason) finish = reason;
    };
    try {
      if (options.signal?.aborted) return this.result(text, 'aborted', pieces, usage, started, firstAt);
      if (request.messages) {
        const stream = await engine.chat.completions.create({ ...sampling, messages: request.messages.map((m) => ({ role: m.role, content: m.content })) as never });
        for await (const chunk of stream) {
          const choice = chunk.choices[0];
          take(choice?.delta?.content, choice?.finish_reason);
          if (chunk.usage) usage = chunk.usage;
        }
      } else {
        const stream = await engine.completions.create({ ...sampling, prompt: request.prompt ?? '' });
        for await (const chunk of stream) {
          const choice = chunk.choices[0];
          take(choice?.text, choice?.finish_reason);
          if (chunk.usage) usage = chunk.usage;
        }
      }
    } catch (e) {
      if (options.signal?.aborted) return this.result(text, 'aborted', pieces, usage, started, firstAt);
      throw webLlmError(e, this.record.model_id);
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
    }
    return this.result(text, options.signal?.aborted ? 'aborted' : stopReasonOf(finish), pieces, usage, started, firstAt);
  }

  private result(
    text: string,
    stopReason: StopReason,
    pieces: number,
    usage: { completion_tokens?: number; prompt_tokens?: number } | undefined,
    started: number,
    firstAt: number | undefined,
  ): EngineGenerationResult {
    const tokens = usage?.completion_tokens ?? pieces;
    return { text, stopReason, tokens, ...(usage?.prompt_tokens !== undefined ? { promptTokens: usage.prompt_tokens } : {}), ...finishTiming(started, firstAt, tokens) };
  }

  async unload(): Promise<void> {
    const engine = this.engine;
    this.engine = undefined;
    if (engine) await engine.unload().catch(() => undefined);
  }
}
