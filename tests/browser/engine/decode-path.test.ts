// The decode path on stories260K (a trained F32 Llama, 5 layers) in real Chromium WebGPU: the decode profile's shape
// and budget (one submit, ≤ 7 dispatches per layer + 3, 8 bytes read back), and token selection on the GPU choosing
// exactly what the sampler chooses from the full logits — greedy and top-k sampling (several settings and seeds),
// with and without a repetition penalty.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Sampler, type SamplingSettings } from '../../../src/lib/engine/sampling.ts';
import { readGguf } from '../../../src/lib/formats/gguf.ts';
import { WebGpuEngine } from '../../../src/lib/engine/engine.ts';
import { fixtureSource } from './fixture-source.ts';

const PROMPT = [1, 403, 407, 261, 378];
// llama.cpp (node-llama-cpp 3.21.1, CPU, greedy) from PROMPT: the first 20 generated ids (as llama-fixtures.test.ts).
const STORIES_LLAMA_CPP_FIRST_20 = [432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267, 337, 410, 408, 419, 292];

async function greedy(e: WebGpuEngine, n: number): Promise<number[]> {
  e.reset();
  const out: number[] = [];
  const selection = { exclude: [], k: 1 };
  let selected = await e.prefillSelect(PROMPT, selection);
  for (let i = 0; i < n; i++) {
    out.push(selected.ids[0]!);
    selected = await e.decodeSelect(out.at(-1)!, selection);
  }
  return out;
}
const LAYERS = 5;

let engine: WebGpuEngine;
beforeAll(async () => {
  engine = await WebGpuEngine.create();
  const source = await fixtureSource('models/stories260K.gguf');
  expect(source, 'fixture ../shared/fixtures/models/stories260K.gguf').toBeDefined();
  await engine.load(await readGguf(source!), [source!], { contextLength: 256 });
});
afterAll(() => engine?.destroy());

describe('decode path (stories260K)', () => {
  test('profile: one submit, ≤ 7 dispatches per layer + 3, a token id read back, per-kernel GPU times', async () => {
    await engine.prefill(PROMPT);
    const profile = await engine.profileDecode(8);
    expect(profile.steps).toBe(8);
    expect(profile.submits).toBe(1);
    expect(profile.readbackBytes).toBe(8);
    // Greedy steps feed the GPU's pick straight into the next step, submitted before the host reads the pick.
    expect(profile.submittedAhead).toBe(profile.steps);
    expect(profile.dispatches).toBeLessThanOrEqual(7 * LAYERS + 3);
    expect(profile.kernels.reduce((a, k) => a + k.dispatches, 0)).toBe(profile.dispatches);
    expect(profile.stepMs).toBeGreaterThan(0);
    expect(profile.encodeMs + profile.waitMs + profile.readMs).toBeLessThanOrEqual(profile.stepMs * 1.01);
    // SwiftShader has timestamp-query: every kernel gets a time.
    expect(profile.timestamps).toBe(engine.caps.timestampQuery);
    if (profile.timestamps) {
      expect(profile.gpuMs).toBeGreaterThan(0);
      for (const k of profile.kernels) expect(k.gpuMs, k.name).toBeGreaterThanOrEqual(0);
    }
    // The cache still holds the prompt only.
    expect(engine.cachedTokens).toEqual(PROMPT);
  });

  test.each([
    ['norms as separate dispatches', { foldNorms: 'never' }],
    ['shared-memory matvecs and the general attention kernel', { matvec: 'shared', subgroupAttention: false }],
    ['subgroup matvecs (the shape for GPUs with subgroups)', { matvec: 'subgroup' }],
    ['one invocation per row group (the shape for software adapters)', { matvec: 'rows' }],
    ['norms as separate dispatches, shared-memory matvecs and the general attention kernel', { foldNorms: 'never', matvec: 'shared', subgroupAttention: false }],
  ] as const)('decode variant (%s) continues as llama.cpp and as the default graph', async (_, variants) => {
    const expected = await greedy(engine, 64);
    expect(expected.slice(0, 20)).toEqual(STORIES_LLAMA_CPP_FIRST_20);
    const other = await WebGpuEngine.create();
    try {
      const source = await fixtureSource('models/stories260K.gguf');
      await other.load(await readGguf(source!), [source!], { contextLength: 256, decodeVariants: variants });
      expect(await greedy(other, 64)).toEqual(expected);
      const profile = await other.profileDecode(2);
      const names = profile.kernels.map((k) => k.name);
      if ('foldNorms' in variants) expect(names).toContain('attn norm');
      else expect(names).not.toContain('attn norm');
    } finally {
      other.destroy();
    }
  });

  test('a step submitted ahead is dropped when the next call differs: other token, logits, a prefill', async () => {
    const argmax = (v: Float32Array) => v.reduce((best, x, i) => (x > v[best]! ? i : best), 0);
    // Reference: the full-logits path only (never submits ahead).
    engine.reset();
    await engine.prefill(PROMPT);
    const afterOther = argmax(await engine.decode(300));
    const afterBoth = argmax(await engine.decode(301));
    const greedy = { exclude: [], k: 1 };
    engine.reset();
    const first = await engine.prefillSelect(PROMPT, greedy); // submits position 5 ahead with its pick
    expect(first.ids[0]).not.toBe(300);
    expect((await engine.decodeSelect(300, greedy)).ids[0]).toBe(afterOther); // not the pick: the ahead step is dropped
    expect(argmax(await engine.decode(301))).toBe(afterBoth); // a logits step after a greedy one
    expect(engine.cachedTokens).toEqual([...PROMPT, 300, 301]);
    engine.truncate(5);
    expect((await engine.prefillSelect([300], greedy)).ids[0]).toBe(afterOther);
  });

  const settings: [string, SamplingSettings][] = [
    ['greedy', { temperature: 0 }],
    ['greedy, repeat penalty 1.3 over 64', { temperature: 0, repeatPenalty: 1.3 }],
    ['greedy, repeat penalty 1.1 over 8', { temperature: 0, repeatPenalty: 1.1, repeatLastN: 8 }],
    ['greedy, repeat penalty 0.7 (favours repeats)', { temperature: 0, repeatPenalty: 0.7 }],
    ['top-k 40, temperature 0.8, seed 1', { temperature: 0.8, topK: 40, seed: 1 }],
    ['top-k 40, top-p 0.95, min-p 0.05, temperature 1, repeat penalty 1.1, seed 7', { temperature: 1, topK: 40, topP: 0.95, minP: 0.05, repeatPenalty: 1.1, seed: 7 }],
    ['top-k 5, temperature 1.5, seed 42', { temperature: 1.5, topK: 5, seed: 42 }],
    ['top-k 64, temperature 2, repeat penalty 1.3 over 16, seed 3', { temperature: 2, topK: 64, repeatPenalty: 1.3, repeatLastN: 16, seed: 3 }],
  ];
  test.each(settings)('GPU selection picks the full-logits token: %s', async (_, s) => {
    const run = async (gpu: boolean): Promise<number[]> => {
      engine.reset();
      const sampler = new Sampler(s);
      for (const t of PROMPT) sampler.accept(t);
      const out: number[] = [];
      let input: number[] | number = PROMPT;
      for (let i = 0; i < 40; i++) {
        let token: number;
        const selection = gpu ? sampler.gpuSelection(engine.selectionLimits) : undefined;
        if (selection) {
          const selected = typeof input === 'number' ? await engine.decodeSelect(input, selection) : await engine.prefillSelect(input, selection);
          token = sampler.pick(selected, selection);
        } else {
          expect(gpu).toBe(false);
          token = sampler.sample(typeof input === 'number' ? await engine.decode(input) : await engine.prefill(input));
        }
        sampler.accept(token);
        out.push(token);
        input = token;
      }
      return out;
    };
    const cpu = await run(false);
    const gpu = await run(true);
    expect(gpu).toEqual(cpu);
    if (s.repeatPenalty && s.repeatPenalty > 1 && s.temperature === 0) {
      // The penalty changed something (else this case would test nothing beyond plain greedy).
      const plain = new Sampler({ temperature: 0 });
      engine.reset();
      let logits = await engine.prefill(PROMPT);
      const greedy: number[] = [];
      for (let i = 0; i < 40; i++) {
        const t = plain.sample(logits);
        greedy.push(t);
        logits = await engine.decode(t);
      }
      expect(gpu).not.toEqual(greedy);
    }
  });
});
