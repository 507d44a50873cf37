// The prefill kernels beside the attention (prefill-attention.test.ts), against CPU references:
// - the register-tiled matrix-matrix product (prefill-matmul.ts) for every weight type through its decoder
//   (tests/support/dequant-reference.ts), in both shapes ('direct': register tiles of 4 rows × 8 tokens; 'tiled':
//   shared-memory tiles of 64 rows × 32 tokens), at sizes that are not multiples of their tiles — 298 rows and 37
//   tokens — accumulating into a known Y at cache rows pos0… (ACCUMULATE | Y_AT_POS, as the attention-output and K/V
//   products use them);
// - RMSNorm's per-token prefill shape (software adapters), plain and accumulating, against the workgroup kernel's
//   reference.
// Tolerance as matmul.test.ts: |gpu − ref| ≤ 2e-5 · Σ|w·x| + 1e-6.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ggmlTypeName } from '../../../src/lib/formats/ggml-types.ts';
import { MemoryByteSource } from '../../../src/lib/formats/memory-source.ts';
import { GpuContext } from '../../../src/lib/engine/device.ts';
import { MATMUL_FLAGS, MatmulKernels, packMatmulParams } from '../../../src/lib/engine/kernels/matmul.ts';
import { PREFILL_TILES, PrefillMatmulKernels } from '../../../src/lib/engine/kernels/prefill-matmul.ts';
import { packRmsNormParams, RMSNORM_FLAGS, RmsNormKernel } from '../../../src/lib/engine/kernels/rmsnorm.ts';
import { WeightUploader } from '../../../src/lib/engine/weights.ts';
import { STEP } from '../../../src/lib/engine/kernels/kernel.ts';
import { dequantize, randomWeights } from '../../support/dequant-reference.ts';
import { expectClose, gpuOpHarness } from '../../support/gpu-op-harness.ts';
import { seeded } from '../../support/seeded-random.ts';

const TYPES = [0, 1, 30, 2, 3, 6, 7, 8, 20, 10, 11, 12, 13, 14];
const K = 256;
const N = 298;
const T = 37;
const POS0 = 2;

let ctx: GpuContext;
let kernels: MatmulKernels;
beforeAll(async () => {
  ctx = await GpuContext.open();
  kernels = new MatmulKernels(ctx.device, ctx.caps);
});
afterAll(() => ctx?.destroy());
const { storage, uniform, run } = gpuOpHarness(() => ctx);

test('the engine uses the barrier-free shape on SwiftShader', () => {
  if (ctx.caps.architecture === 'swiftshader') expect(kernels.prefill.shape).toBe('direct');
  else expect(kernels.prefill.shape).toBe('tiled');
});

test('the sizes are not multiples of the tile', () => {
  for (const tile of Object.values(PREFILL_TILES)) {
    expect(N % (16 * tile.rows)).not.toBe(0);
    expect(N % tile.rows).not.toBe(0);
    expect(T % tile.tokens).not.toBe(0);
  }
  expect(T).toBeGreaterThan(32); // more than one token tile of the 'tiled' shape
  expect(T % 32).not.toBe(0);
  expect(N % 64).not.toBe(0);
});

describe.each(TYPES.map((type) => [ggmlTypeName(type), type] as const))('%s', (_name, type) => {
  test.each(['direct', 'tiled'] as const)('%s prefill product (T = 37, 298 rows) accumulated at cache rows pos0… equals the reference decoder', async (shape) => {
    const prefill = new PrefillMatmulKernels(ctx.device, kernels.layout, shape);
    const rand = seeded(1800 + type);
    const bytes = randomWeights(type, K, N, rand);
    const w = dequantize(type, bytes, K, N);
    const counter = { bytes: 0, tensors: 0, report: () => {} };
    const m = await new WeightUploader(ctx.device, [new MemoryByteSource(bytes)], 1 << 30, counter).matrix({
      name: 'w',
      dims: [K, N],
      type,
      typeName: ggmlTypeName(type),
      offset: 0,
      size: bytes.byteLength,
      file: 0,
    });
    const x = Float32Array.from({ length: K * T }, () => rand() * 2 - 1);
    const rows = POS0 + T;
    const y0 = Float32Array.from({ length: N * rows }, () => rand() - 0.5);
    const yBuf = storage(y0);
    const xBuf = storage(x);
    const step = uniform(STEP.pack({ pos0: POS0, T }));
    const groups = m.parts.map((part) => ({
      rows: part.rows,
      group: kernels.bind([
        { buffer: part.buffer },
        { buffer: xBuf },
        { buffer: yBuf },
        {
          buffer: uniform(
            packMatmulParams({
              rows: part.rows,
              units: K / m.format.unitElems,
              rowBytes: m.rowBytes,
              rowOffset: part.firstRow,
              xOffset: 0,
              xStride: K / 4,
              yOffset: 0,
              yStride: N,
              flags: MATMUL_FLAGS.ACCUMULATE | MATMUL_FLAGS.Y_AT_POS,
            }),
          ),
        },
        { buffer: step },
      ]),
    }));
    const got = await run((pass) => {
      for (const g of groups) prefill.encode(pass, m.format, g.group, g.rows, T);
    }, yBuf, N * rows);
    let worst = 0;
    for (let r = 0; r < N * POS0; r++) expect(got[r]).toBe(y0[r]); // rows below pos0 untouched
    for (let t = 0; t < T; t++) {
      for (let r = 0; r < N; r++) {
        const o = (POS0 + t) * N + r;
        let ref = y0[o]!;
        let mag = Math.abs(ref);
        for (let k = 0; k < K; k++) {
          ref += w[r * K + k]! * x[t * K + k]!;
          mag += Math.abs(w[r * K + k]! * x[t * K + k]!);
        }
        worst = Math.max(worst, Math.abs(got[o]! - ref) / (2e-5 * mag + 1e-6));
      }
    }
    expect(worst, 'worst error in units of the tolerance').toBeLessThanOrEqual(1);
  });
});

test('RMSNorm per-token prefill shape: 70 tokens of 96, plain and accumulating, equal the reference', async () => {
  const rand = seeded(3);
  const n = 96;
  const tokens = 70; // more than one 64-invocation workgroup
  const eps = 1e-5;
  const x = Float32Array.from({ length: n * tokens }, () => (rand() * 2 - 1) * 3);
  const g = Float32Array.from({ length: n }, () => rand() * 2 - 1);
  const y0 = Float32Array.from({ length: n * tokens }, () => rand() - 0.5);
  const k = new RmsNormKernel(ctx.device, true);
  expect(k.perTokenPipeline).toBeDefined();
  for (const accumulate of [false, true]) {
    const want = new Float32Array(n * tokens);
    for (let t = 0; t < tokens; t++) {
      let ss = 0;
      for (let i = 0; i < n; i++) ss += x[t * n + i]! ** 2;
      const inv = 1 / Math.sqrt(ss / n + eps);
      for (let i = 0; i < n; i++) want[t * n + i] = (accumulate ? y0[t * n + i]! : 0) + x[t * n + i]! * inv * g[i]!;
    }
    const out = storage(y0);
    const group = k.bind([
      { buffer: storage(x) },
      { buffer: storage(g) },
      { buffer: out },
      { buffer: uniform(packRmsNormParams(n, eps, accumulate ? RMSNORM_FLAGS.ACCUMULATE : 0)) },
      { buffer: uniform(STEP.pack({ pos0: 0, T: tokens })) },
    ]);
    expectClose(await run((p) => k.encode(p, group, tokens), out, n * tokens), want, 1e-5);
  }
});
