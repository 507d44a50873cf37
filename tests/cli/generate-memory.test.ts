// The memory a verdict promises is the memory a load allocates: `rbee-web inspect --json`'s verdict.memory.totalBytes
// (the compatibility check, computed from the engine's memory plan before anything is downloaded) against
// `rbee-web generate --json`'s memory.totalBytes (what the WebGPU engine allocated on the GPU, summed from its buffers)
// for the same file and (default) context, as a user runs them: real processes, headless Chromium's WebGPU. Within 10 %:
// stories260K, a 114 MB random-weight Q4_K Llama (1024 × 12, the decode benchmark's shape), random Qwen3 and Gemma.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { cliJson } from '../support/cli-process.ts';
import { writeFamilyModel } from '../support/family-generator.ts';
import { fixture, HAS_FIXTURES } from '../support/fixtures.ts';
import { LLAMA_1024X12, writeGeneratedModel } from '../support/model-generator.ts';

interface Memory {
  weightsBytes: number;
  kvCacheBytes: number;
  scratchBytes: number;
  totalBytes: number;
}

let dir: string;
const models: Record<string, string> = {};
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rbee-memory-'));
  models['stories260K'] = fixture('models/stories260K.gguf');
  models['random Llama 1024×12 Q4_K'] = await writeGeneratedModel(dir, { ...LLAMA_1024X12, weightType: 'Q4_K' });
  models['random Qwen3 Q8_0'] = await writeFamilyModel(dir, { family: 'qwen3', weightType: 'Q8_0' });
  models['random Gemma Q4_K'] = await writeFamilyModel(dir, { family: 'gemma', weightType: 'Q4_K' });
}, 120_000);
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe.runIf(HAS_FIXTURES)('the verdict plans the GPU memory a load allocates', () => {
  test.each(['stories260K', 'random Llama 1024×12 Q4_K', 'random Qwen3 Q8_0', 'random Gemma Q4_K'])('%s: inspect --json ≈ generate --json, within 10 %', async (name) => {
    const path = models[name]!;
    // Both at their default context: the model's, at most 4096.
    const inspected = await cliJson<{ verdict: { memory: Memory & { contextLength: number } } }>(['inspect', '--json', path]);
    const generated = await cliJson<{ memory?: Memory; model: { contextLength: number } }>([
      'generate', '--engine', 'webgpu', '--model', path, '--prompt', 'Once', '--max-tokens', '1', '--temperature', '0', '--json',
    ]);
    expect(generated.model.contextLength).toBe(inspected.verdict.memory.contextLength);
    const planned = inspected.verdict.memory;
    const allocated = generated.memory!;
    expect(allocated.totalBytes).toBe(allocated.weightsBytes + allocated.kvCacheBytes + allocated.scratchBytes);
    // The KV cache is the same formula on both sides; weights and scratch are planned, not copied from the load.
    expect(allocated.kvCacheBytes).toBe(planned.kvCacheBytes);
    expect(Math.abs(planned.totalBytes - allocated.totalBytes) / allocated.totalBytes).toBeLessThan(0.1);
    expect(Math.abs(planned.weightsBytes - allocated.weightsBytes) / allocated.weightsBytes).toBeLessThan(0.1);
  }, 240_000);
});
