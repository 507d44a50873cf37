/**
 * The app's side of a native worker: submits a job to a companion (or any rbee worker the page may reach), reads its
 * event stream with fetch (so the pairing token can travel in the Authorization header, and an AbortSignal can close
 * the stream, which cancels the job on the worker), and hands each token's text to the caller as it arrives.
 */
import { RbeeError } from '../errors.ts';
import type { CompanionErrorBody, CompanionInfo, InferRequest, JobCreated, JobEvent } from './protocol.ts';
import { STREAM_DONE } from './protocol.ts';
import { readServerSentEvents } from './sse.ts';
import type { StopReason } from '../engine/worker-protocol.ts';

export interface CompanionEndpoint {
  /** e.g. http://127.0.0.1:7855 */
  url: string;
  /** The pairing token the companion printed (empty for a worker that wants none). */
  token: string;
}

export interface GenerateOptions {
  prompt: string;
  maxTokens: number;
  /** 0 is greedy decoding. */
  temperature: number;
  topP?: number;
  topK?: number;
  /** Aborting stops the generation on the worker too; the promise then resolves with `stopped: true`. */
  signal?: AbortSignal;
  onToken?: (text: string, index: number) => void;
}


export interface GenerationResult {
  text: string;
  /** Why generation ended: the in-browser engine's words (one StopReason), so a chat page treats both alike. */
  stopReason: StopReason;
  tokens: number;
  promptTokens?: number;
  /** From the request to the end of the stream. */
  elapsedMs: number;
  /** From the request to the first token: prompt processing plus the trip to the worker. */
  firstTokenMs?: number;
  /** Decode speed: tokens after the first, over the time after the first. */
  tokensPerSecond: number;
  /** True when the caller's signal stopped it (stopReason 'aborted'). */
  stopped: boolean;
}

/** How long a request that should answer at once (health, info, job submission) may take. */
const REQUEST_TIMEOUT_MS = 10_000;

function unreachable(url: string, cause: unknown): RbeeError {
  return new RbeeError('network', `The native worker at ${url} does not answer.`, {
    hint: 'Is `rbee-web companion` still running? If your browser asked whether this site may reach devices on your local network, allow it.',
    cause,
  });
}

async function refusal(response: Response, url: string): Promise<RbeeError> {
  let body: Partial<CompanionErrorBody> = {};
  try {
    body = (await response.json()) as Partial<CompanionErrorBody>;
  } catch {
    // not JSON: a plain rbee worker, or something else on that port
  }
  const detail = body.message ?? `HTTP ${response.status}`;
  if (response.status === 401) {
    return new RbeeError('companion', `The native worker refused the pairing token: ${detail}`, {
      hint: 'Copy the token from the companion\'s console into Settings (or open the pairing link it printed).',
    });
  }
  if (response.status === 403) {
    return new RbeeError('companion', `The native worker does not accept this page: ${detail}`, {
      hint: `Start the companion with --allow-origin ${globalThis.location?.origin ?? '<this app\'s origin>'}.`,
    });
  }
  return new RbeeError('companion', `The native worker at ${url} refused the request: ${detail}`, body.hint ? { hint: body.hint } : {});
}

export class CompanionClient {
  readonly url: string;
  private readonly token: string;

  constructor(endpoint: CompanionEndpoint) {
    this.url = endpoint.url.replace(/\/+$/, '');
    this.token = endpoint.token.trim();
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return this.token ? { ...extra, authorization: `Bearer ${this.token}` } : extra;
  }

  private async request(path: string, init: RequestInit, signal?: AbortSignal): Promise<Response> {
    const timeout = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
    let response: Response;
    try {
      response = await fetch(`${this.url}${path}`, { ...init, signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
    } catch (cause) {
      if (signal?.aborted) throw new RbeeError('aborted', 'Cancelled.', { cause });
      throw unreachable(this.url, cause);
    }
    if (!response.ok) throw await refusal(response, this.url);
    return response;
  }

  /**
   * Where the job's events are read. The pairing token belongs to the companion's origin: a `sse_url` on any other
   * origin (an absolute URL from a worker that is not what it seems) would carry it away, so it is refused unread.
   */
  private streamUrl(created: JobCreated): URL {
    if (typeof created?.sse_url !== 'string') {
      throw new RbeeError('companion', `The native worker at ${this.url} answered the job without a stream address.`, {
        hint: 'Is this address a rbee worker or `rbee-web companion`? Check it in Settings.',
      });
    }
    const own = new URL(`${this.url}/`);
    const url = new URL(created.sse_url, own);
    if (url.origin !== own.origin) {
      throw new RbeeError('companion', `The native worker at ${own.origin} sent the job's stream to another origin (${url.origin}); it was not opened, and the pairing token was not sent there.`, {
        hint: 'Pair only with a companion you started yourself (Settings → Native worker); a genuine one streams from its own address.',
      });
    }
    return url;
  }

  /** What the companion runs: model and backend (a plain rbee worker has no /v1/info: that is an error here). */
  async info(signal?: AbortSignal): Promise<CompanionInfo> {
    const response = await this.request('/v1/info', { headers: this.headers() }, signal);
    return (await response.json()) as CompanionInfo;
  }

  async generate(options: GenerateOptions): Promise<GenerationResult> {
    const started = performance.now();
    const body: InferRequest = {
      operation: 'infer',
      hive_id: 'localhost',
      prompt: options.prompt,
      max_tokens: options.maxTokens,
      temperature: options.temperature,
      ...(options.topP !== undefined ? { top_p: options.topP } : {}),
      ...(options.topK !== undefined ? { top_k: options.topK } : {}),
    };
    const result: GenerationResult = { text: '', stopReason: 'stop-token', tokens: 0, elapsedMs: 0, tokensPerSecond: 0, stopped: false };
    // The companion caps max_tokens to the room left in its context and says so in the started event.
    let grantedTokens: number | undefined;
    const finish = (): GenerationResult => {
      const end = performance.now();
      result.elapsedMs = end - started;
      const decodeMs = result.firstTokenMs === undefined ? 0 : result.elapsedMs - result.firstTokenMs;
      result.tokensPerSecond = result.tokens > 1 && decodeMs > 0 ? ((result.tokens - 1) * 1000) / decodeMs : 0;
      return result;
    };
    try {
      const created = (await (
        await this.request('/v1/jobs', { method: 'POST', headers: this.headers({ 'content-type': 'application/json' }), body: JSON.stringify(body) }, options.signal)
      ).json()) as JobCreated;
      const streamUrl = this.streamUrl(created);
      let response: Response;
      try {
        // No timeout on the stream: a long answer is fine. Aborting closes it, and the worker stops.
        response = await fetch(streamUrl, { headers: this.headers({ accept: 'text/event-stream' }), signal: options.signal });
      } catch (cause) {
        if (options.signal?.aborted) throw new RbeeError('aborted', 'Cancelled.', { cause });
        throw unreachable(this.url, cause);
      }
      if (!response.ok || !response.body) throw await refusal(response, this.url);
      for await (const message of readServerSentEvents(response.body)) {
        if (message.data === STREAM_DONE) {
          if (result.tokens >= options.maxTokens) result.stopReason = 'max-tokens';
          else if (grantedTokens !== undefined && result.tokens >= grantedTokens) result.stopReason = 'context-full';
          return finish();
        }
        let event: JobEvent;
        try {
          event = JSON.parse(message.data) as JobEvent;
        } catch {
          continue; // an event this client does not know: skip it
        }
        if (event.type === 'started') {
          if (typeof event.prompt_tokens === 'number') result.promptTokens = event.prompt_tokens;
          if (typeof event.max_tokens === 'number') grantedTokens = event.max_tokens;
        } else if (event.type === 'token') {
          if (result.tokens === 0) result.firstTokenMs = performance.now() - started;
          result.tokens++;
          result.text += event.t;
          options.onToken?.(event.t, event.i);
        } else if (event.type === 'error') {
          throw new RbeeError('companion', `The native worker failed: ${event.message} (${event.code}).`, {
            hint: 'The companion\'s console says more. You can continue on WebGPU.',
          });
        }
      }
      throw new RbeeError('companion', `The native worker went away mid-answer (after ${result.tokens} tokens).`, {
        hint: 'Start `rbee-web companion` again, or continue this chat on WebGPU.',
      });
    } catch (e) {
      if (options.signal?.aborted) {
        result.stopped = true;
        result.stopReason = 'aborted';
        return finish();
      }
      if (e instanceof TypeError) {
        // fetch's body stream fails with a TypeError when the connection drops mid-stream
        throw new RbeeError('companion', `The native worker went away mid-answer (after ${result.tokens} tokens).`, {
          hint: 'Start `rbee-web companion` again, or continue this chat on WebGPU.',
          cause: e,
        });
      }
      throw e;
    }
  }
}
