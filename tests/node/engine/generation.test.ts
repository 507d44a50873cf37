import { describe, expect, test } from 'vitest';
import { RbeeError } from '../../../src/lib/errors.ts';
import { runGeneration, type LogitsModel } from '../../../src/lib/engine/generation.ts';
import type { TokenSelection } from '../../../src/lib/engine/sampling.ts';
import { VocabularyPieces } from '../../../src/lib/engine/vocabulary-pieces.ts';

/** A model whose next token is always (last token + 1) mod vocab, with a clear margin; counts its calls. */
class CountingModel implements LogitsModel {
  cachedTokens: number[] = [];
  prefills = 0;
  decodes: number[] = [];
  constructor(private readonly vocab = 16) {}
  private logitsAfter(token: number): Float32Array {
    const l = new Float32Array(this.vocab).fill(-5);
    l[(token + 1) % this.vocab] = 5;
    l[(token + 2) % this.vocab] = 3;
    return l;
  }
  get position(): number {
    return this.cachedTokens.length;
  }
  async prefill(tokens: number[]): Promise<Float32Array> {
    this.prefills++;
    this.cachedTokens.push(...tokens);
    return this.logitsAfter(tokens[tokens.length - 1]!);
  }
  async decode(token: number): Promise<Float32Array> {
    this.decodes.push(token);
    this.cachedTokens.push(token);
    return this.logitsAfter(token);
  }
  truncate(n: number): void {
    this.cachedTokens.length = n;
  }
  reset(): void {
    this.cachedTokens = [];
  }
}

const greedy = { temperature: 0 };
const base = { sampling: greedy, stopTokens: [], contextLength: 1024 };

describe('runGeneration', () => {
  test('greedy: prefill once, then one decode per further token; the last token is not decoded', async () => {
    const m = new CountingModel();
    const r = await runGeneration(m, { ...base, promptTokens: [1, 2, 3], maxTokens: 5 });
    expect(r.tokens).toEqual([4, 5, 6, 7, 8]);
    expect(m.prefills).toBe(1);
    expect(m.decodes).toEqual([4, 5, 6, 7]);
    expect(r.stopReason).toBe('max-tokens');
    expect(r.timings.promptTokens).toBe(3);
    expect(r.timings.generatedTokens).toBe(5);
  });

  test('a stop token ends generation and is kept', async () => {
    const r = await runGeneration(new CountingModel(), { ...base, promptTokens: [1], maxTokens: 50, stopTokens: [4] });
    expect(r.tokens).toEqual([2, 3, 4]);
    expect(r.stopReason).toBe('stop-token');
  });

  test('abort takes effect within one token', async () => {
    let reported = 0;
    let abortAt = -1;
    const r = await runGeneration(new CountingModel(), { ...base, promptTokens: [1], maxTokens: 50 }, {
      onStep: () => {
        reported++;
        if (reported === 3) abortAt = reported;
      },
      aborted: () => abortAt > 0,
    });
    expect(r.stopReason).toBe('aborted');
    expect(r.tokens.length).toBe(3);
  });

  test('stops at the end of the context', async () => {
    const r = await runGeneration(new CountingModel(), { ...base, promptTokens: [1, 2], maxTokens: 50, contextLength: 6 });
    expect(r.stopReason).toBe('context-full');
    expect(r.tokens.length).toBe(5); // 2 prompt + 4 decoded fill the 6 positions; the 5th token is sampled from the last
  });

  test('logprobs and top-K per step, of the model distribution', async () => {
    const r = await runGeneration(new CountingModel(), { ...base, promptTokens: [0], maxTokens: 2, topLogprobs: 2 });
    const lse = Math.log(Math.exp(5) + Math.exp(3) + 14 * Math.exp(-5));
    expect(r.steps[0]!.logprob).toBeCloseTo(5 - lse, 5);
    expect(r.steps[0]!.top!.map((t) => t.token)).toEqual([1, 2]);
    expect(r.steps[0]!.top![1]!.logprob).toBeCloseTo(3 - lse, 5);
    const plain = await runGeneration(new CountingModel(), { ...base, promptTokens: [0], maxTokens: 2 });
    expect(plain.steps[0]!.logprob).toBeUndefined();
  });

  test('timings: prefill tok/s over the prompt, decode tok/s over the decodes', async () => {
    let clock = 0;
    const m = new CountingModel();
    const slow: LogitsModel = {
      get position() {
        return m.position;
      },
      get cachedTokens() {
        return m.cachedTokens;
      },
      truncate: (n) => m.truncate(n),
      reset: () => m.reset(),
      prefill: async (t) => {
        clock += 100; // 4 tokens in 100 ms
        return m.prefill(t);
      },
      decode: async (t) => {
        clock += 20; // 50 tok/s
        return m.decode(t);
      },
    };
    const r = await runGeneration(slow, { ...base, promptTokens: [1, 2, 3, 4], maxTokens: 6 }, { now: () => clock });
    expect(r.timings.prefillTokensPerSecond).toBeCloseTo(40, 6);
    expect(r.timings.decodeTokensPerSecond).toBeCloseTo(50, 6);
    expect(r.timings.decodeSeconds).toBeCloseTo(0.1, 6);
  });

  test('seeded sampling reproduces; the seed is reported', async () => {
    const run = (seed?: number) =>
      runGeneration(new CountingModel(), { ...base, sampling: { temperature: 5, seed }, promptTokens: [1], maxTokens: 20 });
    const a = await run(9);
    expect((await run(9)).tokens).toEqual(a.tokens);
    expect(a.seed).toBe(9);
    const b = await run();
    expect((await run(b.seed)).tokens).toEqual(b.tokens);
  });

  test('bad requests are RbeeError', async () => {
    for (const bad of [
      { ...base, promptTokens: [], maxTokens: 1 },
      { ...base, promptTokens: [1], maxTokens: 0 },
      { ...base, promptTokens: [1], maxTokens: 1, topLogprobs: 100 },
      { ...base, promptTokens: [1, 2, 3], maxTokens: 1, contextLength: 3 },
    ]) {
      await expect(runGeneration(new CountingModel(), bad)).rejects.toBeInstanceOf(RbeeError);
    }
  });

  test('streamed text joins to the whole text, including a character split over byte tokens', async () => {
    // vocabulary: 0 <s>, 1 '▁h', 2 'i', 3 <0xC3>, 4 <0xA9>  (é = C3 A9)
    const pieces = new VocabularyPieces(['<s>', '▁h', 'i', '<0xC3>', '<0xA9>'], [3, 1, 1, 6, 6], 'llama');
    const m = new CountingModel(5);
    const r = await runGeneration(m, { ...base, promptTokens: [0], maxTokens: 4 }, { text: pieces.stream() });
    expect(r.tokens).toEqual([1, 2, 3, 4]);
    expect(r.steps.map((s) => s.text)).toEqual([' h', 'i', '', 'é']);
    expect(r.text).toBe(' hié');
  });
});

describe('VocabularyPieces', () => {
  test('SentencePiece pieces, byte tokens and control tokens', () => {
    const v = VocabularyPieces.fromMetadata({
      'tokenizer.ggml.model': 'llama',
      'tokenizer.ggml.tokens': ['<unk>', '<s>', '</s>', '<0x0A>', '▁Once', '▁upon', ','],
      'tokenizer.ggml.token_type': [2, 3, 3, 6, 1, 1, 1],
    })!;
    expect(v.decode([1, 4, 5, 6, 3, 2])).toBe(' Once upon,\n');
  });

  test('GPT-2 byte-level pieces map back to bytes', () => {
    const v = VocabularyPieces.fromMetadata({ 'tokenizer.ggml.model': 'gpt2', 'tokenizer.ggml.tokens': ['Hello', 'Ġworld', 'Ċ'] })!;
    expect(v.decode([0, 1, 2])).toBe('Hello world\n');
  });

  test('no vocabulary → undefined', () => {
    expect(VocabularyPieces.fromMetadata({})).toBeUndefined();
  });
});

/**
 * CountingModel that also selects the next token itself, as WebGpuEngine's prefillSelect/decodeSelect do on the GPU
 * (the first largest logit outside `exclude`, and the raw logits of `exclude`): counts which path each step took.
 */
class SelectingModel extends CountingModel {
  selects = 0;
  excludedSeen: number[][] = [];
  readonly selectionLimits = { maxExcluded: 64, maxTopK: 8, vocab: 16 };
  private select(logits: Float32Array, selection: TokenSelection) {
    this.selects++;
    this.excludedSeen.push([...selection.exclude]);
    const k = selection.k ?? 1;
    const order = [...logits.keys()].filter((i) => !selection.exclude.includes(i)).sort((a, b) => logits[b]! - logits[a]! || a - b);
    const ids = Int32Array.from(order.slice(0, k));
    return { ids, logits: Float32Array.from(ids, (i) => logits[i]!), excluded: Float32Array.from(selection.exclude, (t) => logits[t]!) };
  }
  async prefillSelect(tokens: number[], selection: TokenSelection) {
    return this.select(await this.prefill(tokens), selection);
  }
  async decodeSelect(token: number, selection: TokenSelection) {
    return this.select(await this.decode(token), selection);
  }
}

describe('runGeneration with a model that selects tokens itself', () => {
  test('greedy uses the selection (no logits), and picks what the full-logits path picks', async () => {
    const m = new SelectingModel();
    const r = await runGeneration(m, { ...base, promptTokens: [1, 2, 3], maxTokens: 5 });
    const plain = await runGeneration(new CountingModel(), { ...base, promptTokens: [1, 2, 3], maxTokens: 5 });
    expect(r.tokens).toEqual(plain.tokens);
    expect(m.selects).toBe(5);
    expect(m.excludedSeen.every((e) => e.length === 0)).toBe(true);
  });

  test('a repetition penalty passes the recent distinct tokens and is applied to their raw logits', async () => {
    // The penalty (÷ 3 on positive logits) makes the repeated top token lose to the runner-up (5/3 < 3).
    const sampling = { temperature: 0, repeatPenalty: 3, repeatLastN: 4 };
    const m = new SelectingModel(16);
    const r = await runGeneration(m, { ...base, sampling, promptTokens: [1, 2, 2], maxTokens: 6 });
    const plain = await runGeneration(new CountingModel(16), { ...base, sampling, promptTokens: [1, 2, 2], maxTokens: 6 });
    expect(r.tokens).toEqual(plain.tokens);
    expect(m.excludedSeen[0]).toEqual([1, 2]);
    expect(m.selects).toBe(6);
  });

  test('top-k sampling selects k candidates and draws what the full-logits path draws, seed for seed', async () => {
    for (const seed of [1, 2, 3, 4]) {
      const sampling = { temperature: 5, topK: 3, topP: 0.99, repeatPenalty: 1.2, seed };
      const m = new SelectingModel();
      const r = await runGeneration(m, { ...base, sampling, promptTokens: [1, 5], maxTokens: 12 });
      const plain = await runGeneration(new CountingModel(), { ...base, sampling, promptTokens: [1, 5], maxTokens: 12 });
      expect(r.tokens).toEqual(plain.tokens);
      expect(m.selects).toBe(12);
    }
  });

  test('logprobs, sampling without top-k, or a top-k above the limit need the full logits', async () => {
    const m = new SelectingModel();
    const r = await runGeneration(m, { ...base, promptTokens: [1], maxTokens: 3, logprobs: true });
    expect(r.steps.every((s) => s.logprob !== undefined)).toBe(true);
    const t = await runGeneration(m, { ...base, sampling: { temperature: 0.8, seed: 1 }, promptTokens: [1], maxTokens: 3 });
    expect(t.tokens).toHaveLength(3);
    await runGeneration(m, { ...base, sampling: { temperature: 0.8, topK: 9, seed: 1 }, promptTokens: [1], maxTokens: 3 });
    expect(m.selects).toBe(0);
  });
});
