// The chat page's prebuilt-engine path: which models take it, how engine progress becomes the bar and its line, and
// that a verdict saying "does not run" stops it before any engine is built (the verdict's reason and hint kept).
import { describe, expect, it } from 'vitest';
import type { EngineProgress } from '../../../src/lib/runtime/engine.ts';
import { isRbeeError } from '../../../src/lib/errors.ts';
import { prebuiltEngineOf, progressLine, progressPercent, startPrebuiltEngine } from '../../../src/lib/ui/chat/prebuilt-engine-run.ts';

type Opened = Parameters<typeof prebuiltEngineOf>[0];
const opened = (format: string, engine: string, runs = true): Opened =>
  ({
    result: { descriptor: { format, name: `m.${format}` }, candidates: [], chosen: 0, input: 'x' },
    verdict: { engine, runs, reasons: runs ? [] : ['This build needs shader-f16.'], recommendations: runs ? [] : ['Open the q4f32 build.'] },
  }) as unknown as Opened;

describe('prebuilt engine path', () => {
  it('MLC and ONNX take it (even when the verdict names no engine); GGUF and SafeTensors do not', () => {
    expect(prebuiltEngineOf(opened('onnx', 'transformers.js'))).toBe('transformers.js');
    expect(prebuiltEngineOf(opened('mlc', 'web-llm'))).toBe('web-llm');
    expect(prebuiltEngineOf(opened('mlc', 'none', false))).toBe('web-llm');
    expect(prebuiltEngineOf(opened('gguf', 'webgpu'))).toBeUndefined();
    expect(prebuiltEngineOf(opened('safetensors', 'companion'))).toBeUndefined();
  });

  it('progress: fraction first, then bytes, then counts; ready is full', () => {
    const p = (x: Partial<EngineProgress>): EngineProgress => ({ phase: 'fetching', text: 't', ...x });
    expect(progressPercent(undefined)).toBe(0);
    expect(progressPercent(p({ fraction: 0.25, loadedBytes: 9, totalBytes: 10 }))).toBe(25);
    expect(progressPercent(p({ loadedBytes: 3, totalBytes: 4 }))).toBe(75);
    expect(progressPercent(p({ done: 1, total: 8, phase: 'compiling' }))).toBe(12.5);
    expect(progressPercent(p({ phase: 'ready' }))).toBe(100);
    expect(progressPercent(p({ fraction: 1.7 }))).toBe(100);
    const bytes = (n: number) => `${n} B`;
    expect(progressLine(p({ loadedBytes: 3, totalBytes: 4, file: 'onnx/model.onnx', text: 'Downloading: 75%' }), bytes)).toBe(
      'Downloading · 3 B of 4 B · onnx/model.onnx — Downloading: 75%',
    );
    expect(progressLine(undefined, bytes)).toMatch(/Starting/);
  });

  it("a build that cannot run here fails with the verdict's reason and recommendation, before any engine loads", async () => {
    const e = await startPrebuiltEngine(opened('mlc', 'none', false), 'http://hub.invalid', () => undefined).catch((x: unknown) => x);
    expect(isRbeeError(e)).toBe(true);
    expect((e as { message: string }).message).toContain('shader-f16');
    expect((e as { hint?: string }).hint).toBe('Open the q4f32 build.');
  });
});
