// The engine's contract beyond the numbers: typed errors for what cannot run, load progress, the context limit,
// unload / load again, and device loss (RbeeError 'device-lost', then a fresh device on the next load).
import { afterAll, beforeAll, expect, test } from 'vitest';
import { isRbeeError } from '../../../src/lib/errors.ts';
import type { ModelDescriptor } from '../../../src/lib/formats/descriptor.ts';
import { readGguf } from '../../../src/lib/formats/gguf.ts';
import type { MemoryByteSource } from '../../../src/lib/formats/memory-source.ts';
import { type LoadProgress, WebGpuEngine } from '../../../src/lib/engine/engine.ts';
import { fixtureSource } from './fixture-source.ts';

const argmax = (v: Float32Array) => v.reduce((best, x, i) => (x > v[best]! ? i : best), 0);
async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(isRbeeError(e), String(e)).toBe(true);
    return (e as { code: string }).code;
  }
  return 'resolved';
}

let engine: WebGpuEngine;
let source: MemoryByteSource;
let descriptor: ModelDescriptor;
beforeAll(async () => {
  engine = await WebGpuEngine.create();
  source = (await fixtureSource('models/stories260K.gguf'))!;
  expect(source, 'fixture ../shared/fixtures/models/stories260K.gguf').toBeDefined();
  descriptor = await readGguf(source);
});
afterAll(() => engine?.destroy());

test('reports the adapter it runs on', () => {
  expect(engine.caps.limits.maxStorageBufferBindingSize).toBeGreaterThanOrEqual(128 << 20);
  expect(typeof engine.caps.shaderF16).toBe('boolean');
  expect(typeof engine.caps.subgroups).toBe('boolean');
});

test('refuses what it cannot run with typed errors', async () => {
  expect(await codeOf(engine.decode(1))).toBe('internal'); // nothing loaded yet
  expect(await codeOf(engine.load({ ...descriptor, architecture: 'rwkv6' }, [source]))).toBe('unsupported-architecture');
  const iq2 = { ...descriptor, tensors: descriptor.tensors.map((t) => (t.name === 'blk.0.attn_q.weight' ? { ...t, type: 16, typeName: 'IQ2_XXS' } : t)) };
  expect(await codeOf(engine.load(iq2, [source]))).toBe('unsupported-weight-type');
});

test('load progress, context limit, bad tokens, unload and load again', async () => {
  const seen: LoadProgress[] = [];
  await engine.load(descriptor, [source], { contextLength: 16, onProgress: (p) => seen.push(p) });
  const last = seen.at(-1)!;
  expect(last.tensorsUploaded).toBe(last.totalTensors);
  expect(last.bytesUploaded).toBe(last.totalBytes);
  expect(seen.every((p, i) => i === 0 || p.bytesUploaded >= seen[i - 1]!.bytesUploaded)).toBe(true);

  const first = argmax(await engine.prefill([1, 403, 407, 261, 378]));
  expect(first).toBe(432);
  expect(await codeOf(engine.decode(512))).toBe('bad-value');
  expect(await codeOf(engine.prefill(Array.from({ length: 12 }, () => 1)))).toBe('limit-exceeded');
  expect(engine.position).toBe(5);

  engine.unload();
  expect(await codeOf(engine.decode(1))).toBe('internal');
  await engine.load(descriptor, [source], { contextLength: 16 });
  expect(argmax(await engine.prefill([1, 403, 407, 261, 378]))).toBe(432);
});

test('device loss gives device-lost, and the next load opens a fresh device', async () => {
  await engine.load(descriptor, [source], { contextLength: 16 });
  engine.gpu.device.destroy();
  expect(await codeOf(engine.decode(1))).toBe('device-lost');
  expect(await codeOf(engine.prefill([1, 2]))).toBe('device-lost');
  await engine.load(descriptor, [source], { contextLength: 16 });
  expect(argmax(await engine.prefill([1, 403, 407, 261, 378]))).toBe(432);
});
