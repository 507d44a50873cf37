// The device probe against this browser's real WebGPU adapter (SwiftShader here: subgroups, no shader-f16, a software
// adapter — so check() sends GGUF to the CPU engine unless WebGPU is picked).
import { expect, test } from 'vitest';
import { check } from '../../../src/lib/compat/check.ts';
import { probeDeviceCaps, WEBGPU_MINIMUM_LIMITS } from '../../../src/lib/compat/device-caps.ts';
import type { ModelDescriptor } from '../../../src/lib/formats/descriptor.ts';

test('probeDeviceCaps reads the real adapter, and check() warns about its missing shader-f16', async () => {
  const caps = await probeDeviceCaps();
  expect(caps.available).toBe(true);
  expect(caps.assumed).toBeUndefined();
  const adapter = (await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' }))!;
  expect(caps.features).toEqual({ shaderF16: adapter.features.has('shader-f16'), subgroups: adapter.features.has('subgroups') });
  expect(caps.limits.maxStorageBufferBindingSize).toBe(adapter.limits.maxStorageBufferBindingSize);
  expect(caps.limits.maxBufferSize).toBe(adapter.limits.maxBufferSize);
  expect(caps.limits.maxStorageBufferBindingSize).toBeGreaterThanOrEqual(WEBGPU_MINIMUM_LIMITS.maxStorageBufferBindingSize);
  expect(caps.adapter?.vendor).toBe(adapter.info.vendor);

  const descriptor: ModelDescriptor = {
    source: 'memory:tiny',
    name: 'tiny',
    format: 'gguf',
    kind: 'model',
    architecture: 'llama',
    parameterCount: 64 * 512,
    weightTypes: [{ type: 'F32', tensors: 1, bytes: 64 * 512 * 4 }],
    contextLength: 512,
    embeddingLength: 64,
    blockCount: 5,
    headCount: 8,
    headCountKv: 4,
    feedForwardLength: 172,
    vocabSize: 512,
    hasChatTemplate: false,
    totalWeightBytes: 64 * 512 * 4,
    files: [{ location: 'memory:tiny', size: 64 * 512 * 4 }],
    tensors: [{ name: 'token_embd.weight', dims: [64, 512], type: 0, typeName: 'F32', offset: 0, size: 64 * 512 * 4, file: 0 }],
    warnings: [],
  };
  const software = adapter.info.architecture === 'swiftshader' || (adapter.info as { isFallbackAdapter?: boolean }).isFallbackAdapter === true;
  expect(caps.software === true).toBe(software);
  const auto = check(descriptor, caps);
  expect(auto.runs).toBe(true);
  expect(auto.engine).toBe(software ? 'wasm' : 'webgpu');
  const v = check(descriptor, caps, { engine: 'webgpu' });
  expect(v.runs).toBe(true);
  expect(v.engine).toBe('webgpu');
  expect(v.device.assumed).toBe(false);
  expect(v.warnings.some((w) => /shader-f16/.test(w))).toBe(!caps.features.shaderF16);
});
