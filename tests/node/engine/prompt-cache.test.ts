// Prompt caching in runGeneration, against a stand-in model with a real cache's failure modes: its logits depend on
// every token at positions 0…p−1 as stored, and truncating leaves the old rows in place (as on the GPU), so keeping
// one position too many, forgetting to truncate, or prefilling from the wrong position all change the tokens.
import { describe, expect, test } from 'vitest';
import { isRbeeError } from '../../../src/lib/errors.ts';
import { reusablePrefix, runGeneration, type GenerationRequest, type LogitsModel } from '../../../src/lib/engine/generation.ts';
import { seeded } from '../../support/seeded-random.ts';

const VOCAB = 48;

class HistoryModel implements LogitsModel {
  /** The "KV cache": rows past `length` keep stale tokens until overwritten. */
  private readonly rows: number[] = [];
  private length = 0;
  prefilled: number[][] = [];
  constructor(private readonly bonus?: number) {}

  get position(): number {
    return this.length;
  }
  get cachedTokens(): readonly number[] {
    return this.rows.slice(0, this.length);
  }
  truncate(n: number): void {
    if (n > this.length) throw new Error(`truncate(${n}) past ${this.length}`);
    this.length = n;
  }
  reset(): void {
    this.length = 0;
  }
  async prefill(tokens: number[]): Promise<Float32Array> {
    this.prefilled.push([...tokens]);
    for (const t of tokens) this.rows[this.length++] = t;
    return this.logits();
  }
  async decode(token: number): Promise<Float32Array> {
    this.rows[this.length++] = token;
    return this.logits();
  }
  /** A pseudo-random function of the whole stored history (FNV-1a of its ids seeds the draw). */
  private logits(): Float32Array {
    let h = 0x811c9dc5;
    for (let i = 0; i < this.length; i++) h = Math.imul(h ^ (this.rows[i]! + 1), 0x01000193) >>> 0;
    const random = seeded(h);
    const l = new Float32Array(VOCAB);
    for (let i = 0; i < VOCAB; i++) l[i] = random() * 4;
    // A token the model keeps wanting (positive logit, far ahead): only a repetition penalty stops it.
    if (this.bonus !== undefined) l[this.bonus] = 20;
    return l;
  }
}

const greedy = { temperature: 0 };
const request = (promptTokens: number[], extra: Partial<GenerationRequest> = {}): GenerationRequest => ({
  promptTokens,
  sampling: greedy,
  maxTokens: 8,
  stopTokens: [],
  contextLength: 256,
  ...extra,
});
const fresh = async (r: GenerationRequest, bonus?: number) => runGeneration(new HistoryModel(bonus), r);

describe('reusablePrefix', () => {
  test('the longest common prefix, at most all but the prompt’s last token', () => {
    expect(reusablePrefix([], [1, 2, 3])).toBe(0);
    expect(reusablePrefix([1, 2, 3, 4], [1, 2, 9, 4])).toBe(2);
    expect(reusablePrefix([5, 2], [1, 2])).toBe(0);
    expect(reusablePrefix([1, 2, 3], [1, 2, 3, 4, 5])).toBe(3);
    expect(reusablePrefix([1, 2, 3], [1, 2, 3])).toBe(2); // identical: the last token is evaluated again
    expect(reusablePrefix([1, 2, 3, 4, 5], [1, 2, 3])).toBe(2); // shorter prompt inside the cache: same rule
    expect(reusablePrefix([1, 2], [7])).toBe(0);
  });
});

describe('runGeneration with a cached prefix', () => {
  test('a second turn extending the first evaluates only the new tokens and equals a fresh run', async () => {
    const m = new HistoryModel();
    const first = await runGeneration(m, request([1, 10, 11, 12]));
    // Everything that was written: the prompt and every generated token but the last (sampled, never decoded).
    expect(m.cachedTokens).toEqual([1, 10, 11, 12, ...first.tokens.slice(0, -1)]);
    const turn2 = [1, 10, 11, 12, ...first.tokens, 20, 21];
    const second = await runGeneration(m, request(turn2));
    expect(second.timings.promptTokensReused).toBe(4 + first.tokens.length - 1);
    expect(second.timings.promptTokensEvaluated).toBe(3);
    expect(m.prefilled.at(-1)).toEqual([first.tokens.at(-1), 20, 21]);
    expect(second.tokens).toEqual((await fresh(request(turn2))).tokens);
  });

  test('a prompt that diverges in the middle keeps only the shared part (stale rows are overwritten)', async () => {
    const m = new HistoryModel();
    await runGeneration(m, request([1, 2, 3, 4, 5, 6, 7]));
    const diverged = [1, 2, 3, 9, 5, 6, 7];
    const r = await runGeneration(m, request(diverged));
    expect(r.timings.promptTokensReused).toBe(3);
    expect(m.prefilled.at(-1)).toEqual([9, 5, 6, 7]);
    expect(r.tokens).toEqual((await fresh(request(diverged))).tokens);
  });

  test('the same prompt again re-evaluates its last token only', async () => {
    const m = new HistoryModel();
    const a = await runGeneration(m, request([1, 2, 3, 4]));
    const b = await runGeneration(m, request([1, 2, 3, 4]));
    expect(b.timings.promptTokensReused).toBe(3);
    expect(m.prefilled.at(-1)).toEqual([4]);
    expect(b.tokens).toEqual(a.tokens);
  });

  test('a shorter prompt that is a prefix of the cache', async () => {
    const m = new HistoryModel();
    await runGeneration(m, request([1, 2, 3, 4, 5, 6]));
    const r = await runGeneration(m, request([1, 2, 3]));
    expect(r.timings.promptTokensReused).toBe(2);
    expect(r.tokens).toEqual((await fresh(request([1, 2, 3]))).tokens);
  });

  test('cachePrompt: false evaluates the whole prompt', async () => {
    const m = new HistoryModel();
    await runGeneration(m, request([1, 2, 3, 4]));
    const r = await runGeneration(m, request([1, 2, 3, 4, 5], { cachePrompt: false }));
    expect(r.timings.promptTokensReused).toBe(0);
    expect(r.timings.promptTokensEvaluated).toBe(5);
    expect(m.prefilled.at(-1)).toEqual([1, 2, 3, 4, 5]);
  });

  test('an aborted generation leaves exactly what it wrote, and the next turn reuses it', async () => {
    const m = new HistoryModel();
    let seen = 0;
    const r = await runGeneration(m, request([1, 2, 3], { maxTokens: 50 }), { onStep: () => seen++, aborted: () => seen >= 4 });
    expect(r.stopReason).toBe('aborted');
    expect(r.tokens).toHaveLength(4);
    expect(m.cachedTokens).toEqual([1, 2, 3, ...r.tokens.slice(0, 3)]);
    const next = [1, 2, 3, ...r.tokens, 30];
    const again = await runGeneration(m, request(next));
    expect(again.timings.promptTokensReused).toBe(6);
    expect(again.tokens).toEqual((await fresh(request(next))).tokens);
  });

  test('the repetition penalty sees the whole prompt, reused part included, as in a fresh run', async () => {
    const bonus = 7; // in the reused prefix only
    const first = [1, bonus, 2, 3];
    const sampling = { temperature: 0, repeatPenalty: 1000 };
    const m = new HistoryModel(bonus);
    const a = await runGeneration(m, request(first, { sampling }));
    const turn2 = [...first, ...a.tokens, 40];
    const b = await runGeneration(m, request(turn2, { sampling }));
    expect(b.timings.promptTokensReused).toBeGreaterThan(2);
    const reference = await fresh(request(turn2, { sampling }), bonus);
    expect(b.tokens).toEqual(reference.tokens);
    expect(b.tokens).not.toContain(bonus);
    // Without the penalty the favoured token wins at once: the penalty is what the equality above tests.
    expect((await fresh(request(turn2), bonus)).tokens[0]).toBe(bonus);
  });

  test('seeded sampling after a reused prefix equals the fresh run', async () => {
    const sampling = { temperature: 0.8, topK: 20, topP: 0.95, seed: 42, repeatPenalty: 1.1, repeatLastN: 6 };
    const m = new HistoryModel();
    const a = await runGeneration(m, request([1, 2, 3], { sampling, maxTokens: 12 }));
    const turn2 = [1, 2, 3, ...a.tokens, 4, 5];
    const b = await runGeneration(m, request(turn2, { sampling, maxTokens: 12 }));
    expect(b.timings.promptTokensReused).toBe(3 + a.tokens.length - 1);
    expect(b.tokens).toEqual((await fresh(request(turn2, { sampling, maxTokens: 12 }))).tokens);
  });

  test('a prompt longer than the context is refused and leaves the cache as it was', async () => {
    const m = new HistoryModel();
    await runGeneration(m, request([1, 2, 3]));
    const before = [...m.cachedTokens];
    const long = Array.from({ length: 300 }, (_, i) => 1 + (i % 40));
    const error = await runGeneration(m, request(long)).catch((e: unknown) => e);
    expect(isRbeeError(error) && error.code).toBe('limit-exceeded');
    expect(m.cachedTokens).toEqual(before);
    const r = await runGeneration(m, request([1, 2, 3, 4]));
    expect(r.timings.promptTokensReused).toBe(3);
  });

  test('time to first token counts from the given start', async () => {
    let clock = 1000;
    const slow = new HistoryModel();
    const prefill = slow.prefill.bind(slow);
    slow.prefill = async (t) => {
      clock += 50;
      return prefill(t);
    };
    const r = await runGeneration(slow, request([1, 2]), { now: () => clock, startedAt: 990 });
    expect(r.timings.firstTokenSeconds).toBeCloseTo(0.06, 6);
    expect(r.timings.prefillSeconds).toBeCloseTo(0.05, 6);
  });
});
