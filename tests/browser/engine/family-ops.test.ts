// The ops the families beside Llama add (issue 5), against plain CPU references: per-head RMSNorm in place (Qwen3,
// Gemma 3; also at cache rows), RMSNorm accumulating into the residual (Gemma 2/3 post-norms), attention with a
// sliding window, soft-capped scores and a custom scale (Gemma 2/3), and the logit soft-cap.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { GpuContext } from '../../../src/lib/engine/device.ts';
import { packSoftCapParams, SoftCapKernel } from '../../../src/lib/engine/kernels/activation.ts';
import { AttentionKernel, packAttentionParams } from '../../../src/lib/engine/kernels/attention.ts';
import { HEAD_NORM_AT_POS, HeadNormKernel, packHeadNormParams } from '../../../src/lib/engine/kernels/head-norm.ts';
import { packRmsNormParams, RMSNORM_FLAGS, RmsNormKernel } from '../../../src/lib/engine/kernels/rmsnorm.ts';
import { STEP } from '../../../src/lib/engine/kernels/kernel.ts';
import { expectClose, gpuOpHarness } from '../../support/gpu-op-harness.ts';
import { seeded } from '../../support/seeded-random.ts';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await GpuContext.open();
});
afterAll(() => ctx?.destroy());

const { storage, uniform, run } = gpuOpHarness(() => ctx);
const rand = seeded(7);
const randoms = (n: number, scale = 1) => Float32Array.from({ length: n }, () => (rand() * 2 - 1) * scale);

test('head norm: each head of each token normalised in place; AT_POS works on the cache rows pos0…', async () => {
  const nHeads = 3;
  const headDim = 128;
  const stride = nHeads * headDim;
  const eps = 1e-6;
  const g = randoms(headDim, 2);
  const k = new HeadNormKernel(ctx.device);
  for (const atPos of [false, true]) {
    const pos0 = atPos ? 2 : 0;
    const T = 2;
    const rows = pos0 + T;
    const x = randoms(rows * stride, 3);
    const want = Float32Array.from(x);
    for (let r = pos0; r < rows; r++) {
      for (let h = 0; h < nHeads; h++) {
        const o = r * stride + h * headDim;
        let ss = 0;
        for (let i = 0; i < headDim; i++) ss += x[o + i]! ** 2;
        const inv = 1 / Math.sqrt(ss / headDim + eps);
        for (let i = 0; i < headDim; i++) want[o + i] = x[o + i]! * inv * g[i]!;
      }
    }
    const buf = storage(atPos ? x : x.slice(0, T * stride));
    const group = k.bind([
      { buffer: buf },
      { buffer: storage(g) },
      { buffer: uniform(packHeadNormParams(headDim, stride, eps, atPos ? HEAD_NORM_AT_POS : 0)) },
      { buffer: uniform(STEP.pack({ pos0, T })) },
    ]);
    const n = atPos ? rows * stride : T * stride;
    expectClose(await run((p) => k.encode(p, group, nHeads, T), buf, n), want.slice(0, n), 1e-5);
  }
});

test('RMSNorm ACCUMULATE adds the normalised rows to Y', async () => {
  const n = 256;
  const T = 2;
  const x = randoms(n * T, 3);
  const g = randoms(n);
  const y0 = randoms(n * T);
  const want = Float32Array.from(y0);
  for (let t = 0; t < T; t++) {
    let ss = 0;
    for (let i = 0; i < n; i++) ss += x[t * n + i]! ** 2;
    const inv = 1 / Math.sqrt(ss / n + 1e-6);
    for (let i = 0; i < n; i++) want[t * n + i]! += x[t * n + i]! * inv * g[i]!;
  }
  const k = new RmsNormKernel(ctx.device);
  const y = storage(y0);
  const group = k.bind([{ buffer: storage(x) }, { buffer: storage(g) }, { buffer: y }, { buffer: uniform(packRmsNormParams(n, 1e-6, RMSNORM_FLAGS.ACCUMULATE)) }, { buffer: uniform(STEP.pack({ pos0: 0, T })) }]);
  expectClose(await run((p) => k.encode(p, group, T), y, n * T), want, 1e-5);
});

async function windowedAttention(o: { window: number; softCap: number; scale: number; pos0: number; T: number }) {
  const nHead = 4;
  const nHeadKv = 2;
  const headDim = 64;
  const kvDim = nHeadKv * headDim;
  const ctxLen = o.pos0 + o.T;
  const q = randoms(o.T * nHead * headDim, 2);
  const kc = randoms(ctxLen * kvDim, 2);
  const vc = randoms(ctxLen * kvDim);
  const want = new Float32Array(o.T * nHead * headDim);
  for (let t = 0; t < o.T; t++) {
    const p = o.pos0 + t;
    const first = o.window > 0 ? Math.max(0, p + 1 - o.window) : 0; // llama.cpp: masked when p − j ≥ window
    for (let h = 0; h < nHead; h++) {
      const kvh = Math.floor(h / (nHead / nHeadKv));
      const s: number[] = [];
      for (let j = first; j <= p; j++) {
        let d = 0;
        for (let i = 0; i < headDim; i++) d += q[(t * nHead + h) * headDim + i]! * kc[j * kvDim + kvh * headDim + i]!;
        d *= o.scale;
        s.push(o.softCap > 0 ? o.softCap * Math.tanh(d / o.softCap) : d);
      }
      const m = Math.max(...s);
      const e = s.map((x) => Math.exp(x - m));
      const sum = e.reduce((a, b) => a + b, 0);
      for (let i = 0; i < headDim; i++) {
        let acc = 0;
        for (let j = first; j <= p; j++) acc += (e[j - first]! / sum) * vc[j * kvDim + kvh * headDim + i]!;
        want[(t * nHead + h) * headDim + i] = acc;
      }
    }
  }
  const k = new AttentionKernel(ctx.device);
  const out = storage(new Float32Array(want.length));
  const group = k.bind([
    { buffer: storage(q) },
    { buffer: storage(kc) },
    { buffer: storage(vc) },
    { buffer: out },
    { buffer: uniform(packAttentionParams({ nHead, nHeadKv, headDim }, { window: o.window, softCap: o.softCap, scale: o.scale })) },
    { buffer: uniform(STEP.pack({ pos0: o.pos0, T: o.T })) },
  ]);
  expectClose(await run((p) => k.encode(p, group, nHead, o.T), out, want.length), want, 2e-5);
}

test('attention: sliding window of 4 over a 9-token cache', () => windowedAttention({ window: 4, softCap: 0, scale: 1 / 8, pos0: 6, T: 3 }));
test('attention: window across the online-softmax chunk boundary (300 of 600 keys)', () => windowedAttention({ window: 300, softCap: 0, scale: 1 / 8, pos0: 598, T: 2 }));
test('attention: soft-capped scores (cap 2) with a custom scale', () => windowedAttention({ window: 0, softCap: 2, scale: 0.2, pos0: 5, T: 3 }));

test('logit soft-cap: cap·tanh(y/cap) in place', async () => {
  const n = 1000;
  const y = randoms(n, 80);
  const want = Array.from(y, (v) => 30 * Math.tanh(v / 30));
  const k = new SoftCapKernel(ctx.device);
  const buf = storage(y);
  const group = k.bind([{ buffer: buf }, { buffer: uniform(packSoftCapParams(n, 30)) }]);
  expectClose(await run((p) => k.encode(p, group, n), buf, n), want, 1e-5);
});
