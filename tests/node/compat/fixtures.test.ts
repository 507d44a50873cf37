// check() on the real model files, read by the project's own loaders.
import { describe, expect, test } from 'vitest';
import { check } from '../../../src/lib/compat/check.ts';
import { DEFAULT_DESKTOP_CAPS, WEBGPU_MINIMUM_LIMITS, type DeviceCaps } from '../../../src/lib/compat/device-caps.ts';
import type { ByteSource } from '../../../src/lib/formats/byte-source.ts';
import type { ModelDescriptor } from '../../../src/lib/formats/descriptor.ts';
import { readGguf } from '../../../src/lib/formats/gguf.ts';
import { NodeFileSource } from '../../../src/lib/formats/node-file-source.ts';
import { readSafetensors } from '../../../src/lib/formats/safetensors.ts';
import { fixture, HAS_FIXTURES } from '../../support/fixtures.ts';

const opened: NodeFileSource[] = [];
async function open(rel: string): Promise<NodeFileSource> {
  const s = await NodeFileSource.open(fixture(rel));
  opened.push(s);
  return s;
}
async function gguf(rel: string): Promise<ModelDescriptor> {
  try {
    return await readGguf(await open(rel));
  } finally {
    await Promise.all(opened.splice(0).map((s) => s.close()));
  }
}

/** A phone-class GPU: the spec's minimum limits, no f16. */
const phone: DeviceCaps = { available: true, features: { shaderF16: false, subgroups: false }, limits: { ...WEBGPU_MINIMUM_LIMITS } };

describe.runIf(HAS_FIXTURES)('check() on the real fixtures', () => {
  test('stories260K.gguf (llama, F32) runs on WebGPU, verified, with its KV cache computed from the header', async () => {
    const d = await gguf('models/stories260K.gguf');
    const v = check(d, { ...DEFAULT_DESKTOP_CAPS, assumed: false });
    expect(v.runs).toBe(true);
    expect(v.confidence).toBe('verified');
    expect(v.engine).toBe('webgpu');
    expect(v.cells.map((c) => [c.architecture, c.format, c.weightType, c.backend])).toEqual([['llama', 'gguf', 'F32', 'webgpu']]);
    // 5 layers, 4 KV heads of 8, context min(2048, 4096): 2 × 5 × 2048 × 4 × 8 × 4 B
    expect(v.memory.contextLength).toBe(2048);
    expect(v.memory.kvCacheBytes).toBe(2 * 5 * 2048 * 4 * 8 * 4);
    expect(v.memory.weightsBytes).toBe(1171200);
    expect(v.splitTensors).toEqual([]);
    // On a minimum-limits phone GPU it still runs, on the f32 path.
    const p = check(d, phone);
    expect(p.runs).toBe(true);
    expect(p.warnings.some((w) => /no shader-f16/.test(w))).toBe(true);
  });

  test('llama-2-tiny-random.gguf (F16 weights, F32 norms) runs, verified, over both types', async () => {
    const v = check(await gguf('models/llama-2-tiny-random.gguf'));
    expect(v.runs).toBe(true);
    expect(v.confidence).toBe('verified');
    expect(v.cells.map((c) => c.weightType).sort()).toEqual(['F16', 'F32']);
  });

  test('a vocabulary-only GGUF has nothing to run', async () => {
    const v = check(await gguf('tokenizers/ggml-vocab-llama-spm.gguf'));
    expect(v.runs).toBe(false);
    expect(v.reasons[0]).toMatch(/no weight tensors/);
  });

  test('the LoRA adapter is not a model: runs false, needs its base model', async () => {
    const siblings = async (name: string): Promise<ByteSource | undefined> => {
      try {
        return await open(`safetensors/${name}`);
      } catch {
        return undefined;
      }
    };
    let d: ModelDescriptor;
    try {
      d = await readSafetensors(await open('safetensors/adapters.safetensors'), { openSibling: siblings });
    } finally {
      await Promise.all(opened.splice(0).map((s) => s.close()));
    }
    expect(d.kind).toBe('adapter');
    const v = check(d);
    expect(v.runs).toBe(false);
    expect(v.engine).toBe('none');
    expect(v.reasons[0]).toMatch(/LoRA adapter, not a model/);
    expect(v.recommendations[0]).toMatch(/base model/);
  });
});
