// The chat view's engine start: how engine progress becomes the bar and its line, what the loading view says per
// engine, and that a failed load is the engine's RbeeError with nothing left loaded (a real companion endpoint that
// is not listening: the companion engine's load fails on the network).
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { EngineProgress } from '../../../src/lib/runtime/engine.ts';
import { isRbeeError } from '../../../src/lib/errors.ts';
import { ENGINE_LABELS, loadingActivity, progressLine, progressPercent, startChatEngine } from '../../../src/lib/ui/chat/chat-engine-start.ts';

/** A loopback port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe('chat engine start', () => {
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

  it('the loading view names what each engine is doing', () => {
    expect(loadingActivity('webgpu')).toBe('Loading the weights onto the GPU…');
    expect(loadingActivity('wasm')).toContain("llama.cpp's WebAssembly build");
    expect(loadingActivity('transformers.js')).toContain('Starting transformers.js');
    expect(loadingActivity('web-llm')).toContain('Starting web-llm');
    expect(ENGINE_LABELS.wasm).toBe('CPU (WebAssembly, llama.cpp)');
  });

  it("a failed load is the engine's RbeeError, with its progress said first", async () => {
    const events: EngineProgress[] = [];
    const endpoint = { url: `http://127.0.0.1:${await closedPort()}`, token: 't' };
    const e = await startChatEngine({ engine: 'companion', endpoint }, { onProgress: (p) => events.push(p) }).catch((x: unknown) => x);
    expect(isRbeeError(e)).toBe(true);
    expect((e as { code: string }).code).toMatch(/^(companion|network)$/);
    expect(events[0]).toMatchObject({ phase: 'loading', text: expect.stringContaining('Asking the companion') });
  });
});
