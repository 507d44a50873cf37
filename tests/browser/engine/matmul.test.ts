// Every weight type's matrix-vector (decode; subgroup and shared-memory variants), matrix-matrix (prefill) and embedding kernels against the CPU
// reference decoders (tests/support/dequant-reference.ts) on random blocks: random bits with finite f16 scales.
// Tolerance: |gpu − ref| ≤ 2e-5 · Σ|w·x| + 1e-6 — float32 summation-order error, far below any decoding mistake
// (a wrong nibble, scale or sign moves the result by ~1e-2 of that sum).
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { GpuContext } from '../../../src/lib/engine/device.ts';
import { MATMUL_FLAGS, MatmulKernels, packEmbeddingParams, packMatmulParams } from '../../../src/lib/engine/kernels/matmul.ts';
import { weightFormat } from '../../../src/lib/engine/kernels/weight-formats.ts';
import { type WeightMatrix, WeightUploader } from '../../../src/lib/engine/weights.ts';
import { STEP } from '../../../src/lib/engine/kernels/kernel.ts';
import { MemoryByteSource } from '../../../src/lib/formats/memory-source.ts';
import { ggmlTypeName } from '../../../src/lib/formats/ggml-types.ts';
import { dequantize, randomWeights } from '../../support/dequant-reference.ts';
import { seeded } from '../../support/seeded-random.ts';

const TYPES = [0, 1, 30, 2, 3, 6, 7, 8, 20, 10, 11, 12, 13, 14];
const K = 512;
const N = 37; // not a multiple of any workgroup's rows
const T = 7; // not a multiple of the 4-token tile

let ctx: GpuContext;
let kernels: MatmulKernels;
let sharedMemoryKernels: MatmulKernels;
beforeAll(async () => {
  ctx = await GpuContext.open();
  kernels = new MatmulKernels(ctx.device, ctx.caps);
  sharedMemoryKernels = new MatmulKernels(ctx.device, ctx.caps, false);
});
afterAll(() => ctx?.destroy());

function storage(data: Float32Array | Uint32Array, size = data.byteLength): GPUBuffer {
  const b = ctx.device.createBuffer({ size: Math.ceil(size / 16) * 16, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC });
  ctx.device.queue.writeBuffer(b, 0, data);
  return b;
}
function uniform(data: ArrayBuffer | Uint32Array): GPUBuffer {
  const b = ctx.device.createBuffer({ size: Math.max(48, Math.ceil(data.byteLength / 16) * 16), usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  ctx.device.queue.writeBuffer(b, 0, data);
  return b;
}
async function read(b: GPUBuffer, floats: number): Promise<Float32Array> {
  const r = ctx.device.createBuffer({ size: floats * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const enc = ctx.device.createCommandEncoder();
  enc.copyBufferToBuffer(b, 0, r, 0, floats * 4);
  ctx.device.queue.submit([enc.finish()]);
  await r.mapAsync(GPUMapMode.READ);
  const out = new Float32Array(r.getMappedRange().slice(0));
  r.destroy();
  return out;
}

async function upload(type: number, bytes: Uint8Array, maxBinding = 1 << 30): Promise<WeightMatrix> {
  const counter = { bytes: 0, tensors: 0, report: () => {} };
  const uploader = new WeightUploader(ctx.device, [new MemoryByteSource(bytes)], maxBinding, counter);
  const m = await uploader.matrix({ name: 'w', dims: [K, N], type, typeName: ggmlTypeName(type), offset: 0, size: bytes.byteLength, file: 0 });
  expect(counter.bytes).toBe(bytes.byteLength);
  return m;
}

/** Y = W·X (T tokens) on the GPU, Y starting at row `pos0` with `accumulate` onto a known Y. */
async function gpuProduct(m: WeightMatrix, x: Float32Array, tokens: number, y0: Float32Array, k = kernels): Promise<Float32Array> {
  const xBuf = storage(x);
  const yBuf = storage(y0);
  const step = uniform(STEP.pack({ pos0: 0, T: tokens }));
  const enc = ctx.device.createCommandEncoder();
  const pass = enc.beginComputePass();
  for (const part of m.parts) {
    const params = uniform(
      packMatmulParams({ rows: part.rows, units: K / m.format.unitElems, rowBytes: m.rowBytes, rowOffset: part.firstRow, xOffset: 0, xStride: K / 4, yOffset: 0, yStride: N, flags: MATMUL_FLAGS.ACCUMULATE }),
    );
    const group = k.bind([{ buffer: part.buffer }, { buffer: xBuf }, { buffer: yBuf }, { buffer: params }, { buffer: step }]);
    k.encode(pass, m.format, group, part.rows, K / m.format.unitElems, tokens);
  }
  pass.end();
  ctx.device.queue.submit([enc.finish()]);
  return read(yBuf, N * tokens);
}

function check(w: Float32Array, x: Float32Array, tokens: number, y0: Float32Array, got: Float32Array) {
  let worst = 0;
  for (let t = 0; t < tokens; t++) {
    for (let r = 0; r < N; r++) {
      let ref = y0[t * N + r]!;
      let mag = Math.abs(ref);
      for (let k = 0; k < K; k++) {
        ref += w[r * K + k]! * x[t * K + k]!;
        mag += Math.abs(w[r * K + k]! * x[t * K + k]!);
      }
      const err = Math.abs(got[t * N + r]! - ref) / (2e-5 * mag + 1e-6);
      worst = Math.max(worst, err);
    }
  }
  expect(worst, 'worst error in units of the tolerance').toBeLessThanOrEqual(1);
}

describe.each(TYPES.map((type) => [ggmlTypeName(type), type] as const))('%s', (_name, type) => {
  test('matrix-vector, matrix-matrix and embedding equal the reference decoder', async () => {
    const rand = seeded(1000 + type);
    const bytes = randomWeights(type, K, N, rand);
    const w = dequantize(type, bytes, K, N);
    expect(w.every(Number.isFinite)).toBe(true);
    const m = await upload(type, bytes);
    const x = Float32Array.from({ length: K * T }, () => rand() * 2 - 1);
    const y0 = Float32Array.from({ length: N * T }, () => rand() - 0.5);

    check(w, x, 1, y0, await gpuProduct(m, x, 1, y0));
    check(w, x, 1, y0, await gpuProduct(m, x, 1, y0, sharedMemoryKernels));
    check(w, x, T, y0, await gpuProduct(m, x, T, y0));

    // Embedding rows by id, including the first and last rows.
    const ids = [0, N - 1, 5, 17];
    const idBuf = storage(new Uint32Array(ids));
    const out = storage(new Float32Array(ids.length * K));
    const step = uniform(STEP.pack({ pos0: 0, T: ids.length }));
    const p = packEmbeddingParams({ rows: m.parts[0]!.rows, units: K / m.format.unitElems, rowBytes: m.rowBytes, rowOffset: 0, yOffset: 0, yStride: K, scale: 1 });
    const group = kernels.bind([{ buffer: m.parts[0]!.buffer }, { buffer: idBuf }, { buffer: out }, { buffer: uniform(p) }, { buffer: step }], true);
    const enc = ctx.device.createCommandEncoder();
    const pass = enc.beginComputePass();
    kernels.encodeEmbedding(pass, weightFormat(type), group, K / m.format.unitElems, ids.length);
    pass.end();
    ctx.device.queue.submit([enc.finish()]);
    const rows = await read(out, ids.length * K);
    ids.forEach((id, i) => {
      for (let k = 0; k < K; k++) expect(Math.abs(rows[i * K + k]! - w[id * K + k]!)).toBeLessThanOrEqual(1e-6 * Math.abs(w[id * K + k]!) + 1e-7);
    });
  });
});

test('a matrix above the binding limit is split by rows and still multiplies right (Q6_K, odd-sized blocks)', async () => {
  const rand = seeded(7);
  const bytes = randomWeights(14, K, N, rand);
  const rowBytes = (K / 256) * 210;
  const m = await upload(14, bytes, rowBytes * 10 + 16);
  expect(m.parts.map((p) => p.rows)).toEqual([10, 10, 10, 7]);
  const x = Float32Array.from({ length: K * T }, () => rand() * 2 - 1);
  const y0 = new Float32Array(N * T);
  const w = dequantize(14, bytes, K, N);
  check(w, x, 1, y0, await gpuProduct(m, x, 1, y0));
  check(w, x, 1, y0, await gpuProduct(m, x, 1, y0, sharedMemoryKernels));
  check(w, x, T, y0, await gpuProduct(m, x, T, y0));
});

test('both matrix-vector variants are there to test: this adapter has subgroups with subgroup_id', () => {
  // SwiftShader (CI) has them; elsewhere the shared-memory variant alone is what runs and is tested.
  if (ctx.caps.architecture === 'swiftshader') expect(kernels.subgroupRows).toBeGreaterThan(0);
  expect(sharedMemoryKernels.subgroupRows).toBe(0);
});
