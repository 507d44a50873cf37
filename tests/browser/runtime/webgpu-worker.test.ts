// rbee-web's WebGPU engine behind the ChatEngine interface, on the real thing: WebGpuWorkerEngine over the app's
// inference worker in headless Chromium's WebGPU with stories260K — what the chat page relies on from it: load progress
// and the file's facts, countPrompt equal to the prompt generate then evaluates, streamed text with prompt progress and
// timings, Stop, a model without a tokenizer (BOS alone), a stopped load, and unload.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { EngineProgress } from '../../../src/lib/runtime/engine.ts';
import { WebGpuWorkerEngine } from '../../../src/lib/runtime/webgpu-worker-engine.ts';
import { InferenceClient } from '../../../src/lib/runtime/inference-client.ts';
import type { ModelToLoad } from '../../../src/lib/engine/worker-protocol.ts';
import { fixtureSource } from '../engine/fixture-source.ts';

let model: ModelToLoad;
let engine: WebGpuWorkerEngine;
let ggufBytes: Uint8Array<ArrayBuffer>;

/**
 * stories260K with a vocabulary kind no tokenizer here reads: `tokenizer.ggml.model` "llama" becomes "bogus" (same
 * length, so the file stays valid). The worker then has the vocabulary's pieces but no tokenizer.
 */
function withoutTokenizer(bytes: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> {
  const key = new TextEncoder().encode('tokenizer.ggml.model');
  const at = bytes.findIndex((_, i) => key.every((b, j) => bytes[i + j] === b));
  expect(at).toBeGreaterThan(0);
  const value = at + key.length + 4 + 8; // the value's type (u32, string) and length (u64), then its bytes
  expect(new TextDecoder().decode(bytes.subarray(value, value + 5))).toBe('llama');
  const patched = bytes.slice();
  patched.set(new TextEncoder().encode('bogus'), value);
  return patched;
}

beforeAll(async () => {
  const source = await fixtureSource('models/stories260K.gguf');
  expect(source, 'fixture ../shared/fixtures/models/stories260K.gguf').toBeDefined();
  ggufBytes = new Uint8Array(await source!.read(0, await source!.size()));
  model = { model: { kind: 'local', id: 'test' }, reach: { files: [new File([ggufBytes], 'stories260K.gguf')] } };
  engine = new WebGpuWorkerEngine(model, () => InferenceClient.create());
});
afterAll(() => engine?.unload());

describe('WebGpuWorkerEngine (stories260K, WebGPU)', () => {
  test("load reports the worker's progress and the file's facts", async () => {
    const events: EngineProgress[] = [];
    const info = await engine.load({ contextLength: 256, onProgress: (p) => events.push(p) });
    expect(info).toMatchObject({ engine: 'webgpu', contextLength: 256 });
    expect(info.device).toMatch(/^WebGPU/);
    expect(info.detail).toMatchObject({ architecture: 'llama', hasTokenizer: true, contextLength: 256, chatFormat: { kind: 'plain-fallback' } });
    expect(info.detail!.totalWeightBytes).toBeGreaterThan(0);
    expect(events[0]).toMatchObject({ phase: 'fetching', text: 'Reading the header' });
    const weights = events.filter((e) => e.phase === 'loading');
    expect(weights.length).toBeGreaterThan(0);
    expect(weights.at(-1)!.loadedBytes).toBe(weights.at(-1)!.totalBytes);
    expect(events.at(-1)!.phase).toBe('ready');
  });

  test('countPrompt is the prompt generate evaluates; text streams with prompt progress and timings', async () => {
    const messages = [{ role: 'user' as const, content: 'Once upon a time' }];
    const counted = await engine.countPrompt(messages);
    const pieces: string[] = [];
    const reading: number[] = [];
    const r = await engine.generate({ messages, maxTokens: 12, sampling: { temperature: 0 } }, { onText: (t) => pieces.push(t), onPromptProgress: (done) => reading.push(done) });
    expect(r.text).toMatch(/^, there was a little girl/);
    expect(pieces.join('')).toBe(r.text);
    expect(r).toMatchObject({ stopReason: 'max-tokens', tokens: 12, promptTokens: counted });
    expect(r.timings).toMatchObject({ promptTokens: counted, generatedTokens: 12 });
    expect(r.templateFallback).toBeUndefined();
    expect(reading.length).toBeGreaterThan(0);
  });

  test('Stop ends a reply with what it has, stopReason aborted', async () => {
    const stop = new AbortController();
    let seen = 0;
    const r = await engine.generate(
      { messages: [{ role: 'user', content: 'Lily went to the park' }], maxTokens: 200, sampling: { temperature: 0 } },
      { signal: stop.signal, onText: () => ++seen === 3 && stop.abort() },
    );
    expect(r.stopReason).toBe('aborted');
    expect(r.tokens).toBeLessThan(200);
  });

  test('unload ends the worker: the engine then refuses to generate', async () => {
    await engine.unload();
    await expect(engine.generate({ prompt: 'x', maxTokens: 1, sampling: { temperature: 0 } })).rejects.toMatchObject({ code: 'internal' });
  });

  test('a model without a tokenizer: a conversation is sent as BOS alone, and the model generates from it', async () => {
    const bare = new WebGpuWorkerEngine({ model: { kind: 'local', id: 'test' }, reach: { files: [new File([withoutTokenizer(ggufBytes)], 'stories260K.gguf')] } }, () => InferenceClient.create());
    try {
      const info = await bare.load({ contextLength: 64 });
      expect(info.detail).toMatchObject({ hasTokenizer: false, bosToken: 1 });
      expect(info.detail!.chatFormat).toBeUndefined();
      const r = await bare.generate({ messages: [{ role: 'user', content: '' }], maxTokens: 8, sampling: { temperature: 0 } });
      expect(r).toMatchObject({ promptTokens: 1, tokens: 8, stopReason: 'max-tokens' });
      expect(r.text.length).toBeGreaterThan(0);
    } finally {
      await bare.unload();
    }
  });

  test('a stopped load ends its worker and fails aborted', async () => {
    const stopping = new WebGpuWorkerEngine(model, () => InferenceClient.create());
    const stop = new AbortController();
    const loading = stopping.load({ signal: stop.signal, onProgress: (p) => p.phase === 'loading' && stop.abort() });
    await expect(loading).rejects.toMatchObject({ code: 'aborted' });
    await expect(stopping.countPrompt([{ role: 'user', content: 'x' }])).rejects.toMatchObject({ code: 'internal' });
  });
});
