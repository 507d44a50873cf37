// RMSNorm, RoPE (both layouts, cache rows), attention (grouped-query, causal, across the online-softmax chunk
// boundary) and the gated activations against plain CPU references. Float32 tolerances are stated per check.
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { RopeConfig } from '../../../src/lib/engine/architectures/architecture.ts';
import { GpuContext } from '../../../src/lib/engine/device.ts';
import { ACTIVATION, ActivationKernels, packGateParams } from '../../../src/lib/engine/kernels/activation.ts';
import { AttentionKernel, packAttentionParams } from '../../../src/lib/engine/kernels/attention.ts';
import { packRmsNormParams, RMSNORM_FLAGS, RmsNormKernel } from '../../../src/lib/engine/kernels/rmsnorm.ts';
import { packRopeParams, ROPE_FLAGS, RopeKernel, ropeTable } from '../../../src/lib/engine/kernels/rope.ts';
import { STEP } from '../../../src/lib/engine/kernels/kernel.ts';
import { expectClose, gpuOpHarness } from '../../support/gpu-op-harness.ts';
import { seeded } from '../../support/seeded-random.ts';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await GpuContext.open();
});
afterAll(() => ctx?.destroy());

const { storage, uniform, run } = gpuOpHarness(() => ctx);
const rand = seeded(42);
const randoms = (n: number, scale = 1) => Float32Array.from({ length: n }, () => (rand() * 2 - 1) * scale);

test('RMSNorm per token, and LAST_TOKEN into row 0', async () => {
  const n = 264; // n/4 = 66: more than one pass of the workgroup
  const T = 3;
  const eps = 1e-5;
  const x = randoms(n * T, 3);
  const g = randoms(n);
  const want = new Float32Array(n * T);
  for (let t = 0; t < T; t++) {
    let ss = 0;
    for (let i = 0; i < n; i++) ss += x[t * n + i]! ** 2;
    const inv = 1 / Math.sqrt(ss / n + eps);
    for (let i = 0; i < n; i++) want[t * n + i] = x[t * n + i]! * inv * g[i]!;
  }
  const k = new RmsNormKernel(ctx.device);
  const step = uniform(STEP.pack({ pos0: 0, T }));
  for (const last of [false, true]) {
    const y = storage(new Float32Array(n * T));
    const group = k.bind([{ buffer: storage(x) }, { buffer: storage(g) }, { buffer: y }, { buffer: uniform(packRmsNormParams(n, eps, last ? RMSNORM_FLAGS.LAST_TOKEN : 0)) }, { buffer: step }]);
    const got = await run((p) => k.encode(p, group, last ? 1 : T), y, n * T);
    expectClose(last ? got.subarray(0, n) : got, last ? want.subarray((T - 1) * n) : want, 1e-5);
  }
});

const plainRope = (nRot: number, freqBase = 10000): RopeConfig => ({
  layout: 'interleaved', nRot, freqBase, scaling: 'none', factor: 1, originalContextLength: 4096, attnFactor: 1, betaFast: 32, betaSlow: 1, lowFreqFactor: 1, highFreqFactor: 4,
});

test('rope table: plain angles, linear scaling divides them, Llama 3 factors leave high frequencies alone', () => {
  const r = plainRope(16);
  const table = ropeTable(r, 10);
  for (const [pos, i] of [[3, 0], [7, 5], [9, 7]] as const) {
    const theta = pos * Math.pow(10000, (-2 * i) / 16);
    expect(table[(pos * 8 + i) * 2]).toBeCloseTo(Math.cos(theta), 5);
    expect(table[(pos * 8 + i) * 2 + 1]).toBeCloseTo(Math.sin(theta), 5);
  }
  const linear = ropeTable({ ...r, scaling: 'linear', factor: 4 }, 10);
  const theta = 8 * Math.pow(10000, -2 / 16) / 4;
  expect(linear[(8 * 8 + 1) * 2]).toBeCloseTo(Math.cos(theta), 5);
  const llama3 = ropeTable({ ...r, scaling: 'llama3', factor: 8, originalContextLength: 64, freqBase: 500000 }, 10);
  expect(llama3[(5 * 8 + 0) * 2]).toBeCloseTo(Math.cos(5), 5); // pair 0: wavelength 2π < 64/4, unscaled
  const slow = (5 * Math.pow(500000, -14 / 16)) / 8; // pair 7: wavelength past 64/1, divided by the factor
  expect(llama3[(5 * 8 + 7) * 2 + 1]).toBeCloseTo(Math.sin(slow), 6);
  const yarn = ropeTable({ ...r, scaling: 'yarn', factor: 4 }, 4);
  expect(Math.hypot(yarn[(2 * 8 + 3) * 2]!, yarn[(2 * 8 + 3) * 2 + 1]!)).toBeCloseTo(1 + 0.1 * Math.log(4), 5); // YaRN mscale
});

for (const layout of ['interleaved', 'neox'] as const) {
  test(`RoPE ${layout}: query rows by token and cache rows by position, partial rotation`, async () => {
    const nHeads = 3;
    const headDim = 16;
    const nRot = 12; // the last 4 dims of each head pass through
    const T = 2;
    const pos0 = 5;
    const rope = { ...plainRope(nRot), layout };
    const table = ropeTable(rope, 16);
    const stride = nHeads * headDim;
    const k = new RopeKernel(ctx.device);
    const step = uniform(STEP.pack({ pos0, T }));
    for (const atPos of [false, true]) {
      const rows = atPos ? pos0 + T : T;
      const x = randoms(rows * stride);
      const want = Float32Array.from(x);
      for (let t = 0; t < T; t++) {
        const pos = pos0 + t;
        const row = atPos ? pos : t;
        for (let h = 0; h < nHeads; h++) {
          const base = row * stride + h * headDim;
          for (let i = 0; i < nRot / 2; i++) {
            const theta = pos * Math.pow(10000, (-2 * i) / nRot);
            const [a, b] = layout === 'neox' ? [base + i, base + i + nRot / 2] : [base + 2 * i, base + 2 * i + 1];
            want[a] = x[a]! * Math.cos(theta) - x[b]! * Math.sin(theta);
            want[b] = x[a]! * Math.sin(theta) + x[b]! * Math.cos(theta);
          }
        }
      }
      const buf = storage(x);
      const flags = (layout === 'neox' ? ROPE_FLAGS.NEOX : 0) | (atPos ? ROPE_FLAGS.AT_POS : 0);
      const group = k.bind([{ buffer: storage(table) }, { buffer: buf }, { buffer: uniform(packRopeParams({ nHeads, headDim, nRot, offset: 0, stride, flags })) }, { buffer: step }]);
      expectClose(await run((p) => k.encode(p, group, nHeads, nRot, T), buf, rows * stride), want, 1e-5);
    }
  });
}

async function attentionCase(nHead: number, nHeadKv: number, headDim: number, pos0: number, T: number) {
  const kvDim = nHeadKv * headDim;
  const ctxLen = pos0 + T;
  const q = randoms(T * nHead * headDim, 2);
  const kc = randoms(ctxLen * kvDim, 2);
  const vc = randoms(ctxLen * kvDim);
  const want = new Float32Array(T * nHead * headDim);
  for (let t = 0; t < T; t++) {
    for (let h = 0; h < nHead; h++) {
      const kvh = Math.floor(h / (nHead / nHeadKv));
      const n = pos0 + t + 1;
      const s = new Float64Array(n);
      for (let j = 0; j < n; j++) {
        let d = 0;
        for (let i = 0; i < headDim; i++) d += q[(t * nHead + h) * headDim + i]! * kc[j * kvDim + kvh * headDim + i]!;
        s[j] = d / Math.sqrt(headDim);
      }
      const m = Math.max(...s);
      let sum = 0;
      for (let j = 0; j < n; j++) sum += (s[j] = Math.exp(s[j]! - m));
      for (let i = 0; i < headDim; i++) {
        let o = 0;
        for (let j = 0; j < n; j++) o += (s[j]! / sum) * vc[j * kvDim + kvh * headDim + i]!;
        want[(t * nHead + h) * headDim + i] = o;
      }
    }
  }
  const k = new AttentionKernel(ctx.device);
  const out = storage(new Float32Array(want.length));
  const group = k.bind([
    { buffer: storage(q) }, { buffer: storage(kc) }, { buffer: storage(vc) }, { buffer: out },
    { buffer: uniform(packAttentionParams({ nHead, nHeadKv, headDim })) }, { buffer: uniform(STEP.pack({ pos0, T })) },
  ]);
  expectClose(await run((p) => k.encode(p, group, nHead, T), out, want.length), want, 2e-5);
}

test('attention: grouped-query heads, causal over the cache', () => attentionCase(4, 2, 16, 5, 3));
test('attention: head dim 128 and keys across chunk boundaries (online softmax)', () => attentionCase(2, 1, 128, 600, 2));

test('gated activations: SiLU and GELU (tanh)', async () => {
  const n = 64;
  const T = 2;
  const g = randoms(n * T, 6);
  const u = randoms(n * T);
  const k = new ActivationKernels(ctx.device);
  const step = uniform(STEP.pack({ pos0: 0, T }));
  for (const kind of [ACTIVATION.SILU, ACTIVATION.GELU]) {
    const want = Array.from(g, (x, i) => {
      const a = kind === ACTIVATION.SILU ? x / (1 + Math.exp(-x)) : 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * x * (1 + 0.044715 * x * x)));
      return a * u[i]!;
    });
    const gb = storage(g);
    const group = k.bind([{ buffer: gb }, { buffer: storage(u) }, { buffer: uniform(packGateParams(n, kind)) }, { buffer: step }]);
    expectClose(await run((p) => k.encodeGate(p, group, n, T), gb, n * T), want, 1e-5);
  }
});
