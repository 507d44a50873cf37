// runGeneration's rules for a prompt read in slices (issue 17 item 4), against a model that reads its prefill in
// slices of 4 and honours the hooks as WebGpuEngine does: an abort between slices ends the generation with
// stopReason 'aborted' and no tokens, the evaluated count is what was read, progress is passed on, and an error that
// is not an abort still fails the generation.
import { describe, expect, test } from 'vitest';
import { RbeeError } from '../../../src/lib/errors.ts';
import { runGeneration, type LogitsModel } from '../../../src/lib/engine/generation.ts';

class SlicedModel implements LogitsModel {
  cachedTokens: number[] = [];
  failAt = -1;
  get position(): number {
    return this.cachedTokens.length;
  }
  async prefill(tokens: number[], hooks?: { aborted?: () => boolean; onProgress?: (done: number, total: number) => void }): Promise<Float32Array> {
    hooks?.onProgress?.(0, tokens.length);
    for (let i = 0; i < tokens.length; i += 4) {
      if (hooks?.aborted?.()) throw new RbeeError('aborted', 'abandoned');
      if (this.cachedTokens.length >= this.failAt && this.failAt >= 0) throw new RbeeError('device-lost', 'gone');
      this.cachedTokens.push(...tokens.slice(i, i + 4));
      hooks?.onProgress?.(Math.min(i + 4, tokens.length), tokens.length);
    }
    return new Float32Array([0, 1, 0]);
  }
  async decode(token: number): Promise<Float32Array> {
    this.cachedTokens.push(token);
    return new Float32Array([0, 1, 0]);
  }
  truncate(n: number): void {
    this.cachedTokens.length = n;
  }
  reset(): void {
    this.cachedTokens = [];
  }
}

const request = { promptTokens: Array.from({ length: 18 }, (_, i) => i % 3), sampling: { temperature: 0 }, maxTokens: 4, stopTokens: [], contextLength: 64 };

describe('a prompt read in slices', () => {
  test('Stop after the second slice: aborted, no tokens, 8 tokens evaluated and cached, progress passed on', async () => {
    const model = new SlicedModel();
    const progress: [number, number][] = [];
    const steps: number[] = [];
    const result = await runGeneration(model, request, {
      aborted: () => progress.length > 2,
      onPromptProgress: (done, total) => progress.push([done, total]),
      onStep: (s) => steps.push(s.token),
    });
    expect(result.stopReason).toBe('aborted');
    expect(result.tokens).toEqual([]);
    expect(steps).toEqual([]);
    expect(progress).toEqual([
      [0, 18],
      [4, 18],
      [8, 18],
    ]);
    expect(result.timings.promptTokensEvaluated).toBe(8);
    expect(model.cachedTokens).toEqual(request.promptTokens.slice(0, 8));
  });

  test('the next turn keeps the slices read and evaluates only the rest', async () => {
    const model = new SlicedModel();
    let reads = 0;
    await runGeneration(model, request, { aborted: () => reads > 1, onPromptProgress: (done) => done > 0 && reads++ });
    const next = await runGeneration(model, request);
    expect(next.timings.promptTokensReused).toBe(8);
    expect(next.timings.promptTokensEvaluated).toBe(10);
    expect(next.stopReason).toBe('max-tokens');
  });

  test('without an abort the whole prompt is read and tokens follow', async () => {
    const progress: number[] = [];
    const result = await runGeneration(new SlicedModel(), request, { aborted: () => false, onPromptProgress: (done) => progress.push(done) });
    expect(progress).toEqual([0, 4, 8, 12, 16, 18]);
    expect(result.tokens).toEqual([1, 1, 1, 1]);
  });

  test('an engine failure during the prompt is an error, not a stop', async () => {
    const model = new SlicedModel();
    model.failAt = 4;
    await expect(runGeneration(model, request, { aborted: () => false })).rejects.toMatchObject({ code: 'device-lost' });
  });
});
