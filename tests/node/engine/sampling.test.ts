import { describe, expect, test } from 'vitest';
import { RbeeError } from '../../../src/lib/errors.ts';
import { argmax, logprobsOf, logSumExp, Sampler, SeededRandom } from '../../../src/lib/engine/sampling.ts';

const logits = (...v: number[]) => Float32Array.from(v);

function histogram(sampler: Sampler, l: Float32Array, n: number): number[] {
  const counts = new Array<number>(l.length).fill(0);
  for (let i = 0; i < n; i++) counts[sampler.sample(l)]!++;
  return counts;
}

describe('greedy (temperature 0)', () => {
  test('picks the highest logit, the first one on ties, and ignores top-k/top-p/min-p', () => {
    const s = new Sampler({ temperature: 0, topK: 1, topP: 0.1, minP: 0.9 });
    expect(s.sample(logits(0.1, 3, -2, 2.9))).toBe(1);
    expect(s.sample(logits(5, 1, 5))).toBe(0);
    expect(argmax(logits(NaN, -1, -0.5))).toBe(2);
  });

  test('repetition penalty divides positive and multiplies negative logits of recent tokens (llama.cpp)', () => {
    const s = new Sampler({ temperature: 0, repeatPenalty: 2, repeatLastN: 2 });
    // token 0: 3 → 1.5 < 2 so token 1 wins once 0 is recent
    s.accept(0);
    expect(s.sample(logits(3, 2, -1))).toBe(1);
    // negative logits get more negative: -1 * 2 = -2 < -1.5
    const t = new Sampler({ temperature: 0, repeatPenalty: 2 });
    t.accept(0);
    expect(t.sample(logits(-1, -1.5))).toBe(1);
    // the window: after two more tokens, token 0 falls out of the last 2 and is not penalised any more
    s.accept(1);
    s.accept(2);
    expect(s.sample(logits(3, 2, -1))).toBe(0);
  });

  test('repetition counts a token once, however often it appeared', () => {
    const s = new Sampler({ temperature: 0, repeatPenalty: 1.5 });
    for (let i = 0; i < 10; i++) s.accept(0);
    // 3 / 1.5 = 2 > 1.9: one division, not ten
    expect(s.sample(logits(3, 1.9))).toBe(0);
  });
});

describe('seeded sampling', () => {
  test('same seed gives the same sequence; another seed a different one', () => {
    const l = logits(1, 1.1, 0.9, 1.05, 0.95, 1.0, 0.8, 1.2);
    const run = (seed: number) => {
      const s = new Sampler({ temperature: 1, seed });
      return Array.from({ length: 64 }, () => s.sample(l));
    };
    expect(run(42)).toEqual(run(42));
    expect(run(42)).not.toEqual(run(43));
  });

  test('reports a fresh seed when none was given, and that seed reproduces the run', () => {
    const l = logits(0, 0, 0, 0, 0, 0);
    const a = new Sampler({ temperature: 1 });
    const seqA = Array.from({ length: 32 }, () => a.sample(l));
    const b = new Sampler({ temperature: 1, seed: a.seed });
    expect(Array.from({ length: 32 }, () => b.sample(l))).toEqual(seqA);
  });

  test('the generator is uniform enough: mean ≈ 0.5 over 20k draws, never 1', () => {
    const r = new SeededRandom(7);
    let sum = 0;
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < 20_000; i++) {
      const x = r.next();
      min = Math.min(min, x);
      max = Math.max(max, x);
      sum += x;
    }
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
    expect(Math.abs(sum / 20_000 - 0.5)).toBeLessThan(0.01);
  });

  test('temperature 1 draws in proportion to softmax probabilities', () => {
    const l = logits(Math.log(0.5), Math.log(0.3), Math.log(0.2));
    const counts = histogram(new Sampler({ temperature: 1, seed: 1 }), l, 20_000);
    expect(counts[0]! / 20_000).toBeCloseTo(0.5, 1);
    expect(counts[1]! / 20_000).toBeCloseTo(0.3, 1);
    expect(counts[2]! / 20_000).toBeCloseTo(0.2, 1);
  });

  test('low temperature sharpens, high temperature flattens', () => {
    const l = logits(1, 0);
    const cold = histogram(new Sampler({ temperature: 0.1, seed: 3 }), l, 5000);
    const hot = histogram(new Sampler({ temperature: 10, seed: 3 }), l, 5000);
    expect(cold[0]! / 5000).toBeGreaterThan(0.99);
    expect(hot[0]! / 5000).toBeLessThan(0.6);
    expect(hot[0]! / 5000).toBeGreaterThan(0.45);
  });
});

describe('filters', () => {
  test('top-k keeps only the K most likely tokens', () => {
    const l = logits(0, 5, 1, 4, 2, 3);
    const counts = histogram(new Sampler({ temperature: 100, topK: 2, seed: 5 }), l, 2000);
    expect(counts[1]! + counts[3]!).toBe(2000);
    expect(counts[1]).toBeGreaterThan(0);
    expect(counts[3]).toBeGreaterThan(0);
  });

  test('top-p keeps the smallest head whose mass reaches P (including the token that crosses it)', () => {
    // probabilities 0.5, 0.3, 0.15, 0.05: top-p 0.7 keeps {0, 1}; 0.85 keeps {0, 1, 2}
    const l = logits(Math.log(0.5), Math.log(0.3), Math.log(0.15), Math.log(0.05));
    const a = histogram(new Sampler({ temperature: 1, topP: 0.7, seed: 9 }), l, 4000);
    expect(a[2]! + a[3]!).toBe(0);
    expect(a[1]).toBeGreaterThan(0);
    const b = histogram(new Sampler({ temperature: 1, topP: 0.85, seed: 9 }), l, 4000);
    expect(b[3]).toBe(0);
    expect(b[2]).toBeGreaterThan(0);
  });

  test('min-p drops tokens less likely than M × the most likely one', () => {
    const l = logits(Math.log(0.6), Math.log(0.25), Math.log(0.1), Math.log(0.05));
    // 0.3 × 0.6 = 0.18: only 0 and 1 survive
    const c = histogram(new Sampler({ temperature: 1, minP: 0.3, seed: 11 }), l, 4000);
    expect(c[2]! + c[3]!).toBe(0);
    expect(c[1]).toBeGreaterThan(0);
  });

  test('filters apply before temperature (llama.cpp order): a huge temperature cannot revive a filtered token', () => {
    const l = logits(10, 9, -10);
    const c = histogram(new Sampler({ temperature: 1000, minP: 0.01, seed: 2 }), l, 2000);
    expect(c[2]).toBe(0);
  });

  test('top-k larger than the vocabulary and ties at the boundary are handled', () => {
    const s = new Sampler({ temperature: 1, topK: 10, seed: 1 });
    expect([0, 1, 2]).toContain(s.sample(logits(1, 1, 1)));
    const c = histogram(new Sampler({ temperature: 1, topK: 2, seed: 4 }), logits(1, 1, 1, 0), 3000);
    expect(c[2]! + c[3]!).toBe(0); // ties: the lower ids are kept
  });
});

describe('logprobs', () => {
  test('log-softmax of the chosen token and the top-K, most likely first', () => {
    const l = logits(1, 3, 2, 0);
    const lse = Math.log(Math.exp(1) + Math.exp(3) + Math.exp(2) + Math.exp(0));
    const r = logprobsOf(l, 2, 3);
    expect(r.logprob).toBeCloseTo(2 - lse, 6);
    expect(r.top!.map((t) => t.token)).toEqual([1, 2, 0]);
    expect(r.top![0]!.logprob).toBeCloseTo(3 - lse, 6);
    expect(r.top!.reduce((s, t) => s + Math.exp(t.logprob), 0)).toBeLessThan(1);
    expect(logprobsOf(l, 1).top).toBeUndefined();
  });

  test('stable for large logits', () => {
    expect(logSumExp(logits(1000, 1000))).toBeCloseTo(1000 + Math.log(2), 4);
    expect(logprobsOf(logits(1000, 0), 0).logprob).toBeCloseTo(0, 6);
  });

  test('top-K on a large vocabulary matches a full sort', () => {
    const r = new SeededRandom(3);
    const l = Float32Array.from({ length: 50_000 }, () => r.next() * 20 - 10);
    const top = logprobsOf(l, 0, 8).top!.map((t) => t.token);
    const expected = Array.from(l.keys()).sort((a, b) => l[b]! - l[a]!).slice(0, 8);
    expect(top).toEqual(expected);
  });
});

describe('validation', () => {
  test('bad settings are RbeeError bad-value naming the field', () => {
    for (const bad of [{ temperature: -1 }, { temperature: 1, topP: 0 }, { temperature: 1, topK: 1.5 }, { temperature: 1, minP: 2 }, { temperature: 1, repeatPenalty: 0 }, { temperature: 1, seed: -3 }]) {
      let error: unknown;
      try {
        new Sampler(bad);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(RbeeError);
      expect((error as RbeeError).code).toBe('bad-value');
    }
  });
});
