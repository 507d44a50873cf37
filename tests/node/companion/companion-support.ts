// Shared by the companion protocol tests: raw HTTP (so Origin and Host can be set as a browser or an attacker would),
// the llama.cpp greedy oracle (node-llama-cpp on its own, outside the companion), and in-process companions.
import { request } from 'node:http';
import type { Llama, LlamaModel } from 'node-llama-cpp';
import { AccessPolicy } from '../../../src/server/access-policy.ts';
import type { CompanionBackend } from '../../../src/server/backend.ts';
import { startCompanionServer, type RunningCompanion } from '../../../src/server/server.ts';
import { fixture } from '../../support/fixtures.ts';

export const MODEL = fixture('models/stories260K.gguf');
export const APP_ORIGIN = 'http://127.0.0.1:4319';
export const PROMPT = 'Once upon a time';
/** Loading llama.cpp and a model takes ~1 s alone, but far longer on a busy 2-core machine: hooks get room. */
export const HOOK_TIMEOUT_MS = 90_000;

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export function raw(url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: init.method ?? 'GET', headers: init.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

/** The events of a whole job stream: each `data:` payload in order (the last should be [DONE]). */
export function streamData(body: string): string[] {
  return body
    .split('\n\n')
    .filter((block) => block.startsWith('data: '))
    .map((block) => block.slice('data: '.length));
}

export const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

export async function submit(base: string, token: string, body: Record<string, unknown>): Promise<{ job_id: string; sse_url: string }> {
  const res = await raw(`${base}/v1/jobs`, { method: 'POST', headers: { ...bearer(token), 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (res.status !== 200) throw new Error(`job refused: ${res.status} ${res.body}`);
  return JSON.parse(res.body) as { job_id: string; sse_url: string };
}

/** Runs a job to the end; returns the concatenated text and the parsed events. */
export async function runJob(base: string, token: string, body: Record<string, unknown>): Promise<{ text: string; events: unknown[]; done: boolean; jobId: string }> {
  const { job_id, sse_url } = await submit(base, token, body);
  const res = await raw(`${base}${sse_url}`, { headers: bearer(token) });
  if (res.status !== 200) throw new Error(`stream refused: ${res.status} ${res.body}`);
  const data = streamData(res.body);
  const done = data.at(-1) === '[DONE]';
  const events = (done ? data.slice(0, -1) : data).map((d) => JSON.parse(d) as { type: string; t?: string });
  const text = events.map((e) => ((e as { type: string }).type === 'token' ? (e as { t: string }).t : '')).join('');
  return { text, events, done, jobId: job_id };
}

export const inferBody = (maxTokens: number, prompt = PROMPT): Record<string, unknown> => ({
  operation: 'infer',
  hive_id: 'localhost',
  model: 'stories260K',
  prompt,
  max_tokens: maxTokens,
  temperature: 0,
});

/** llama.cpp's own greedy continuation of `prompt`, computed by node-llama-cpp directly (not through the companion). */
export class GreedyOracle {
  private constructor(
    private readonly llama: Llama,
    private readonly model: LlamaModel,
  ) {}

  static async load(): Promise<GreedyOracle> {
    const { getLlama, LlamaLogLevel } = await import('node-llama-cpp');
    const llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error });
    return new GreedyOracle(llama, await llama.loadModel({ modelPath: MODEL }));
  }

  async continuation(prompt: string, maxTokens: number): Promise<string> {
    const context = await this.model.createContext({ threads: 1, contextSize: 512 });
    try {
      const sequence = context.getSequence();
      const input = [this.model.tokens.bos!, ...this.model.tokenize(prompt, false)];
      const out = [];
      for await (const token of sequence.evaluate(input, { temperature: 0 })) {
        if (this.model.isEogToken(token)) break;
        out.push(token);
        if (out.length >= maxTokens) break;
      }
      return this.model.detokenize(out);
    } finally {
      await context.dispose();
    }
  }

  async dispose(): Promise<void> {
    await this.model.dispose();
    await this.llama.dispose();
  }
}

export async function startInProcess(backend: CompanionBackend, options: { token: string; origins: string[] }): Promise<RunningCompanion> {
  const policy = new AccessPolicy({ token: options.token, allowedOrigins: options.origins, loopbackOnly: true });
  return startCompanionServer({ backend, policy, host: '127.0.0.1', port: 0 });
}

export async function waitFor<T>(probe: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 5000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (ok(value) || Date.now() > until) return value;
    await new Promise((r) => setTimeout(r, 20));
  }
}
