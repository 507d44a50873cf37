// The companion against a hostile page and a lying upstream (issue 13, items 7 and 8), on loopback with real servers:
// page-chosen model / hive_id are checked, queued jobs are bounded (429 + Retry-After), an oversized prompt is refused
// before llama.cpp tokenizes it (413), a malformed job id is 400, and neither the proxy's upstream token nor the
// browser's pairing token ever follows a stream URL to another origin.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { LlamaBackend } from '../../../src/server/llama-backend.ts';
import { MAX_CHARS_PER_CONTEXT_TOKEN } from '../../../src/server/llama-backend.ts';
import { ProxyBackend } from '../../../src/server/proxy-backend.ts';
import { MAX_OPEN_JOBS, type RunningCompanion } from '../../../src/server/server.ts';
import { CompanionClient } from '../../../src/lib/companion/client.ts';
import { isRbeeError } from '../../../src/lib/errors.ts';
import { HAS_FIXTURES } from '../../support/fixtures.ts';
import { APP_ORIGIN, HOOK_TIMEOUT_MS, MODEL, bearer, inferBody, raw, runJob, startInProcess, submit } from './companion-support.ts';

const TOKEN = 'hardening-token-5be1';
const UPSTREAM_TOKEN = 'upstream-token-77aa';

interface Listening {
  server: Server;
  url: string;
  /** The headers of every request this server received, in order. */
  seen: Array<{ url: string; headers: IncomingHttpHeaders }>;
  close(): void;
}

function listen(handler: (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void): Promise<Listening> {
  const seen: Listening['seen'] = [];
  const server = createServer((req, res) => {
    seen.push({ url: req.url ?? '', headers: req.headers });
    handler(req, res);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      resolve({ server, url, seen, close: () => (server.closeAllConnections(), server.close()) });
    }),
  );
}

/** A "worker" (or companion) that answers every job with a stream URL on another origin: where tokens must not go. */
async function startLyingWorker(elsewhere: string): Promise<Listening> {
  return listen((req, res) => {
    const cors = { 'access-control-allow-origin': '*', 'access-control-allow-headers': 'authorization, content-type' };
    if (req.method === 'OPTIONS') return void res.writeHead(204, cors).end();
    if (req.url === '/health') return void res.writeHead(200, { ...cors, 'content-type': 'application/json' }).end('{"status":"healthy"}');
    if (req.url === '/v1/jobs' && req.method === 'POST') {
      req.resume();
      return void res.writeHead(200, { ...cors, 'content-type': 'application/json' }).end(JSON.stringify({ job_id: 'j1', sse_url: `${elsewhere}/v1/jobs/j1/stream` }));
    }
    res.writeHead(404, cors).end();
  });
}

/** The other origin: records who called, and answers like a stream would, so a leak would also "work". */
function startCollector(): Promise<Listening> {
  return listen((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'access-control-allow-origin': '*' });
    res.end('data: {"type":"token","t":"stolen","i":0}\n\ndata: [DONE]\n\n');
  });
}

describe('tokens never follow a stream URL to another origin', () => {
  let collector: Listening;
  let liar: Listening;
  beforeAll(async () => {
    collector = await startCollector();
    liar = await startLyingWorker(collector.url);
  });
  afterAll(() => {
    liar?.close();
    collector?.close();
  });

  test('the browser client refuses an sse_url on another origin, and sends it nothing', async () => {
    const client = new CompanionClient({ url: liar.url, token: TOKEN });
    const error = await client.generate({ prompt: 'hi', maxTokens: 2, temperature: 0 }).catch((e: unknown) => e);
    expect(isRbeeError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'companion', message: expect.stringMatching(/another origin/) });
    expect((error as { hint?: string }).hint).toBeTruthy();
    // The pairing token went to the companion's own origin (the job) and nowhere else.
    expect(liar.seen.some((r) => r.headers.authorization === `Bearer ${TOKEN}`)).toBe(true);
    expect(collector.seen).toEqual([]);
  });

  test('the proxy refuses an upstream sse_url on another origin (502), and never sends it the upstream token', async () => {
    const backend = new ProxyBackend({ upstream: liar.url, upstreamToken: UPSTREAM_TOKEN });
    await backend.connect();
    const front = await startInProcess(backend, { token: TOKEN, origins: [APP_ORIGIN] });
    try {
      const res = await raw(`${front.url}/v1/jobs`, { method: 'POST', headers: { ...bearer(TOKEN), 'content-type': 'application/json' }, body: JSON.stringify({ ...inferBody(2), model: undefined }) });
      expect(res.status).toBe(502);
      expect(JSON.parse(res.body)).toMatchObject({ error: 'upstream', message: expect.stringMatching(/another origin/) });
      await new Promise((r) => setTimeout(r, 200)); // nothing fire-and-forget reaches it later either
      expect(collector.seen).toEqual([]);
      expect(liar.seen.some((r) => r.headers.authorization === `Bearer ${UPSTREAM_TOKEN}`)).toBe(true);
    } finally {
      await front.close();
    }
  });
});

describe.runIf(HAS_FIXTURES)('the companion server bounds what a page may ask (llama.cpp backend, stories260K)', () => {
  let backend: LlamaBackend;
  let companion: RunningCompanion;
  let base: string;
  const post = (body: unknown) =>
    raw(`${base}/v1/jobs`, { method: 'POST', headers: { ...bearer(TOKEN), 'content-type': 'application/json', origin: APP_ORIGIN }, body: JSON.stringify(body) });

  beforeAll(async () => {
    backend = await LlamaBackend.load({ modelPath: MODEL, threads: 1, contextSize: 256, gpu: 'cpu' });
    companion = await startInProcess(backend, { token: TOKEN, origins: [APP_ORIGIN] });
    base = companion.url;
  }, HOOK_TIMEOUT_MS);
  afterAll(async () => {
    await companion?.close();
    await backend?.close();
  }, HOOK_TIMEOUT_MS);

  test('model and hive_id must be plain names: paths, traversal and control characters are 400', async () => {
    const refused: Array<Record<string, unknown>> = [
      { model: '/etc/passwd' },
      { model: '../../secrets' },
      { model: 'org/../../x' },
      { model: 'a\nb' },
      { model: 'x'.repeat(300) },
      { model: 'https://evil.example/m.gguf' },
      { hive_id: '../admin' },
      { hive_id: 'local host' },
      { hive_id: '' },
    ];
    for (const fields of refused) {
      const res = await post({ ...inferBody(2), ...fields });
      expect(res.status, JSON.stringify(fields)).toBe(400);
      const body = JSON.parse(res.body);
      expect(body).toMatchObject({ error: 'bad-request' });
      expect(body.message).toMatch(/'(model|hive_id)'/);
      expect(body.hint).toBeTruthy();
    }
    // Real names pass: a file stem, a Hugging Face repository with a quant tag, rbee's hive id.
    for (const fields of [{ model: 'stories260K' }, { model: 'Qwen/Qwen2.5-0.5B-Instruct-GGUF:Q4_K_M' }, { model: 'llama-3.2-1b.Q4_K_M.gguf' }, { hive_id: 'localhost' }]) {
      const { text } = await runJob(base, TOKEN, { ...inferBody(2), ...fields });
      expect(text.length, JSON.stringify(fields)).toBeGreaterThan(0);
    }
  });

  test('a prompt far beyond the context is 413 before it is tokenized, with a hint', async () => {
    // 256 tokens of context: anything over 256 × MAX_CHARS_PER_CONTEXT_TOKEN characters cannot fit.
    const prompt = 'a'.repeat(256 * MAX_CHARS_PER_CONTEXT_TOKEN + 1);
    const started = performance.now();
    const res = await post(inferBody(2, prompt));
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body)).toMatchObject({ error: 'prompt-too-large', message: expect.stringMatching(/256/), hint: expect.stringMatching(/--context/) });
    expect(performance.now() - started).toBeLessThan(5000);
    expect(res.headers['access-control-allow-origin']).toBe(APP_ORIGIN); // the page can read why
  });

  test('a malformed percent-escape in a job id is 400, not 500', async () => {
    for (const path of ['/v1/jobs/%E0%A4%A/stream', '/v1/jobs/%zz', '/v1/jobs/%']) {
      const res = await raw(`${base}${path}`, { headers: bearer(TOKEN) });
      expect(res.status, path).toBe(400);
      expect(JSON.parse(res.body)).toMatchObject({ error: 'bad-job-id' });
    }
  });

  test(`at most ${MAX_OPEN_JOBS} jobs wait at once: the next is 429 with Retry-After; reading one frees a place`, async () => {
    const waiting: Array<{ sse_url: string }> = [];
    for (let i = 0; i < MAX_OPEN_JOBS; i++) waiting.push(await submit(base, TOKEN, inferBody(1)));
    const refused = await post(inferBody(1));
    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(JSON.parse(refused.body)).toMatchObject({ error: 'too-many-jobs', hint: expect.any(String) });
    expect(refused.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
    // Reading the jobs finishes them; the queue has room again.
    for (const job of waiting) expect((await raw(`${base}${job.sse_url}`, { headers: bearer(TOKEN) })).status).toBe(200);
    expect((await post(inferBody(1))).status).toBe(200);
  });
});
