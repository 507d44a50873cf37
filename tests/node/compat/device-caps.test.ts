import { describe, expect, test } from 'vitest';
import { describeDeviceCaps, isSoftwareAdapter, probeDeviceCaps, WEBGPU_MINIMUM_LIMITS } from '../../../src/lib/compat/device-caps.ts';

// Node has no navigator.gpu; these stand-ins have the shape of the real objects (the real probe runs in
// tests/browser/compat/probe.test.ts against Chromium's WebGPU).
const adapterWith = (features: string[], limits: Record<string, number>) => ({
  features: new Set(features),
  limits,
  info: { vendor: 'google', architecture: 'swiftshader', description: '' },
});

describe('probeDeviceCaps', () => {
  test('no navigator.gpu → unavailable, with what to do', async () => {
    const caps = await probeDeviceCaps(undefined);
    expect(caps.available).toBe(false);
    expect(caps.reason).toMatch(/WebGPU/);
    expect(caps.limits).toEqual(WEBGPU_MINIMUM_LIMITS);
  });

  test('requestAdapter returns null → unavailable, mentioning the blocklist and the companion', async () => {
    const caps = await probeDeviceCaps({ requestAdapter: async () => null });
    expect(caps.available).toBe(false);
    expect(caps.reason).toMatch(/no adapter/);
    expect(caps.reason).toMatch(/companion/);
  });

  test('requestAdapter throws → unavailable with its message, never a throw', async () => {
    const caps = await probeDeviceCaps({
      requestAdapter: async () => {
        throw new Error('GPU process crashed');
      },
    });
    expect(caps.available).toBe(false);
    expect(caps.reason).toContain('GPU process crashed');
  });

  test('an adapter: features and limits are read; limits it does not report fall back to the spec minimums', async () => {
    const caps = await probeDeviceCaps({
      requestAdapter: async () => adapterWith(['subgroups', 'timestamp-query'], { maxBufferSize: 1073741824, maxStorageBufferBindingSize: 1073741824 }),
    });
    expect(caps.available).toBe(true);
    expect(caps.features).toEqual({ shaderF16: false, subgroups: true });
    expect(caps.limits.maxBufferSize).toBe(1073741824);
    expect(caps.limits.maxStorageBufferBindingSize).toBe(1073741824);
    expect(caps.limits.maxComputeInvocationsPerWorkgroup).toBe(WEBGPU_MINIMUM_LIMITS.maxComputeInvocationsPerWorkgroup);
    expect(caps.adapter).toEqual({ vendor: 'google', architecture: 'swiftshader', description: '' });
    expect(caps.software).toBe(true);
    expect(describeDeviceCaps(caps)).toBe('google swiftshader (software adapter) · no shader-f16 · subgroups · binding 1 GiB');
  });

  test('software adapters: the spec flag (either spelling) or SwiftShader by name; a hardware adapter is not one', () => {
    expect(isSoftwareAdapter({ info: { vendor: 'nvidia', architecture: 'ampere', isFallbackAdapter: true } })).toBe(true);
    expect(isSoftwareAdapter({ isFallbackAdapter: true, info: { vendor: 'intel' } })).toBe(true);
    expect(isSoftwareAdapter({ info: { vendor: 'google', architecture: '', description: 'SwiftShader Device (Subzero)' } })).toBe(true);
    expect(isSoftwareAdapter({ info: { vendor: 'nvidia', architecture: 'ampere', description: 'NVIDIA GeForce RTX 3080', isFallbackAdapter: false } })).toBe(false);
    expect(isSoftwareAdapter({})).toBe(false);
  });
});
