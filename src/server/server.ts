/**
 * The companion's HTTP surface: rbee's worker protocol (GET /health, POST /v1/jobs, GET /v1/jobs/:id/stream) plus
 * GET /v1/info and GET /v1/jobs/:id, behind the access policy (origin, host, pairing token). Jobs are read once: the
 * stream is the job, closing it cancels the job, and a second reader is refused.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CompanionInfo, JobCreated, JobEvent } from '../lib/companion/protocol.ts';
import { STREAM_DONE } from '../lib/companion/protocol.ts';
import { isRbeeError } from '../lib/errors.ts';
import type { AccessPolicy } from './access-policy.ts';
import type { CompanionBackend, PreparedJob } from './backend.ts';
import { CompanionHttpError } from './http-error.ts';
import { MAX_BODY_BYTES, parseInferRequest } from './job-request.ts';

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** A job nobody streams is dropped after this long (the client that posted it went away). */
export const UNREAD_JOB_TTL_MS = 60_000;
/** Finished jobs are remembered (to answer a second read with 409, not 404) up to this many. */
const FINISHED_JOBS_KEPT = 1000;
/**
 * Jobs created and not yet finished (unread, or streaming / waiting for the model), at most. The app runs one job per
 * tab at a time, so 16 covers a user's tabs and a script; without a bound a page could queue thousands (each holding
 * its tokenized prompt) that the model would then work through for hours.
 */
export const MAX_OPEN_JOBS = 16;
/** What a refused client is told to wait: about one short job's time; unread jobs expire after UNREAD_JOB_TTL_MS anyway. */
const RETRY_AFTER_S = 5;

type JobState = 'waiting' | 'streaming' | 'done' | 'cancelled' | 'failed' | 'expired';

interface JobRecord {
  id: string;
  state: JobState;
  tokens: number;
  prepared?: PreparedJob;
  expiry?: NodeJS.Timeout;
}

export interface CompanionServerOptions {
  backend: CompanionBackend;
  policy: AccessPolicy;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
}

export interface RunningCompanion {
  server: Server;
  url: string;
  port: number;
  close(): Promise<void>;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  const tooLarge = (): CompanionHttpError => new CompanionHttpError(413, 'too-large', `The request body is over ${MAX_BODY_BYTES} bytes.`, { connection: 'close' });
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > MAX_BODY_BYTES) {
      req.resume(); // discard it, so the client is still there to read the 413
      return reject(tooLarge());
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        chunks.length = 0; // stop keeping it; the rest is read and dropped
        reject(tooLarge());
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** A job id from the path; a malformed percent-escape is the client's mistake (400), not the server's (500). */
function decodeJobId(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new CompanionHttpError(400, 'bad-job-id', `'${segment.slice(0, 80)}' is not a job id (malformed percent-escape).`, {}, 'Use the job_id or sse_url that POST /v1/jobs returned, unchanged.');
  }
}

export class CompanionServer {
  private readonly jobs = new Map<string, JobRecord>();
  private readonly finished: string[] = [];
  readonly server: Server;

  constructor(private readonly options: CompanionServerOptions) {
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  async listen(): Promise<RunningCompanion> {
    const host = this.options.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port ?? 0, host, () => resolve());
    });
    const { port } = this.server.address() as AddressInfo;
    const shownHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
    return {
      server: this.server,
      port,
      url: `http://${shownHost}:${port}`,
      close: () => this.close(),
    };
  }

  async close(): Promise<void> {
    for (const job of this.jobs.values()) if (job.expiry) clearTimeout(job.expiry);
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { policy } = this.options;
    let origin: string | undefined;
    try {
      const originHeader = typeof req.headers.origin === 'string' ? req.headers.origin : undefined;
      origin = policy.checkRequester(originHeader, req.headers.host);
      const path = new URL(req.url ?? '/', 'http://companion').pathname;

      if (req.method === 'OPTIONS') {
        if (origin === undefined) {
          res.writeHead(204, { allow: 'GET, POST, OPTIONS' });
        } else {
          res.writeHead(204, policy.preflightHeaders(origin));
        }
        res.end();
        return;
      }
      const cors = policy.corsHeaders(origin);

      if (path === '/health') {
        this.allowMethods(req, 'GET');
        return sendJson(res, 200, { status: 'healthy' }, cors);
      }
      if (path === '/v1/info') {
        this.allowMethods(req, 'GET');
        const info: CompanionInfo = { service: 'rbee-web-companion', version: VERSION, ...(await this.options.backend.describe()) };
        return sendJson(res, 200, info, cors);
      }
      if (path === '/v1/jobs') {
        this.allowMethods(req, 'POST');
        policy.checkToken(req.headers.authorization);
        const request = parseInferRequest(await readBody(req));
        if (this.openJobs() >= MAX_OPEN_JOBS) {
          throw new CompanionHttpError(
            429,
            'too-many-jobs',
            `${MAX_OPEN_JOBS} jobs are already waiting for this companion's model.`,
            { 'retry-after': String(RETRY_AFTER_S) },
            `Wait for a running answer to finish (or stop one), then send again; retry after ${RETRY_AFTER_S} s.`,
          );
        }
        const id = randomUUID();
        const prepared = await this.options.backend.prepare(request, id);
        const record: JobRecord = { id, state: 'waiting', tokens: 0, prepared };
        record.expiry = setTimeout(() => this.expire(record), UNREAD_JOB_TTL_MS);
        record.expiry.unref();
        this.jobs.set(id, record);
        const created: JobCreated = { job_id: id, sse_url: `/v1/jobs/${id}/stream` };
        return sendJson(res, 200, created, cors);
      }
      const match = /^\/v1\/jobs\/([^/]+)(\/stream)?$/.exec(path);
      if (match) {
        this.allowMethods(req, 'GET');
        policy.checkToken(req.headers.authorization);
        const record = this.jobs.get(decodeJobId(match[1]!));
        if (!record) throw new CompanionHttpError(404, 'unknown-job', `There is no job '${match[1]}' (never created, or expired unread after ${UNREAD_JOB_TTL_MS / 1000} s).`);
        if (!match[2]) return sendJson(res, 200, { job_id: record.id, state: record.state, tokens: record.tokens }, cors);
        if (record.state !== 'waiting' || !record.prepared) {
          throw new CompanionHttpError(409, 'stream-consumed', `Job ${record.id}'s stream was already read (the job is ${record.state}); a stream can be read once. Submit a new job.`);
        }
        return await this.stream(record, res, cors);
      }
      throw new CompanionHttpError(404, 'not-found', `No route ${req.method} ${path}. This is a rbee worker: GET /health, GET /v1/info, POST /v1/jobs, GET /v1/jobs/:id/stream.`);
    } catch (e) {
      if (res.headersSent) return void res.destroy();
      const headers = e instanceof CompanionHttpError && e.status !== 403 ? { ...policy.corsHeaders(origin), ...e.headers } : {};
      if (e instanceof CompanionHttpError) return sendJson(res, e.status, e.body(), headers);
      // An upstream worker that is not there, a model that failed: the companion itself is fine, its backend is not.
      if (isRbeeError(e)) return sendJson(res, 502, { error: e.code, message: e.message, hint: e.hint }, policy.corsHeaders(origin));
      console.error('rbee-web companion: internal error:', e);
      sendJson(res, 500, { error: 'internal', message: `Internal error: ${e instanceof Error ? e.message : String(e)}` }, policy.corsHeaders(origin));
    }
  }

  /** Jobs that will still use the model: created and unread, or streaming (running or waiting their turn). */
  private openJobs(): number {
    let open = 0;
    for (const job of this.jobs.values()) if (job.state === 'waiting' || job.state === 'streaming') open++;
    return open;
  }

  private allowMethods(req: IncomingMessage, method: 'GET' | 'POST'): void {
    if (req.method !== method) throw new CompanionHttpError(405, 'method-not-allowed', `Use ${method} here.`, { allow: method });
  }

  private expire(record: JobRecord): void {
    if (record.state !== 'waiting') return;
    record.prepared?.discard();
    this.jobs.delete(record.id);
  }

  private remember(record: JobRecord): void {
    record.prepared = undefined;
    this.finished.push(record.id);
    while (this.finished.length > FINISHED_JOBS_KEPT) this.jobs.delete(this.finished.shift()!);
  }

  private async stream(record: JobRecord, res: ServerResponse, cors: Record<string, string>): Promise<void> {
    const prepared = record.prepared!;
    clearTimeout(record.expiry);
    record.state = 'streaming';
    const abort = new AbortController();
    // The connection closing before we end the response is the client cancelling: stop generating.
    const onClose = (): void => {
      if (!res.writableFinished) abort.abort(new Error('client disconnected'));
    };
    res.on('close', onClose);
    res.writeHead(200, {
      ...cors,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.flushHeaders();
    const write = async (data: string): Promise<void> => {
      if (abort.signal.aborted) return;
      if (!res.write(`data: ${data}\n\n`)) {
        await new Promise<void>((resolve) => {
          res.once('drain', resolve);
          abort.signal.addEventListener('abort', () => resolve(), { once: true });
        });
      }
    };
    const events = prepared.events(abort.signal);
    try {
      for (;;) {
        const next = await events.next();
        if (next.done || abort.signal.aborted) break;
        const event: JobEvent = next.value;
        if (event.type === 'token') record.tokens++;
        if (event.type === 'error') record.state = 'failed';
        await write(JSON.stringify(event));
      }
    } catch (e) {
      if (!abort.signal.aborted) {
        record.state = 'failed';
        const message = e instanceof Error ? e.message : String(e);
        await write(JSON.stringify({ type: 'error', code: isRbeeError(e) ? e.code : 'internal', message }));
      }
    } finally {
      // Runs the backend's cleanup (and, mid-generation, stops its loop) whether we finished or the client left.
      await events.return(undefined).catch(() => {});
      res.off('close', onClose);
    }
    if (abort.signal.aborted) {
      record.state = 'cancelled';
    } else {
      if (record.state === 'streaming') record.state = 'done';
      await write(STREAM_DONE);
      res.end();
    }
    this.remember(record);
  }
}

export async function startCompanionServer(options: CompanionServerOptions): Promise<RunningCompanion> {
  return new CompanionServer(options).listen();
}
