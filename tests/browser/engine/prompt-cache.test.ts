// Prompt caching on the real thing: the app's inference worker (InferenceClient) in headless Chromium's WebGPU with
// the stories260K model. Every generation that keeps a cached prefix is compared, token for token, with a fresh
// generation of the same prompt (cachePrompt: false: the whole prompt evaluated from position 0).
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { isRbeeError } from '../../../src/lib/errors.ts';
import { InferenceClient } from '../../../src/lib/runtime/inference-client.ts';
import type { GenerateRequestOptions, GenerationResult, ModelToLoad, Prompt } from '../../../src/lib/engine/worker-protocol.ts';
import type { ChatMessage } from '../../../src/lib/tokenizer/types.ts';
import { readGguf } from '../../../src/lib/formats/gguf.ts';
import { WebGpuEngine } from '../../../src/lib/engine/engine.ts';
import { fixtureSource } from './fixture-source.ts';

// Room for one prefill of more than a chunk (512) and a reply that reaches the end.
const CONTEXT = 608;
const greedy = { temperature: 0 };
const STORY =
  'Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her friends. ' +
  'One day, she saw a big red ball under a tree. She ran to get it, but a dog took the ball and ran away.';

let client: InferenceClient;
let modelInput: ModelToLoad;
let bytes: Uint8Array | undefined;

beforeAll(async () => {
  const source = await fixtureSource('models/stories260K.gguf');
  expect(source, 'fixture ../shared/fixtures/models/stories260K.gguf').toBeDefined();
  bytes = new Uint8Array(await source!.read(0, await source!.size()));
  modelInput = { model: { kind: 'local', id: 'test' }, reach: { files: [new File([bytes as Uint8Array<ArrayBuffer>], 'stories260K.gguf')] } };
  client = InferenceClient.create();
  await client.load(modelInput, { contextLength: CONTEXT });
});
afterAll(() => client?.terminate());

const run = (prompt: Prompt, extra: Partial<GenerateRequestOptions> = {}): Promise<GenerationResult> =>
  client.generate({ prompt, sampling: greedy, maxTokens: 24, stopTokens: [], ...extra });
/** The reference: the same request evaluated from position 0. */
const fresh = (prompt: Prompt, extra: Partial<GenerateRequestOptions> = {}) => run(prompt, { ...extra, cachePrompt: false });
const commonPrefix = (a: readonly number[], b: readonly number[]) => {
  let n = 0;
  while (n < a.length && n < b.length && a[n] === b[n]) n++;
  return n;
};

describe('prompt cache through the inference worker (stories260K, WebGPU)', () => {
  test('a three-turn chat: each turn reuses the conversation so far and equals a fresh generation', async () => {
    const messages: ChatMessage[] = [{ role: 'user', content: 'Tell me a story about a cat.' }];
    const turns: { messages: ChatMessage[]; result: GenerationResult }[] = [];
    await run({ tokens: [1, 2] }); // leave something unrelated in the cache first
    for (const next of ['What did the cat do next?', 'And then?', '']) {
      const prompt = { messages: [...messages] };
      const result = await run(prompt);
      turns.push({ messages: [...messages], result });
      if (!next) break;
      // As the chat page keeps it: the streamed text, leading space included.
      messages.push({ role: 'assistant', content: result.text }, { role: 'user', content: next });
    }
    for (const [i, { messages: m, result }] of turns.entries()) {
      const t = result.timings;
      expect(t.promptTokensReused! + t.promptTokensEvaluated!).toBe(t.promptTokens);
      if (i > 0) {
        // Everything the previous turn wrote is kept: its prompt and its reply but the last token (sampled, never
        // run): this model's replies re-tokenize (in the plain fallback template) to the very tokens it made.
        const previous = turns[i - 1]!.result;
        expect(t.promptTokensReused).toBe(previous.timings.promptTokens + previous.tokens.length - 1);
      }
      const reference = await fresh({ messages: m });
      expect(reference.timings.promptTokensReused).toBe(0);
      expect(result.tokens, `turn ${i + 1}`).toEqual(reference.tokens);
      expect(result.text).toBe(reference.text);
    }
  });

  test('a prompt that diverges in the middle keeps only the shared prefix', async () => {
    const a = `${STORY} Lily was sad.`;
    const b = a.replace('big red ball', 'small blue kite');
    const ra = await run({ text: a });
    const [ta, tb] = [await client.tokenize(a), await client.tokenize(b)];
    const rb = await run({ text: b });
    const shared = commonPrefix([...ta, ...ra.tokens.slice(0, -1)], tb);
    expect(shared).toBeGreaterThan(10);
    expect(shared).toBeLessThan(tb.length - 10);
    expect(rb.timings.promptTokensReused).toBe(shared);
    expect(rb.tokens).toEqual((await fresh({ text: b })).tokens);
  });

  test('the identical prompt again: all but its last token reused, same tokens', async () => {
    const first = await run({ text: STORY });
    const again = await run({ text: STORY });
    expect(again.timings.promptTokensReused).toBe(again.timings.promptTokens - 1);
    expect(again.timings.promptTokensEvaluated).toBe(1);
    expect(again.tokens).toEqual(first.tokens);
  });

  test('generated text that re-tokenizes differently is reused only up to where the ids match', async () => {
    const prompt = await client.tokenize(STORY);
    const r = await run({ tokens: prompt }, { maxTokens: 12 });
    const written = [...prompt, ...r.tokens.slice(0, -1)];
    // The next prompt quotes the reply up to the middle of one of its words and goes on from there (as a user
    // editing the reply would): SentencePiece splits that word differently, so the cache matches only before it.
    const cut = r.steps.findIndex((step, k) => k >= 3 && step.text.length >= 3);
    expect(cut, 'a reply word of 3+ characters').toBeGreaterThan(0);
    expect(cut).toBeLessThan(r.tokens.length - 1);
    const quoted = r.steps.slice(0, cut).map((step) => step.text).join('') + r.steps[cut]!.text.slice(0, -1);
    const text = `${STORY}${quoted}q and the`;
    const next = await client.tokenize(text);
    const shared = commonPrefix(written, next);
    expect(shared).toBeGreaterThanOrEqual(prompt.length);
    expect(shared).toBeLessThanOrEqual(prompt.length + cut);
    const reused = await run({ text });
    expect(reused.timings.promptTokensReused).toBe(shared);
    expect(reused.tokens).toEqual((await fresh({ text })).tokens);
  });

  test('an aborted generation leaves what it wrote; the next turn continues from there', async () => {
    const prompt = await client.tokenize(STORY);
    const controller = new AbortController();
    let seen = 0;
    const r = await client.generate(
      { prompt: { tokens: prompt }, sampling: greedy, maxTokens: 200, stopTokens: [] },
      { signal: controller.signal, onToken: () => ++seen === 5 && controller.abort() },
    );
    expect(r.stopReason).toBe('aborted');
    expect(r.tokens.length).toBeGreaterThanOrEqual(5);
    expect(r.tokens.length).toBeLessThan(200);
    const next = [...prompt, ...r.tokens, 13];
    const continued = await run({ tokens: next });
    // The prompt and the reported tokens that went through the model: all but the last when the abort was seen
    // before its decode, all of them when it arrived during that decode.
    expect([prompt.length + r.tokens.length - 1, prompt.length + r.tokens.length]).toContain(continued.timings.promptTokensReused);
    expect(continued.tokens).toEqual((await fresh({ tokens: next })).tokens);
  });

  test('seeded sampling with a repetition penalty: the same tokens as a fresh run', async () => {
    const sampling = { temperature: 0.9, topK: 40, topP: 0.95, seed: 1234, repeatPenalty: 1.3, repeatLastN: 32 };
    const first = await run({ text: STORY }, { sampling });
    const text = `${STORY}${first.text} Then Lily said`;
    const second = await run({ text }, { sampling, maxTokens: 32 });
    expect(second.timings.promptTokensReused).toBeGreaterThan(40);
    expect(second.tokens).toEqual((await fresh({ text }, { sampling, maxTokens: 32 })).tokens);
  });

  test('a prompt longer than the context is refused and the cache survives', async () => {
    const base = await client.tokenize(STORY);
    await run({ tokens: base }, { maxTokens: 4 });
    const tooLong = Array.from({ length: CONTEXT + 10 }, (_, i) => base[1 + (i % (base.length - 1))]!);
    const error = await run({ tokens: tooLong }).catch((e: unknown) => e);
    expect(isRbeeError(error) && error.code).toBe('limit-exceeded');
    const after = await run({ tokens: base }, { maxTokens: 4 });
    expect(after.timings.promptTokensReused).toBe(base.length - 1);
  });

  test('a suffix past one prefill chunk (512) runs in chunks from the reused position; a reply that fills the context stops as a fresh one', async () => {
    const short = await client.tokenize(STORY);
    const first = await run({ tokens: short }, { maxTokens: 4 });
    let long = [...short];
    while (long.length < CONTEXT) long = [...long, ...short.slice(1)];
    long = long.slice(0, CONTEXT - 5);
    const r = await run({ tokens: long }, { maxTokens: 50 });
    expect(r.timings.promptTokensReused).toBe(commonPrefix([...short, ...first.tokens.slice(0, -1)], long));
    expect(r.timings.promptTokensReused).toBeGreaterThanOrEqual(short.length);
    expect(r.timings.promptTokensEvaluated).toBeGreaterThan(512);
    expect(r.stopReason).toBe('context-full');
    const reference = await fresh({ tokens: long }, { maxTokens: 50 });
    expect(reference.stopReason).toBe('context-full');
    expect(r.tokens).toEqual(reference.tokens);
  });

  test('unload and load forget the cache', async () => {
    await run({ text: STORY });
    await client.unload();
    await client.load(modelInput, { contextLength: CONTEXT });
    const r = await run({ text: STORY });
    expect(r.timings.promptTokensReused).toBe(0);
  });
});

describe('WebGpuEngine cached tokens', () => {
  let engine: WebGpuEngine;
  afterAll(() => engine?.destroy());

  test('record what prefill and decode wrote; truncate keeps a prefix; unload and device loss forget it', async () => {
    engine = await WebGpuEngine.create();
    const { MemoryByteSource } = await import('../../../src/lib/formats/memory-source.ts');
    const source = new MemoryByteSource(bytes!, 'stories260K.gguf');
    const descriptor = await readGguf(source);
    await engine.load(descriptor, [source], { contextLength: 32 });
    await engine.prefill([1, 403, 407, 261, 378]);
    await engine.decode(432);
    expect(engine.cachedTokens).toEqual([1, 403, 407, 261, 378, 432]);
    // A step that fails (a token outside the vocabulary, the context's end) records nothing.
    await expect(engine.decode(100_000)).rejects.toMatchObject({ code: 'bad-value' });
    await expect(engine.prefill(Array.from({ length: 40 }, () => 1))).rejects.toMatchObject({ code: 'limit-exceeded' });
    expect(engine.position).toBe(6);

    engine.truncate(3);
    expect(engine.cachedTokens).toEqual([1, 403, 407]);
    expect(() => engine.truncate(4)).toThrow(/cache holds 3/);
    // Position 3 onward is rewritten: the logits equal a fresh prefill of the same five tokens.
    const kept = await engine.prefill([261, 378]);
    const whole = await (async () => {
      engine.reset();
      return engine.prefill([1, 403, 407, 261, 378]);
    })();
    let maxDiff = 0;
    for (let i = 0; i < whole.length; i++) maxDiff = Math.max(maxDiff, Math.abs(kept[i]! - whole[i]!));
    expect(maxDiff).toBeLessThan(1e-4);

    engine.unload();
    expect(engine.cachedTokens).toEqual([]);
    await engine.load(descriptor, [source], { contextLength: 32 });
    await engine.prefill([1, 403]);
    expect(engine.cachedTokens).toEqual([1, 403]);
    engine.gpu.device.destroy();
    await expect(engine.decode(1)).rejects.toMatchObject({ code: 'device-lost' });
    expect(engine.cachedTokens).toEqual([]);
    expect(engine.position).toBe(0);
  });
});
