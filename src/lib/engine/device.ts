/**
 * The GPU device the engine runs on: asks for the adapter's limits the engine can use (never more than the adapter
 * offers), probes shader-f16 and subgroups once, and turns device loss into a flag the engine checks before every
 * call, so a lost device gives RbeeError('device-lost') rather than silent garbage.
 */
import { RbeeError } from '../errors.ts';

export interface GpuLimits {
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
  maxComputeWorkgroupStorageSize: number;
  maxComputeInvocationsPerWorkgroup: number;
  maxComputeWorkgroupsPerDimension: number;
  maxStorageBuffersPerShaderStage: number;
}

export interface GpuCaps {
  vendor: string;
  architecture: string;
  shaderF16: boolean;
  /** The subgroups feature and WGSL's subgroup_id builtin (subgroup matrix-vector kernels need both). */
  subgroups: boolean;
  subgroupId: boolean;
  /** GPU timestamps inside compute passes (the decode profile's per-kernel times). */
  timestampQuery: boolean;
  /** Smallest subgroup size the adapter reports (0 when unknown). */
  subgroupMinSize: number;
  limits: GpuLimits;
}

/** The limits whose adapter maximum we ask for: bigger bindings mean fewer tensor splits; the rest we stay within. */
const WANTED_LIMITS: (keyof GpuLimits)[] = [
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
];

export class GpuContext {
  /** Set when the device is lost (driver reset, GPU process crash, destroy()); the reason is kept for the error. */
  lostReason: string | undefined;

  private constructor(
    readonly device: GPUDevice,
    readonly caps: GpuCaps,
  ) {
    device.lost.then((info) => {
      this.lostReason = info.message || info.reason || 'unknown';
    });
  }

  static async open(requiredLimits: Partial<Record<keyof GpuLimits, number>> = {}): Promise<GpuContext> {
    const gpu = typeof navigator === 'undefined' ? undefined : (navigator as Navigator & { gpu?: GPU }).gpu;
    if (!gpu) {
      throw new RbeeError('no-webgpu', 'This browser has no WebGPU (navigator.gpu is missing).', {
        hint: 'Use a recent Chrome or Edge (113+), Safari 26+ or Firefox 141+, over https or localhost.',
      });
    }
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) {
      throw new RbeeError('no-webgpu', 'WebGPU is present but offered no adapter.', {
        hint: 'The GPU may be blocklisted or hardware acceleration turned off (chrome://gpu says which).',
      });
    }
    const limits = {} as GpuLimits;
    const request: Record<string, number> = {};
    for (const name of WANTED_LIMITS) {
      const offered = adapter.limits[name] as number;
      const needed = requiredLimits[name];
      if (needed !== undefined && needed > offered) {
        throw new RbeeError('out-of-memory', `This model needs ${name} ${needed}, but this GPU offers ${offered}.`, {
          hint: 'Use a smaller model or quantization, or another device.',
        });
      }
      request[name] = offered;
      limits[name] = offered;
    }
    const shaderF16 = adapter.features.has('shader-f16');
    const subgroups = adapter.features.has('subgroups');
    const features: GPUFeatureName[] = [];
    if (shaderF16) features.push('shader-f16');
    if (subgroups) features.push('subgroups' as GPUFeatureName);
    const timestampQuery = adapter.features.has('timestamp-query');
    if (timestampQuery) features.push('timestamp-query');
    let device: GPUDevice;
    try {
      device = await adapter.requestDevice({ requiredFeatures: features, requiredLimits: request });
    } catch (e) {
      throw new RbeeError('no-webgpu', `The GPU refused to open a device: ${e instanceof Error ? e.message : String(e)}.`, {
        cause: e,
        hint: 'Close other GPU-heavy tabs and try again, or update the GPU driver.',
      });
    }
    const info = adapter.info as GPUAdapterInfo & { subgroupMinSize?: number };
    return new GpuContext(device, {
      vendor: info.vendor ?? '',
      architecture: info.architecture ?? '',
      shaderF16,
      subgroups,
      subgroupId: subgroups && (gpu.wgslLanguageFeatures?.has('subgroup_id') ?? false),
      timestampQuery,
      subgroupMinSize: info.subgroupMinSize ?? 0,
      limits,
    });
  }

  /**
   * After a GPU call failed: waits briefly for the device's lost promise (it settles after the failing call
   * rejects), so the caller can tell device loss from other failures.
   */
  async settle(ms = 200): Promise<void> {
    if (this.lostReason !== undefined) return;
    await Promise.race([this.device.lost, new Promise((r) => setTimeout(r, ms))]);
    if (this.lostReason === undefined) {
      // The lost promise's own handler runs in a later microtask than this race's: let it.
      await Promise.resolve();
    }
  }

  get lost(): boolean {
    return this.lostReason !== undefined;
  }

  /** Throws device-lost when the device is gone: every engine call starts with this. */
  assertAlive(): void {
    if (this.lostReason !== undefined) {
      throw new RbeeError('device-lost', `The GPU device was lost (${this.lostReason}).`, {
        hint: 'Load the model again; if it keeps happening, the model may be too big for this GPU.',
      });
    }
  }

  destroy(): void {
    this.device.destroy();
  }
}
