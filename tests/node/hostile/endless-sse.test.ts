// SSE streams with no end to an event (issue 13, item 5): an upstream that streams `data: xxxx…` and never ends the
// line, or adds data lines forever without the blank line that dispatches. The reader (used by the browser client,
// hive discovery and the companion proxy) must stop at a named limit with a typed error and cancel the stream.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readServerSentEvents, SSE_LIMITS } from '../../../src/lib/companion/sse.ts';
import { ProxyBackend } from '../../../src/server/proxy-backend.ts';
import { isRbeeError } from '../../../src/lib/errors.ts';
import type { JobEvent } from '../../../src/lib/companion/protocol.ts';

/** What a hostile upstream offers at most (bounded loop), far past any limit. */
const FLOOD_BYTES = 1024 * 1024 * 1024;
const encoder = new TextEncoder();

/** A body that starts with `head` and then repeats `unit` up to FLOOD_BYTES; `pulled` counts bytes handed out. */
function endless(head: string, unit: string): { stream: ReadableStream<Uint8Array>; pulled: () => number; cancelled: () => boolean } {
  const block = encoder.encode(unit.repeat(Math.ceil(65536 / unit.length)));
  let pulled = 0;
  let cancelled = false;
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(encoder.encode(head));
    },
    pull(c) {
      if (pulled >= FLOOD_BYTES) return c.close();
      pulled += block.byteLength;
      c.enqueue(block);
    },
    cancel() {
      cancelled = true;
    },
  });
  return { stream, pulled: () => pulled, cancelled: () => cancelled };
}

async function drain(stream: ReadableStream<Uint8Array>): Promise<{ events: number; error: unknown }> {
  let events = 0;
  try {
    for await (const _ of readServerSentEvents(stream)) events++;
    return { events, error: undefined };
  } catch (e) {
    return { events, error: e };
  }
}

describe('readServerSentEvents limits', () => {
  it('a line that never ends: limit-exceeded, stream cancelled after about the limit', async () => {
    const body = endless('event: token\ndata: ok\n\ndata: ', 'x');
    const started = performance.now();
    const { events, error } = await drain(body.stream);
    expect(events).toBe(1); // the complete event before it still arrives
    expect(isRbeeError(error) && error.code).toBe('limit-exceeded');
    expect((error as Error).message).toMatch(/event/);
    expect(body.cancelled()).toBe(true);
    expect(body.pulled()).toBeLessThan(SSE_LIMITS.eventChars * 2);
    expect(performance.now() - started).toBeLessThan(20_000);
  });

  it('data lines forever without the blank line that ends the event: the same', async () => {
    const body = endless('', 'data: 0123456789abcdef\n');
    const { events, error } = await drain(body.stream);
    expect(events).toBe(0);
    expect(isRbeeError(error) && error.code).toBe('limit-exceeded');
    expect(body.cancelled()).toBe(true);
    expect(body.pulled()).toBeLessThan(SSE_LIMITS.eventChars * 2);
  });

  it('many events, each within the limit, keep flowing (the limit is per event, not per stream)', async () => {
    const one = `data: ${'y'.repeat(1000)}\n\n`;
    const count = Math.ceil((SSE_LIMITS.eventChars * 3) / one.length);
    const bytes = encoder.encode(one.repeat(count));
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (let at = 0; at < bytes.byteLength; at += 65536) c.enqueue(bytes.subarray(at, at + 65536));
        c.close();
      },
    });
    const { events, error } = await drain(stream);
    expect(error).toBeUndefined();
    expect(events).toBe(count);
  });
});

describe('the companion proxy in front of an upstream that never ends an event', () => {
  let server: Server;
  let url: string;
  let streamed = 0;
  let streamClosedEarly = false;

  beforeAll(async () => {
    const chunk = 'z'.repeat(65536);
    server = createServer((req, res) => {
      if (req.url === '/health') return void res.end('healthy'); // a worker, not a hive
      if (req.url === '/v1/jobs' && req.method === 'POST') {
        req.resume();
        return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ job_id: 'j1', sse_url: '/v1/jobs/j1/stream' }));
      }
      if (req.url === '/v1/jobs/j1/stream') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: ');
        res.on('close', () => {
          if (streamed < FLOOD_BYTES) streamClosedEarly = true;
        });
        const pump = (): void => {
          while (streamed < FLOOD_BYTES && !res.destroyed) {
            streamed += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          res.end();
        };
        return pump();
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('relays a typed error event and hangs up on the upstream', async () => {
    const proxy = new ProxyBackend({ upstream: url });
    await proxy.connect();
    const job = await proxy.prepare({ prompt: 'hi', max_tokens: 4 } as never);
    const events: JobEvent[] = [];
    const started = performance.now();
    for await (const e of job.events(new AbortController().signal)) events.push(e);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'error', code: 'upstream' });
    expect((events[0] as { message: string }).message).toMatch(/longer than/);
    expect(performance.now() - started).toBeLessThan(20_000);
    await new Promise((r) => setTimeout(r, 100));
    expect(streamClosedEarly).toBe(true);
    expect(streamed).toBeLessThan(64 * 1024 * 1024);
  });
});
