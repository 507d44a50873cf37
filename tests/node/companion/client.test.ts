// The app's companion client and discovery, run in Node against a real in-process companion (fetch is the same API).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { LlamaBackend } from '../../../src/server/llama-backend.ts';
import type { RunningCompanion } from '../../../src/server/server.ts';
import { CompanionClient } from '../../../src/lib/companion/client.ts';
import { discoverNativeWorkers } from '../../../src/lib/companion/discovery.ts';
import { parseHeartbeat } from '../../../src/lib/companion/hive.ts';
import { linkWithoutPairing, loadCompanionSettings, pairingFromLink, saveCompanionSettings } from '../../../src/lib/companion/pairing.ts';
import { readServerSentEvents } from '../../../src/lib/companion/sse.ts';
import { isRbeeError } from '../../../src/lib/errors.ts';
import { HAS_FIXTURES } from '../../support/fixtures.ts';
import { APP_ORIGIN, HOOK_TIMEOUT_MS, GreedyOracle, MODEL, PROMPT, startInProcess } from './companion-support.ts';

const TOKEN = 'client-test-token-99';

function streamOf(chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const c of chunks) controller.enqueue(encoder.encode(c));
      controller.close();
    },
  });
}

async function collect(chunks: string[]) {
  const out = [];
  for await (const e of readServerSentEvents(streamOf(chunks))) out.push(e);
  return out;
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

describe('server-sent events from a fetch body', () => {
  test('events split across chunks, CRLF and CR line ends, multi-line data, comments', async () => {
    const events = await collect(['data: {"type":"tok', 'en","t":"a"}\r\n\r\n: keep-alive\n\nevent: heartbeat\r', '\ndata: one\ndata: two\n\n', 'data: [DONE]\r\r']);
    expect(events).toEqual([
      { event: 'message', data: '{"type":"token","t":"a"}', id: undefined },
      { event: 'heartbeat', data: 'one\ntwo', id: undefined },
      { event: 'message', data: '[DONE]', id: undefined },
    ]);
  });

  test('a multi-byte character split between chunks arrives whole; an unterminated last event is dropped', async () => {
    const bytes = new TextEncoder().encode('data: café ☕\n\ndata: cut off');
    const split = 9; // inside "é"
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(bytes.slice(0, split));
        c.enqueue(bytes.slice(split));
        c.close();
      },
    });
    const events = [];
    for await (const e of readServerSentEvents(stream)) events.push(e.data);
    expect(events).toEqual(['café ☕']);
  });
});

describe('hive heartbeats and pairing links', () => {
  test('LLM workers come from the heartbeat with the hive\'s host and their own port', () => {
    const workers = parseHeartbeat(
      { workers: [{ id: 'w1', group: 'llm', instance: '8080', model: 'llama-3-8b' }, { group: 'image', instance: '8081', model: 'sd' }, { group: 'llm', instance: 'http://0.0.0.0:8082', model: 'qwen' }, { group: 'llm', instance: 'nonsense' }] },
      'http://localhost:7835',
    );
    expect(workers).toEqual([
      { url: 'http://localhost:8080', model: 'llama-3-8b', id: 'w1' },
      { url: 'http://localhost:8082', model: 'qwen', id: undefined },
    ]);
    expect(parseHeartbeat({ nothing: true }, 'http://localhost:7835')).toEqual([]);
  });

  test('a pairing link fills URL and token; the link is cleaned of them afterwards', () => {
    const href = 'https://app.example/settings?companion=http%3A%2F%2F127.0.0.1%3A7855&token=abc-123&x=1';
    expect(pairingFromLink(href)).toEqual({ url: 'http://127.0.0.1:7855', token: 'abc-123' });
    expect(linkWithoutPairing(href)).toBe('https://app.example/settings?x=1');
    expect(pairingFromLink('https://app.example/settings')).toBeNull();
    expect(() => pairingFromLink('https://app.example/settings?companion=javascript:alert(1)')).toThrow(/not an http/);
  });

  test('settings round-trip through storage; bare host:port gets http://', () => {
    const map = new Map<string, string>();
    const storage = { getItem: (k: string) => map.get(k) ?? null, setItem: (k: string, v: string) => void map.set(k, v), removeItem: (k: string) => void map.delete(k) };
    expect(loadCompanionSettings(storage)).toBeNull();
    saveCompanionSettings({ url: '127.0.0.1:7855/', token: ' t0k3n ' }, storage);
    expect(loadCompanionSettings(storage)).toEqual({ url: 'http://127.0.0.1:7855', token: 't0k3n' });
    map.set('rbee-web:companion', '{broken');
    expect(loadCompanionSettings(storage)).toBeNull();
  });
});

describe.runIf(HAS_FIXTURES)('CompanionClient and discovery against a running companion', () => {
  let backend: LlamaBackend;
  let companion: RunningCompanion;
  let oracle: GreedyOracle;

  beforeAll(async () => {
    backend = await LlamaBackend.load({ modelPath: MODEL, threads: 1, contextSize: 2048, gpu: 'cpu' });
    companion = await startInProcess(backend, { token: TOKEN, origins: [APP_ORIGIN] });
    oracle = await GreedyOracle.load();
  }, HOOK_TIMEOUT_MS);
  afterAll(async () => {
    await companion?.close();
    await backend?.close();
    await oracle?.dispose();
  }, HOOK_TIMEOUT_MS);

  test('generate() streams tokens through onToken and returns the greedy text with stats', async () => {
    const client = new CompanionClient({ url: companion.url, token: TOKEN });
    const pieces: string[] = [];
    const result = await client.generate({ prompt: PROMPT, maxTokens: 32, temperature: 0, onToken: (t) => pieces.push(t) });
    expect(result.text).toBe(await oracle.continuation(PROMPT, 32));
    expect(pieces.join('')).toBe(result.text);
    expect(result).toMatchObject({ tokens: 32, promptTokens: 5, stopped: false, stopReason: 'max-tokens' });
    expect(result.tokensPerSecond).toBeGreaterThan(0);
  });

  test('aborting stops the worker and resolves with what came so far', async () => {
    const client = new CompanionClient({ url: companion.url, token: TOKEN });
    const controller = new AbortController();
    const result = await client.generate({
      prompt: PROMPT,
      maxTokens: 1500,
      temperature: 0,
      signal: controller.signal,
      onToken: (_t, i) => i === 4 && controller.abort(),
    });
    expect(result.stopped).toBe(true);
    expect(result.stopReason).toBe('aborted');
    expect(result.tokens).toBeGreaterThanOrEqual(5);
    expect(result.tokens).toBeLessThan(1500);
    expect((await oracle.continuation(PROMPT, 1500)).startsWith(result.text)).toBe(true);
  });

  test('a companion that goes away mid-answer is a clear error (the chat can offer WebGPU instead)', async () => {
    const doomed = await startInProcess(backend, { token: TOKEN, origins: [] });
    const client = new CompanionClient({ url: doomed.url, token: TOKEN });
    const error = await client
      .generate({ prompt: PROMPT, maxTokens: 1500, temperature: 0, onToken: (_t, i) => i === 3 && void doomed.close() })
      .catch((e: unknown) => e);
    expect(isRbeeError(error) && error.code).toBe('companion');
    expect((error as Error).message).toMatch(/went away mid-answer \(after \d+ tokens\)/);
    expect(isRbeeError(error) && error.hint).toMatch(/WebGPU/);
    // The shared model is free again afterwards.
    const idle = await new CompanionClient({ url: companion.url, token: TOKEN }).generate({ prompt: PROMPT, maxTokens: 4, temperature: 0 });
    expect(idle.tokens).toBe(4);
  });

  test('a prompt that nearly fills the context ends with stopReason context-full', async () => {
    let prompt = PROMPT;
    while (backend.tokenizePrompt(prompt).length < 2048 - 6) prompt += ' a';
    const room = 2048 - backend.tokenizePrompt(prompt).length;
    const result = await new CompanionClient({ url: companion.url, token: TOKEN }).generate({ prompt, maxTokens: 50, temperature: 0 });
    expect(result.tokens).toBe(room);
    expect(result.stopReason).toBe('context-full');
  });

  test('a wrong token is a companion error that says how to pair', async () => {
    const client = new CompanionClient({ url: companion.url, token: 'not-the-token' });
    const error = await client.generate({ prompt: PROMPT, maxTokens: 2, temperature: 0 }).catch((e: unknown) => e);
    expect(isRbeeError(error) && error.code).toBe('companion');
    expect(String((error as Error).message)).toMatch(/pairing token/);
  });

  test('a companion that is not there is a network error, quickly', async () => {
    const client = new CompanionClient({ url: `http://127.0.0.1:${await closedPort()}`, token: TOKEN });
    const error = await client.info().catch((e: unknown) => e);
    expect(isRbeeError(error) && error.code).toBe('network');
  });

  test('discovery finds the configured companion with its model and backend, and checks the token', async () => {
    const nowhere = `http://127.0.0.1:${await closedPort()}`;
    const started = Date.now();
    const found = await discoverNativeWorkers({ configured: { url: companion.url, token: TOKEN }, candidates: { companions: [nowhere], hives: [nowhere] } });
    expect(Date.now() - started).toBeLessThan(8000); // probes run in parallel with 1.5 s timeouts
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ kind: 'companion', url: companion.url, tokenAccepted: true, info: { model: 'stories260K', backend: 'cpu' } });
    const unpaired = await discoverNativeWorkers({ configured: { url: companion.url, token: 'wrong-token' }, candidates: { companions: [], hives: [] } });
    expect(unpaired[0]).toMatchObject({ kind: 'companion', tokenAccepted: false });
  });

  test('discovery reads a hive\'s heartbeat and advises a proxy companion for its workers', async () => {
    const hive: Server = createServer((req, res) => {
      if (req.url === '/health') return void res.end('ok');
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`event: heartbeat\ndata: ${JSON.stringify({ workers: [{ group: 'llm', instance: 8080, model: 'llama-3-8b' }] })}\n\n`);
    });
    await new Promise<void>((r) => hive.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(hive.address() as AddressInfo).port}`;
    try {
      const found = await discoverNativeWorkers({ candidates: { companions: [], hives: [url] } });
      expect(found).toEqual([
        { kind: 'hive', url, workers: [{ url: 'http://127.0.0.1:8080', model: 'llama-3-8b', id: undefined }], advice: expect.stringContaining(`rbee-web companion --proxy ${url}`) },
      ]);
    } finally {
      hive.closeAllConnections();
      hive.close();
    }
  });
});
