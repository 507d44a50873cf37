/**
 * What the compatibility check needs to know about this browser's GPU: whether WebGPU is there at all, the adapter,
 * the two features that pick kernel variants (shader-f16, subgroups) and the limits that decide buffer layout.
 * probeDeviceCaps() asks navigator.gpu; where there is no GPU to ask (the CLI in Node) DEFAULT_DESKTOP_CAPS stands in
 * and the verdict says so.
 */
import { formatBytes } from '../quantities.ts';

export interface DeviceLimits {
  /** Largest single GPUBuffer. */
  maxBufferSize: number;
  /** Largest range of a buffer one storage binding can see; a tensor above it is split by the engine. */
  maxStorageBufferBindingSize: number;
  maxStorageBuffersPerShaderStage: number;
  maxComputeWorkgroupStorageSize: number;
  maxComputeInvocationsPerWorkgroup: number;
  maxComputeWorkgroupSizeX: number;
  maxComputeWorkgroupsPerDimension: number;
}

export interface DeviceCaps {
  available: boolean;
  /** Why WebGPU is not available (when available is false), in words a user can act on. */
  reason?: string;
  adapter?: { vendor: string; architecture: string; description: string };
  features: { shaderF16: boolean; subgroups: boolean };
  limits: DeviceLimits;
  /**
   * The most memory one model may take on this device, when something better than the default is known
   * (WebGPU does not report GPU memory; see DEFAULT_MEMORY_BUDGET_BYTES in check.ts).
   */
  memoryBudgetBytes?: number;
  /** True when these caps were assumed rather than probed (the CLI; tests). */
  assumed?: boolean;
  /**
   * The adapter is a software one (the browser's fallback adapter, or SwiftShader: Vulkan on the CPU). Our WebGPU
   * kernels run there, but llama.cpp's WebAssembly build is several times faster on the same CPU, so GGUF goes there.
   */
  software?: boolean;
}

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

/**
 * The WebGPU spec's guaranteed minimums: what every adapter offers. A device with nothing better is the worst case
 * the engine must still handle (128 MiB bindings: many Android phones).
 */
export const WEBGPU_MINIMUM_LIMITS: DeviceLimits = {
  maxBufferSize: 256 * MiB,
  maxStorageBufferBindingSize: 128 * MiB,
  maxStorageBuffersPerShaderStage: 8,
  maxComputeWorkgroupStorageSize: 16384,
  maxComputeInvocationsPerWorkgroup: 256,
  maxComputeWorkgroupSizeX: 256,
  maxComputeWorkgroupsPerDimension: 65535,
};

/**
 * Assumed when no GPU can be asked (Node, the CLI): a typical desktop discrete GPU under Chrome — shader-f16 and
 * subgroups present, 2 GiB buffers and bindings (Chrome reports 2^31 or a little less on most desktop D3D12 / Vulkan /
 * Metal adapters), and the memory budget left to the check's default. A verdict built on it says the caps were assumed.
 */
export const DEFAULT_DESKTOP_CAPS: DeviceCaps = {
  available: true,
  adapter: { vendor: '', architecture: '', description: 'typical desktop GPU' },
  features: { shaderF16: true, subgroups: true },
  limits: {
    maxBufferSize: 2 * GiB,
    maxStorageBufferBindingSize: 2 * GiB - 4,
    maxStorageBuffersPerShaderStage: 10,
    maxComputeWorkgroupStorageSize: 32768,
    maxComputeInvocationsPerWorkgroup: 1024,
    maxComputeWorkgroupSizeX: 1024,
    maxComputeWorkgroupsPerDimension: 65535,
  },
  assumed: true,
};

function unavailable(reason: string): DeviceCaps {
  return {
    available: false,
    reason,
    features: { shaderF16: false, subgroups: false },
    limits: { ...WEBGPU_MINIMUM_LIMITS },
  };
}

/** The minimal shape of navigator.gpu we use, so the probe can be tested with a stand-in. */
interface GpuLike {
  requestAdapter(options?: { powerPreference?: 'high-performance' | 'low-power' }): Promise<AdapterLike | null>;
}
interface AdapterLike {
  features: { has(name: string): boolean };
  limits: Record<string, unknown>;
  info?: { vendor?: string; architecture?: string; description?: string; device?: string; isFallbackAdapter?: boolean };
  /** Older spelling (Chrome < 132); the spec moved it to adapter.info. */
  isFallbackAdapter?: boolean;
}

/**
 * A software adapter: the spec's fallback-adapter flag, or SwiftShader by name (Chromium's CPU Vulkan, which it does
 * not always flag as a fallback: headless and blocklisted-GPU Chromium report it as an ordinary adapter).
 */
export function isSoftwareAdapter(adapter: Pick<AdapterLike, 'info' | 'isFallbackAdapter'>): boolean {
  const info = adapter.info ?? {};
  if (info.isFallbackAdapter === true || adapter.isFallbackAdapter === true) return true;
  return [info.architecture, info.description, info.device].some((s) => typeof s === 'string' && /swiftshader/i.test(s));
}

/**
 * Probes this browser's WebGPU adapter (high-performance preference, as the engine asks). Never throws: a missing
 * navigator.gpu, a null adapter or a failing request all give `available: false` with the reason and what to do.
 */
export async function probeDeviceCaps(gpu: GpuLike | undefined = defaultGpu()): Promise<DeviceCaps> {
  if (!gpu) {
    return unavailable(
      typeof navigator === 'undefined'
        ? 'There is no browser here to ask for a GPU (WebGPU exists only in a browser).'
        : 'This browser has no WebGPU (navigator.gpu is missing). Use a recent Chrome or Edge (113+), Safari 26+ or ' +
            'Firefox 141+ on Windows/macOS, over https or localhost — or run the model on the companion.',
    );
  }
  let adapter: AdapterLike | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (e) {
    return unavailable(`Asking for a WebGPU adapter failed: ${e instanceof Error ? e.message : String(e)}.`);
  }
  if (!adapter) {
    return unavailable(
      'WebGPU is present but offered no adapter: the GPU may be blocklisted or hardware acceleration turned off ' +
        '(chrome://gpu says which). Enable it, update the GPU driver, or run the model on the companion.',
    );
  }
  const num = (name: keyof DeviceLimits): number => {
    const v = adapter.limits[name];
    return typeof v === 'number' ? v : WEBGPU_MINIMUM_LIMITS[name];
  };
  const info = adapter.info ?? {};
  return {
    available: true,
    ...(isSoftwareAdapter(adapter) ? { software: true } : {}),
    adapter: {
      vendor: info.vendor ?? '',
      architecture: info.architecture ?? '',
      description: info.description || info.device || '',
    },
    features: { shaderF16: adapter.features.has('shader-f16'), subgroups: adapter.features.has('subgroups') },
    limits: {
      maxBufferSize: num('maxBufferSize'),
      maxStorageBufferBindingSize: num('maxStorageBufferBindingSize'),
      maxStorageBuffersPerShaderStage: num('maxStorageBuffersPerShaderStage'),
      maxComputeWorkgroupStorageSize: num('maxComputeWorkgroupStorageSize'),
      maxComputeInvocationsPerWorkgroup: num('maxComputeInvocationsPerWorkgroup'),
      maxComputeWorkgroupSizeX: num('maxComputeWorkgroupSizeX'),
      maxComputeWorkgroupsPerDimension: num('maxComputeWorkgroupsPerDimension'),
    },
  };
}

function defaultGpu(): GpuLike | undefined {
  if (typeof navigator === 'undefined') return undefined;
  return (navigator as { gpu?: GpuLike }).gpu;
}

/** One line for the UI and the CLI: "NVIDIA ampere · f16 · subgroups · binding 2 GiB". */
export function describeDeviceCaps(caps: DeviceCaps): string {
  if (!caps.available) return `no WebGPU: ${caps.reason ?? 'unknown reason'}`;
  const a = caps.adapter;
  const name = [a?.vendor, a?.architecture, a?.description].filter((s) => s).join(' ') || 'WebGPU adapter';
  const f = [caps.features.shaderF16 ? 'shader-f16' : 'no shader-f16', caps.features.subgroups ? 'subgroups' : 'no subgroups'];
  const binding = `binding ${formatBytes(caps.limits.maxStorageBufferBindingSize)}`;
  return `${name}${caps.assumed ? ' (assumed)' : ''}${caps.software ? ' (software adapter)' : ''} · ${f.join(' · ')} · ${binding}`;
}

