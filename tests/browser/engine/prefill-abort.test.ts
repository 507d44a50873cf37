// Stop during a prompt (issue 17 item 4) on the real thing: WebGpuEngine with stories260K in headless Chromium's
// WebGPU, and the app's inference worker. A prefill with hooks runs in slices; an abort between slices ends it after
// the slice in flight, and the KV cache holds exactly the slices that ran — so the next prompt reuses them and its
// logits and greedy continuation equal a fresh evaluation of the whole prompt.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { isRbeeError } from '../../../src/lib/errors.ts';
import { runGeneration } from '../../../src/lib/engine/generation.ts';
import { InferenceClient } from '../../../src/lib/runtime/inference-client.ts';
import { readGguf } from '../../../src/lib/formats/gguf.ts';
import { FIRST_SLICE, WebGpuEngine } from '../../../src/lib/engine/engine.ts';
import { fixtureSource } from './fixture-source.ts';

const CONTEXT = 1024;
/** A long prompt: BOS and ordinary ids spread over the vocabulary (past the specials and byte tokens). */
const PROMPT = [1, ...Array.from({ length: 599 }, (_, i) => 259 + ((i * 37) % (512 - 259)))];
const argmax = (v: Float32Array) => v.reduce((best, x, i) => (x > v[best]! ? i : best), 0);

let engine: WebGpuEngine;
let bytes: Uint8Array;
/** (Re)loads stories260K: a freshly loaded model's first sliced prefill starts with the short FIRST_SLICE. */
async function loadStories(): Promise<void> {
  const source = await fixtureSource('models/stories260K.gguf');
  expect(source, 'fixture ../shared/fixtures/models/stories260K.gguf').toBeDefined();
  bytes = new Uint8Array(await source!.read(0, await source!.size()));
  await engine.load(await readGguf(source!), [source!], { contextLength: CONTEXT });
}
beforeAll(async () => {
  engine = await WebGpuEngine.create();
  await loadStories();
});
afterAll(() => engine?.destroy());

describe('an abandoned prefill (engine)', () => {
  test('abort after the first slice: RbeeError aborted within one slice, the cache holds exactly the slices read', async () => {
    engine.reset();
    const seen: [number, number][] = [];
    let stop = false;
    const error = await engine
      .prefill(PROMPT, {
        aborted: () => stop,
        onProgress: (done, total) => {
          seen.push([done, total]);
          if (done > 0) stop = true; // Stop pressed while the first slice ran
        },
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(isRbeeError(error) && error.code, String(error)).toBe('aborted');
    expect(seen).toEqual([
      [0, PROMPT.length],
      [FIRST_SLICE, PROMPT.length],
    ]);
    expect(engine.cachedTokens).toEqual(PROMPT.slice(0, FIRST_SLICE));

    // The next prefill continues from the slices kept: the result equals a whole fresh prefill.
    const continued = await engine.prefill(PROMPT.slice(FIRST_SLICE), { onProgress: () => {} });
    expect(engine.cachedTokens).toEqual(PROMPT);
    engine.reset();
    const whole = await engine.prefill(PROMPT);
    let worst = 0;
    for (let i = 0; i < whole.length; i++) worst = Math.max(worst, Math.abs(continued[i]! - whole[i]!));
    expect(worst).toBeLessThan(1e-3);
    expect(argmax(continued)).toBe(argmax(whole));
  });

  test('progress counts every token once, in slices of whole 8-token tiles, ending at the total', async () => {
    engine.reset();
    const seen: number[] = [];
    await engine.prefill(PROMPT, { onProgress: (done, total) => (expect(total).toBe(PROMPT.length), seen.push(done)) });
    expect(seen[0]).toBe(0);
    expect(seen.at(-1)).toBe(PROMPT.length);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!).toBeGreaterThan(seen[i - 1]!);
    for (const done of seen.slice(0, -1)) expect(done % 8).toBe(0);
  });

  test("a later prompt's first slice is sized from the speed the last one measured, not the short first slice", async () => {
    // The tests above ran sliced prefills of this model: its speed is known (stories260K reads hundreds of tokens
    // in SLICE_TARGET_MS even on SwiftShader).
    engine.reset();
    const seen: number[] = [];
    await engine.prefill(PROMPT, { onProgress: (done) => seen.push(done) });
    expect(seen[1]!).toBeGreaterThan(FIRST_SLICE);
    expect(seen[1]! % 8 === 0 || seen[1] === PROMPT.length).toBe(true);
  });

  test('runGeneration: Stop during the prompt ends with no tokens, stopReason aborted, and the next turn reuses what was read', async () => {
    await loadStories();
    let slices = 0;
    const stopped = await runGeneration(
      engine,
      { promptTokens: PROMPT, sampling: { temperature: 0 }, maxTokens: 8, stopTokens: [], contextLength: CONTEXT },
      { aborted: () => slices >= 1, onPromptProgress: (done) => done > 0 && slices++ },
    );
    expect(stopped.stopReason).toBe('aborted');
    expect(stopped.tokens).toEqual([]);
    const read = stopped.timings.promptTokensEvaluated;
    expect(read).toBeGreaterThan(0);
    expect(read).toBeLessThan(PROMPT.length);
    expect(engine.cachedTokens).toEqual(PROMPT.slice(0, read));

    const next = await runGeneration(engine, { promptTokens: PROMPT, sampling: { temperature: 0 }, maxTokens: 8, stopTokens: [], contextLength: CONTEXT });
    expect(next.timings.promptTokensReused).toBe(read);
    const fresh = await runGeneration(engine, {
      promptTokens: PROMPT,
      sampling: { temperature: 0 },
      maxTokens: 8,
      stopTokens: [],
      contextLength: CONTEXT,
      cachePrompt: false,
    });
    expect(next.tokens).toEqual(fresh.tokens);
  });
});

test('through the worker: progress events, then Stop during a long prompt returns within a slice; the next turn reuses the slices read', async () => {
  const client = InferenceClient.create();
  try {
    await client.load({ model: { kind: 'local', id: 'test' }, reach: { files: [new File([bytes as Uint8Array<ArrayBuffer>], 'stories260K.gguf')] } }, { contextLength: CONTEXT });
    const controller = new AbortController();
    const progress: number[] = [];
    const request = { prompt: { tokens: PROMPT }, sampling: { temperature: 0 }, maxTokens: 8, stopTokens: [] };
    const stopped = await client.generate(request, {
      signal: controller.signal,
      onPromptProgress: (done, total) => {
        expect(total).toBe(PROMPT.length);
        progress.push(done);
        if (done > 0) controller.abort();
      },
    });
    expect(stopped.stopReason).toBe('aborted');
    expect(stopped.tokens).toEqual([]);
    expect(progress[0]).toBe(0);
    // The abort arrives while the next slice runs at the latest: at most one more slice is read after the first.
    expect(progress.length).toBeLessThanOrEqual(3);
    expect(stopped.timings.promptTokensEvaluated).toBe(progress.at(-1));
    expect(stopped.timings.promptTokensEvaluated).toBeLessThan(PROMPT.length);

    const next = await client.generate(request);
    expect(next.timings.promptTokensReused).toBe(stopped.timings.promptTokensEvaluated);
    const fresh = await client.generate({ ...request, cachePrompt: false });
    expect(next.tokens).toEqual(fresh.tokens);
  } finally {
    client.terminate();
  }
});
