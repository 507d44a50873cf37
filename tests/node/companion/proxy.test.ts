// Proxy mode: a companion in front of a rbee worker that sends no CORS (here: a second companion started with no
// allowed origins and its own token, standing in for llm-worker-rbee), directly and through a rbee hive's heartbeat.
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { LlamaBackend } from '../../../src/server/llama-backend.ts';
import { ProxyBackend } from '../../../src/server/proxy-backend.ts';
import type { RunningCompanion } from '../../../src/server/server.ts';
import type { CompanionInfo } from '../../../src/lib/companion/protocol.ts';
import { HAS_FIXTURES } from '../../support/fixtures.ts';
import { APP_ORIGIN, HOOK_TIMEOUT_MS, GreedyOracle, MODEL, PROMPT, bearer, inferBody, raw, runJob, startInProcess, submit, waitFor } from './companion-support.ts';

const WORKER_TOKEN = 'worker-side-token-1';
const PROXY_TOKEN = 'browser-side-token-2';

/** A stand-in rbee-hive: /health → "ok", and a heartbeat listing one LLM worker and one image worker. */
function startFakeHive(workerPort: number): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    if (req.url === '/health') return void res.end('ok');
    if (req.url === '/v1/heartbeats/stream') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'access-control-allow-origin': '*' });
      const heartbeat = { hive_id: 'localhost', workers: [{ id: 'sd-1', group: 'image', instance: '9', model: 'sdxl' }, { id: 'llm-1', group: 'llm', instance: String(workerPort), model: 'stories260K' }] };
      res.write(`event: heartbeat\ndata: ${JSON.stringify(heartbeat)}\n\n`);
      return; // a hive keeps the stream open; the reader leaves after the first heartbeat
    }
    res.writeHead(404).end();
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })));
}

describe.runIf(HAS_FIXTURES)('companion --proxy', () => {
  let worker: LlamaBackend;
  let workerServer: RunningCompanion;
  let proxy: RunningCompanion;
  let hive: { server: Server; url: string };
  let hiveProxy: RunningCompanion;
  let oracle: GreedyOracle;

  beforeAll(async () => {
    worker = await LlamaBackend.load({ modelPath: MODEL, threads: 1, contextSize: 2048, gpu: 'cpu' });
    workerServer = await startInProcess(worker, { token: WORKER_TOKEN, origins: [] });
    const direct = new ProxyBackend({ upstream: workerServer.url, upstreamToken: WORKER_TOKEN });
    await direct.connect();
    proxy = await startInProcess(direct, { token: PROXY_TOKEN, origins: [APP_ORIGIN] });
    hive = await startFakeHive(workerServer.port);
    const viaHive = new ProxyBackend({ upstream: hive.url, upstreamToken: WORKER_TOKEN });
    await viaHive.connect();
    hiveProxy = await startInProcess(viaHive, { token: PROXY_TOKEN, origins: [APP_ORIGIN] });
    oracle = await GreedyOracle.load();
  }, HOOK_TIMEOUT_MS);
  afterAll(async () => {
    await hiveProxy?.close();
    await proxy?.close();
    hive?.server.closeAllConnections();
    hive?.server.close();
    await workerServer?.close();
    await worker?.close();
    await oracle?.dispose();
  }, HOOK_TIMEOUT_MS);

  test('the worker alone refuses the app page (no CORS for it); the proxy answers it with CORS and PNA', async () => {
    const fromApp = { origin: APP_ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-private-network': 'true' };
    const direct = await raw(`${workerServer.url}/v1/jobs`, { method: 'OPTIONS', headers: fromApp });
    expect(direct.status).toBe(403);
    expect(direct.headers['access-control-allow-origin']).toBeUndefined();
    const proxied = await raw(`${proxy.url}/v1/jobs`, { method: 'OPTIONS', headers: fromApp });
    expect(proxied.status).toBe(204);
    expect(proxied.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
    expect(proxied.headers['access-control-allow-private-network']).toBe('true');
  });

  test('/v1/info says proxy, and what the worker runs', async () => {
    const info = JSON.parse((await raw(`${proxy.url}/v1/info`, { headers: { origin: APP_ORIGIN } })).body) as CompanionInfo;
    expect(info).toMatchObject({ mode: 'proxy', model: 'stories260K', backend: 'cpu', upstream: workerServer.url });
  });

  test('a job through the proxy streams the worker\'s greedy text, with CORS', async () => {
    const { text, done } = await runJob(proxy.url, PROXY_TOKEN, inferBody(30));
    expect(done).toBe(true);
    expect(text).toBe(await oracle.continuation(PROMPT, 30));
    const { sse_url } = await submit(proxy.url, PROXY_TOKEN, inferBody(2));
    const stream = await raw(`${proxy.url}${sse_url}`, { headers: { ...bearer(PROXY_TOKEN), origin: APP_ORIGIN } });
    expect(stream.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
    expect(stream.body.trim().endsWith('data: [DONE]')).toBe(true);
  });

  test('the proxy wants its own pairing token, not the worker\'s', async () => {
    const res = await raw(`${proxy.url}/v1/jobs`, { method: 'POST', headers: bearer(WORKER_TOKEN), body: JSON.stringify(inferBody(2)) });
    expect(res.status).toBe(401);
  });

  test('worker refusals reach the client (400 with the worker\'s message)', async () => {
    const res = await raw(`${proxy.url}/v1/jobs`, { method: 'POST', headers: bearer(PROXY_TOKEN), body: JSON.stringify(inferBody(2, 'Once upon a time '.repeat(600))) });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).message).toMatch(/prompt is \d+ tokens/);
  });

  test('closing the proxied stream cancels the job on the worker', async () => {
    const workerInfo = async (): Promise<CompanionInfo> => JSON.parse((await raw(`${workerServer.url}/v1/info`)).body) as CompanionInfo;
    const { sse_url } = await submit(proxy.url, PROXY_TOKEN, inferBody(1500));
    await new Promise<void>((resolve, reject) => {
      const req = request(`${proxy.url}${sse_url}`, { headers: bearer(PROXY_TOKEN) }, (res) => {
        res.on('data', (chunk: Buffer) => {
          if (chunk.toString().includes('"type":"token"')) {
            req.destroy();
            resolve();
          }
        });
      });
      req.on('error', (e) => ((e as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(e)));
      req.end();
    });
    const idle = await waitFor(workerInfo, (i) => !i.busy);
    expect(idle.busy).toBe(false);
    await new Promise((r) => setTimeout(r, 300));
    const later = await workerInfo();
    expect(later.tokens_generated).toBe(idle.tokens_generated);
    // 30 + 2 + this job's few tokens; had the worker gone on, 1500 more.
    expect(later.tokens_generated).toBeLessThan(300);
  });

  test('a worker that dies mid-stream becomes an error event, then [DONE]', async () => {
    const shortLived = await startInProcess(worker, { token: WORKER_TOKEN, origins: [] });
    const backend = new ProxyBackend({ upstream: shortLived.url, upstreamToken: WORKER_TOKEN });
    const front = await startInProcess(backend, { token: PROXY_TOKEN, origins: [APP_ORIGIN] });
    try {
      const { sse_url } = await submit(front.url, PROXY_TOKEN, inferBody(1500));
      const body = await new Promise<string>((resolve, reject) => {
        const req = request(`${front.url}${sse_url}`, { headers: bearer(PROXY_TOKEN) }, (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => {
            text += chunk.toString();
            if (text.includes('"i":2}')) void shortLived.close();
          });
          res.on('end', () => resolve(text));
        });
        req.on('error', reject);
        req.end();
      });
      const data = body.split('\n\n').filter((b) => b.startsWith('data: ')).map((b) => b.slice(6));
      expect(data.at(-1)).toBe('[DONE]');
      expect(JSON.parse(data.at(-2)!)).toMatchObject({ type: 'error', code: expect.stringMatching(/^upstream/) });
    } finally {
      await front.close();
    }
  });

  test('through a hive: the proxy finds the LLM worker in its heartbeat and runs jobs on it', async () => {
    const info = JSON.parse((await raw(`${hiveProxy.url}/v1/info`)).body) as CompanionInfo;
    expect(info).toMatchObject({ mode: 'proxy', model: 'stories260K', upstream: `http://127.0.0.1:${workerServer.port}` });
    const { text } = await runJob(hiveProxy.url, PROXY_TOKEN, inferBody(12));
    expect(text).toBe(await oracle.continuation(PROMPT, 12));
  });
});
