// What the WebGPU op tests share: one device, buffers from typed arrays, running a pass and reading one buffer back,
// and a relative-error check stated in units of the tolerance.
import { expect } from 'vitest';
import type { GpuContext } from '../../src/lib/engine/device.ts';

export function gpuOpHarness(context: () => GpuContext) {
  const device = () => context().device;
  return {
    storage(data: Float32Array | Uint32Array): GPUBuffer {
      const b = device().createBuffer({ size: Math.ceil(data.byteLength / 16) * 16, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC });
      device().queue.writeBuffer(b, 0, data);
      return b;
    },
    uniform(data: ArrayBuffer | Uint32Array): GPUBuffer {
      const bytes = data instanceof ArrayBuffer ? data : data.buffer;
      const b = device().createBuffer({ size: Math.max(32, Math.ceil(bytes.byteLength / 16) * 16), usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
      device().queue.writeBuffer(b, 0, bytes as ArrayBuffer);
      return b;
    },
    async run(encode: (pass: GPUComputePassEncoder) => void, out: GPUBuffer, floats: number): Promise<Float32Array> {
      const r = device().createBuffer({ size: floats * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      const enc = device().createCommandEncoder();
      const pass = enc.beginComputePass();
      encode(pass);
      pass.end();
      enc.copyBufferToBuffer(out, 0, r, 0, floats * 4);
      device().queue.submit([enc.finish()]);
      await r.mapAsync(GPUMapMode.READ);
      return new Float32Array(r.getMappedRange().slice(0));
    },
  };
}

export function expectClose(got: Float32Array, want: ArrayLike<number>, tol: number): void {
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!) / (tol * (1 + Math.abs(want[i]!))));
  expect(worst, 'worst error in units of the tolerance').toBeLessThanOrEqual(1);
}
