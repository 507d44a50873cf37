// The companion's protocol, in process: rbee's worker routes, the job stream, every refusal, and cancellation.
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { LlamaBackend } from '../../../src/server/llama-backend.ts';
import type { RunningCompanion } from '../../../src/server/server.ts';
import type { CompanionInfo } from '../../../src/lib/companion/protocol.ts';
import { HAS_FIXTURES } from '../../support/fixtures.ts';
import { APP_ORIGIN, HOOK_TIMEOUT_MS, GreedyOracle, MODEL, PROMPT, bearer, inferBody, raw, runJob, startInProcess, submit, waitFor } from './companion-support.ts';

const TOKEN = 'server-test-token-7f3a';

describe.runIf(HAS_FIXTURES)('companion server (llama.cpp backend, stories260K)', () => {
  let backend: LlamaBackend;
  let companion: RunningCompanion;
  let oracle: GreedyOracle;
  let base: string;

  beforeAll(async () => {
    backend = await LlamaBackend.load({ modelPath: MODEL, threads: 1, contextSize: 2048, gpu: 'cpu' });
    companion = await startInProcess(backend, { token: TOKEN, origins: [APP_ORIGIN] });
    base = companion.url;
    oracle = await GreedyOracle.load();
  }, HOOK_TIMEOUT_MS);
  afterAll(async () => {
    await companion?.close();
    await backend?.close();
    await oracle?.dispose();
  }, HOOK_TIMEOUT_MS);

  test('GET /health answers like a rbee worker', async () => {
    const res = await raw(`${base}/health`);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ status: 'healthy' });
  });

  test('GET /v1/info names the model and where it runs', async () => {
    const info = JSON.parse((await raw(`${base}/v1/info`)).body) as CompanionInfo;
    expect(info).toMatchObject({ service: 'rbee-web-companion', mode: 'llama', model: 'stories260K', backend: 'cpu', threads: 1, context_size: 2048, busy: false });
  });

  test('a job streams started, tokens and [DONE]; temperature 0 is llama.cpp greedy', async () => {
    const expected = await oracle.continuation(PROMPT, 40);
    expect(expected.startsWith(', there was a little girl named Lily. She loved to play')).toBe(true);
    const { text, events, done, jobId } = await runJob(base, TOKEN, inferBody(40));
    expect(done).toBe(true);
    expect(events[0]).toMatchObject({ type: 'started', prompt_tokens: 5 });
    const tokens = events.slice(1) as Array<{ type: string; i: number }>;
    expect(tokens).toHaveLength(40);
    expect(tokens.map((e) => e.i)).toEqual([...Array(40).keys()]);
    expect(text).toBe(expected);
    const status = JSON.parse((await raw(`${base}/v1/jobs/${jobId}`, { headers: bearer(TOKEN) })).body);
    expect(status).toEqual({ job_id: jobId, state: 'done', tokens: 40 });
  });

  test('jobs run one after another on a clean context: two at once both give the greedy text', async () => {
    const expected = await oracle.continuation(PROMPT, 25);
    const [a, b] = await Promise.all([runJob(base, TOKEN, inferBody(25)), runJob(base, TOKEN, inferBody(25))]);
    expect(a.text).toBe(expected);
    expect(b.text).toBe(expected);
  });

  test('a stream can be read once: the second read is 409 with a message', async () => {
    const { job_id, sse_url } = await submit(base, TOKEN, inferBody(3));
    expect((await raw(`${base}${sse_url}`, { headers: bearer(TOKEN) })).status).toBe(200);
    const again = await raw(`${base}${sse_url}`, { headers: bearer(TOKEN) });
    expect(again.status).toBe(409);
    expect(JSON.parse(again.body)).toMatchObject({ error: 'stream-consumed' });
    expect(JSON.parse(again.body).message).toMatch(new RegExp(`${job_id}.*read once`));
  });

  test('an unknown job is 404, with and without /stream', async () => {
    for (const path of ['/v1/jobs/no-such-job/stream', '/v1/jobs/no-such-job']) {
      const res = await raw(`${base}${path}`, { headers: bearer(TOKEN) });
      expect(res.status).toBe(404);
      expect(JSON.parse(res.body)).toMatchObject({ error: 'unknown-job' });
    }
  });

  test('malformed JSON and bad fields are 400 with a message naming the problem', async () => {
    const post = (body: string) => raw(`${base}/v1/jobs`, { method: 'POST', headers: { ...bearer(TOKEN), 'content-type': 'application/json' }, body });
    const malformed = await post('{"operation": "infer", "prompt": ');
    expect(malformed.status).toBe(400);
    expect(JSON.parse(malformed.body)).toMatchObject({ error: 'malformed-json' });
    expect(JSON.parse(malformed.body).message).toMatch(/not valid JSON/);
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ ...inferBody(5), operation: 'embed' }, /'operation' must be "infer"/],
      [{ ...inferBody(5), prompt: '' }, /'prompt' must be a non-empty string/],
      [{ ...inferBody(5), max_tokens: 0 }, /'max_tokens' must be an integer/],
      [{ ...inferBody(5), max_tokens: undefined }, /'max_tokens' is required/],
      [{ ...inferBody(5), temperature: -1 }, /'temperature' must be/],
      [{ ...inferBody(5), top_p: 2 }, /'top_p' must be/],
    ];
    for (const [body, message] of cases) {
      const res = await post(JSON.stringify(body));
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(JSON.parse(res.body).message).toMatch(message);
    }
    const tooLong = await post(JSON.stringify(inferBody(5, 'Once upon a time '.repeat(600))));
    expect(tooLong.status).toBe(400);
    expect(JSON.parse(tooLong.body)).toMatchObject({ error: 'prompt-too-long' });
  });

  test('wrong methods are 405, unknown routes 404, oversized bodies 413', async () => {
    expect((await raw(`${base}/v1/jobs`, { headers: bearer(TOKEN) })).status).toBe(405);
    expect((await raw(`${base}/health`, { method: 'POST' })).status).toBe(405);
    expect((await raw(`${base}/v2/whatever`)).status).toBe(404);
    const huge = await raw(`${base}/v1/jobs`, { method: 'POST', headers: bearer(TOKEN), body: 'x'.repeat(5 * 1024 * 1024) });
    expect(huge.status).toBe(413);
    expect(JSON.parse(huge.body)).toMatchObject({ error: 'too-large' });
  });

  test('every job request needs the pairing token: missing or wrong is 401, on the stream too', async () => {
    const body = JSON.stringify(inferBody(3));
    const missing = await raw(`${base}/v1/jobs`, { method: 'POST', body });
    expect(missing.status).toBe(401);
    expect(missing.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(JSON.parse(missing.body)).toMatchObject({ error: 'missing-token' });
    const wrong = await raw(`${base}/v1/jobs`, { method: 'POST', headers: bearer('server-test-token-7f3b'), body });
    expect(wrong.status).toBe(401);
    expect(JSON.parse(wrong.body)).toMatchObject({ error: 'wrong-token' });

    const { sse_url } = await submit(base, TOKEN, inferBody(3));
    expect((await raw(`${base}${sse_url}`)).status).toBe(401);
    expect((await raw(`${base}${sse_url}`, { headers: bearer('nope-nope-nope') })).status).toBe(401);
    // The refused reads did not consume the stream: its owner still gets it.
    expect((await raw(`${base}${sse_url}`, { headers: bearer(TOKEN) })).status).toBe(200);
  });

  test('pages on other origins are refused (403, no CORS headers); the app origin gets CORS', async () => {
    for (const [method, path] of [['GET', '/health'], ['GET', '/v1/info'], ['POST', '/v1/jobs'], ['OPTIONS', '/v1/jobs']] as const) {
      const res = await raw(`${base}${path}`, {
        method,
        headers: { origin: 'https://evil.example', ...bearer(TOKEN), 'access-control-request-method': 'POST' },
        body: method === 'POST' ? JSON.stringify(inferBody(3)) : undefined,
      });
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
    }
    const allowed = await raw(`${base}/health`, { headers: { origin: APP_ORIGIN } });
    expect(allowed.status).toBe(200);
    expect(allowed.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
    expect(allowed.headers['vary']).toMatch(/Origin/);
    // "null" (sandboxed iframes, file://) is an origin too, and not an allowed one.
    expect((await raw(`${base}/health`, { headers: { origin: 'null' } })).status).toBe(403);
  });

  test('a preflight from the app origin allows the token header and private network access', async () => {
    const res = await raw(`${base}/v1/jobs`, {
      method: 'OPTIONS',
      headers: {
        origin: APP_ORIGIN,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type',
        'access-control-request-private-network': 'true',
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
    expect(res.headers['access-control-allow-private-network']).toBe('true');
    expect(String(res.headers['access-control-allow-headers']).toLowerCase()).toContain('authorization');
    expect(String(res.headers['access-control-allow-methods'])).toContain('POST');
  });

  test('a DNS-rebinding Host name is refused even without an Origin header', async () => {
    const port = new URL(base).port;
    const res = await raw(`${base}/v1/info`, { headers: { host: `rebind.attacker.example:${port}` } });
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body)).toMatchObject({ error: 'forbidden-host' });
    expect((await raw(`${base}/health`, { headers: { host: `localhost:${port}` } })).status).toBe(200);
  });

  test('closing the stream cancels the job: the generation loop stops', async () => {
    const info = async (): Promise<CompanionInfo> => JSON.parse((await raw(`${base}/v1/info`)).body) as CompanionInfo;
    const before = (await info()).tokens_generated;
    const { job_id, sse_url } = await submit(base, TOKEN, inferBody(1500));
    // Read until three tokens arrived, then hang up.
    await new Promise<void>((resolve, reject) => {
      const req = request(`${base}${sse_url}`, { headers: bearer(TOKEN) }, (res) => {
        let tokens = 0;
        res.on('data', (chunk: Buffer) => {
          tokens += chunk.toString().split('"type":"token"').length - 1;
          if (tokens >= 3) {
            req.destroy();
            resolve();
          }
        });
      });
      req.on('error', (e) => ((e as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(e)));
      req.end();
    });
    const status = await waitFor(
      async () => JSON.parse((await raw(`${base}/v1/jobs/${job_id}`, { headers: bearer(TOKEN) })).body) as { state: string },
      (s) => s.state === 'cancelled',
    );
    expect(status.state).toBe('cancelled');
    const stopped = await waitFor(info, (i) => !i.busy);
    expect(stopped.busy).toBe(false);
    await new Promise((r) => setTimeout(r, 300));
    const later = await info();
    // Nothing generated after the stop, and far fewer than the 1500 asked for (1500 take ~3 s here).
    expect(later.tokens_generated).toBe(stopped.tokens_generated);
    expect(later.tokens_generated - before).toBeLessThan(200);
    // The model is free again: the next job runs and is still greedy-correct.
    expect((await runJob(base, TOKEN, inferBody(8))).text).toBe(await oracle.continuation(PROMPT, 8));
  });
});
