// The engine's all-positions logits (prefillAllPositions, what `rbee-web score` reads) on stories260K, real WebGPU:
// independent of how a sequence is cut into chunks (a 1-token chunk included: it runs the prefill graph, not the
// decode graph), continuing the KV cache like prefill, and equal to what the ordinary path gives position by position
// (prefill's last-token logits, then decode's), within float rounding (other kernels, other summation orders).
import { afterAll, beforeAll, expect, test } from 'vitest';
import { readGguf } from '../../../src/lib/formats/gguf.ts';
import { WebGpuEngine } from '../../../src/lib/engine/engine.ts';
import { fixtureSource } from './fixture-source.ts';

const TOKENS = [1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 403, 397, 396, 267];
const VOCAB = 512;

let engine: WebGpuEngine;
beforeAll(async () => {
  engine = await WebGpuEngine.create();
  const source = (await fixtureSource('models/stories260K.gguf'))!;
  expect(source, 'fixture ../shared/fixtures/models/stories260K.gguf').toBeDefined();
  await engine.load(await readGguf(source), [source], { contextLength: 64 });
});
afterAll(() => engine?.destroy());

const maxAbsDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0);

test('chunking does not change the logits, and the cache advances as with prefill', async () => {
  engine.reset();
  const whole = await engine.prefillAllPositions(TOKENS);
  expect(whole).toHaveLength(TOKENS.length * VOCAB);
  expect(engine.cachedTokens).toEqual(TOKENS);
  engine.reset();
  const parts: Float32Array[] = [];
  for (const [from, to] of [
    [0, 1],
    [1, 8],
    [8, 9],
    [9, 20],
  ] as const)
    parts.push(await engine.prefillAllPositions(TOKENS.slice(from, to)));
  expect(engine.cachedTokens).toEqual(TOKENS);
  const joined = new Float32Array(whole.length);
  let at = 0;
  for (const p of parts) {
    joined.set(p, at);
    at += p.length;
  }
  expect(maxAbsDiff(whole, joined)).toBeLessThan(1e-4);
  expect(engine.allPositionsChunk).toBe(512);
});

test('each row equals the ordinary path: prefill of the first token, then decode of each next one', async () => {
  engine.reset();
  const all = await engine.prefillAllPositions(TOKENS);
  engine.reset();
  const rows = [await engine.prefill(TOKENS.slice(0, 1))];
  for (const t of TOKENS.slice(1)) rows.push(await engine.decode(t));
  let worst = 0;
  rows.forEach((row, i) => (worst = Math.max(worst, maxAbsDiff(all.subarray(i * VOCAB, (i + 1) * VOCAB), row))));
  // Logits here span about ±20; the decode graph's fused kernels sum in another order.
  expect(worst).toBeLessThan(2e-3);
});
