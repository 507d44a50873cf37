/**
 * Forwards jobs to a running rbee worker — or to the LLM worker a rbee hive reports — and lets the companion add what
 * browsers need and rbee's worker does not send: CORS for the app's origin, Private Network Access, the pairing token.
 * The worker keeps doing the work (candle on CUDA / Metal / CPU); events pass through unchanged.
 */
import { redactUrl } from '../lib/url-redaction.ts';
import type { CompanionInfo, InferRequest, JobCreated, JobEvent } from '../lib/companion/protocol.ts';
import { STREAM_DONE } from '../lib/companion/protocol.ts';
import { readHiveWorkers } from '../lib/companion/hive.ts';
import { readServerSentEvents } from '../lib/companion/sse.ts';
import { RbeeError } from '../lib/errors.ts';
import type { BackendDescription, CompanionBackend, PreparedJob } from './backend.ts';
import { CompanionHttpError } from './http-error.ts';

export interface ProxyBackendOptions {
  /** A worker (GET /health → {"status":"healthy"}) or a hive (GET /health → "ok"). */
  upstream: string;
  /** Sent as `Authorization: Bearer …` to the worker, when it wants one. */
  upstreamToken?: string;
  /** How long to wait for the worker's answers before giving up on a request (not on a stream). */
  timeoutMs?: number;
}

interface Upstream {
  workerUrl: string;
  model: string;
  backend: string;
  viaHive?: string;
}

export class ProxyBackend implements CompanionBackend {
  busy = false;
  tokensGenerated = 0;
  private resolved: Upstream | undefined;
  private readonly timeoutMs: number;

  constructor(private readonly options: ProxyBackendOptions) {
    this.timeoutMs = options.timeoutMs ?? 5000;
  }

  /** Checks the upstream answers and finds the worker (through the hive if it is one). Called at start-up. */
  async connect(): Promise<BackendDescription> {
    this.resolved = undefined;
    return this.describe();
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return this.options.upstreamToken ? { ...extra, authorization: `Bearer ${this.options.upstreamToken}` } : extra;
  }

  private async upstreamFetch(url: string | URL, init: RequestInit = {}): Promise<Response> {
    try {
      return await fetch(url, { ...init, signal: init.signal ?? AbortSignal.timeout(this.timeoutMs) });
    } catch (cause) {
      throw new RbeeError('companion', `The rbee worker at ${new URL(url).origin} does not answer: ${cause instanceof Error ? cause.message : String(cause)}.`, {
        hint: 'Check that the worker (or hive) is running and that --proxy names its address.',
        cause,
      });
    }
  }

  private async resolve(): Promise<Upstream> {
    if (this.resolved) return this.resolved;
    const base = this.options.upstream;
    const health = await this.upstreamFetch(new URL('/health', base));
    const text = (await health.text()).trim();
    if (!health.ok) throw new RbeeError('companion', `${base}/health answered HTTP ${health.status}.`, { hint: 'Is --proxy the address of a rbee worker or hive?' });
    if (text === 'ok') {
      // A hive: ask it which LLM workers it runs and take the first.
      const workers = await readHiveWorkers(base, { signal: AbortSignal.timeout(this.timeoutMs), fetch });
      const worker = workers[0];
      if (!worker) {
        throw new RbeeError('companion', `The rbee hive at ${base} runs no LLM worker.`, { hint: 'Start one (rbee worker spawn …), then start the companion again.' });
      }
      this.resolved = { workerUrl: worker.url, model: worker.model, backend: 'rbee worker', viaHive: base };
    } else {
      this.resolved = { workerUrl: new URL(base).origin, model: 'unknown model', backend: 'rbee worker' };
    }
    // A companion upstream (or a worker that grew an info route) says exactly what runs where.
    const info = await this.upstreamFetch(new URL('/v1/info', this.resolved.workerUrl), { headers: this.headers() }).catch(() => undefined);
    if (info?.ok) {
      const body = (await info.json().catch(() => undefined)) as Partial<CompanionInfo> | undefined;
      if (typeof body?.model === 'string') this.resolved.model = body.model;
      if (typeof body?.backend === 'string') this.resolved.backend = body.backend;
    }
    return this.resolved;
  }

  async describe(): Promise<BackendDescription> {
    const upstream = await this.resolve();
    return {
      mode: 'proxy',
      model: upstream.model,
      backend: upstream.backend,
      // Shown to the app and printed at start-up: a --proxy URL typed with credentials keeps them to itself.
      upstream: redactUrl(upstream.workerUrl),
      busy: this.busy,
      tokens_generated: this.tokensGenerated,
    };
  }

  async prepare(request: InferRequest): Promise<PreparedJob> {
    let upstream = await this.resolve();
    let response: Response;
    try {
      response = await this.submit(upstream, request);
    } catch (e) {
      // Workers come and go behind a hive (restarts move ports): look again once before failing.
      if (!upstream.viaHive) throw e;
      this.resolved = undefined;
      upstream = await this.resolve();
      response = await this.submit(upstream, request);
    }
    const body = await response.text();
    if (!response.ok) {
      const status = response.status >= 400 && response.status < 500 ? response.status : 502;
      throw new CompanionHttpError(status, 'upstream', `The rbee worker refused the job (HTTP ${response.status}): ${body.slice(0, 500)}`);
    }
    let created: JobCreated;
    try {
      created = JSON.parse(body) as JobCreated;
      if (typeof created.sse_url !== 'string') throw new Error('no sse_url');
    } catch {
      throw new CompanionHttpError(502, 'upstream', `The rbee worker answered the job with something other than {job_id, sse_url}: ${body.slice(0, 200)}`);
    }
    const streamUrl = new URL(created.sse_url, upstream.workerUrl);
    // The upstream token is for the worker the user named (--proxy, or the worker its hive reports on the same host):
    // a stream URL on any other origin would receive it, so such an answer is refused, and nothing is fetched there.
    if (streamUrl.origin !== new URL(upstream.workerUrl).origin) {
      throw new CompanionHttpError(
        502,
        'upstream',
        `The rbee worker at ${new URL(upstream.workerUrl).origin} put the job's stream on another origin (${streamUrl.origin}); the companion reads streams only from the worker itself.`,
        {},
        'Point --proxy at the worker (or hive) that runs the model; a worker must answer with a stream on its own address.',
      );
    }
    const backend = this;
    let opened = false;
    return {
      discard: () => {
        // Unread upstream jobs would wait forever for a reader: open and close the stream to cancel them.
        if (!opened) void fetch(streamUrl, { headers: backend.headers(), signal: AbortSignal.timeout(1000) }).then((r) => r.body?.cancel()).catch(() => {});
      },
      async *events(signal: AbortSignal): AsyncGenerator<JobEvent> {
        opened = true;
        yield* backend.relay(streamUrl, signal);
      },
    };
  }

  private submit(upstream: Upstream, request: InferRequest): Promise<Response> {
    return this.upstreamFetch(new URL('/v1/jobs', upstream.workerUrl), {
      method: 'POST',
      headers: this.headers({ 'content-type': 'application/json' }),
      body: JSON.stringify(request),
    });
  }

  private async *relay(streamUrl: URL, signal: AbortSignal): AsyncGenerator<JobEvent> {
    // No timeout on the stream itself (a long generation is fine); the client's disconnect aborts it.
    const upstream = new AbortController();
    const stop = (): void => upstream.abort();
    signal.addEventListener('abort', stop, { once: true });
    this.busy = true;
    try {
      const response = await fetch(streamUrl, { headers: this.headers({ accept: 'text/event-stream' }), signal: upstream.signal });
      if (!response.ok || !response.body) {
        yield { type: 'error', code: 'upstream', message: `The rbee worker refused the stream (HTTP ${response.status}): ${(await response.text()).slice(0, 300)}` };
        return;
      }
      for await (const message of readServerSentEvents(response.body)) {
        if (message.data === STREAM_DONE) return;
        let event: JobEvent;
        try {
          event = JSON.parse(message.data) as JobEvent;
        } catch {
          continue; // not one of the protocol's events; pass nothing we cannot read
        }
        if (event.type === 'token') this.tokensGenerated++;
        yield event;
      }
      yield { type: 'error', code: 'upstream-closed', message: 'The rbee worker closed the stream before it finished.' };
    } catch (e) {
      if (signal.aborted) return;
      yield { type: 'error', code: 'upstream', message: `Lost the rbee worker mid-stream: ${e instanceof Error ? e.message : String(e)}` };
    } finally {
      signal.removeEventListener('abort', stop);
      upstream.abort(); // leaving early (client gone) closes the worker's stream, which cancels the job there
      this.busy = false;
    }
  }

  async close(): Promise<void> {}
}
