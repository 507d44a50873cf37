// The prefill attention kernel (a workgroup per tile of queries of one KV head, online softmax per query), both
// shapes ('tiled' through shared memory, 'direct' from storage), against a float64 CPU reference: grouped-query
// heads (groups of 1, 2, 3 and 8), a sliding window, soft-capped scores with a custom scale, keys already in the
// cache (pos0 > 0) and across tiles, head dims from 8 to 256, and token counts that are not a multiple of the tile.
// Tolerance as the decode kernel's op tests: 2e-5 relative (float32 summation order).
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { GpuContext } from '../../../src/lib/engine/device.ts';
import { packAttentionParams } from '../../../src/lib/engine/kernels/attention.ts';
import { PrefillAttentionKernel, type PrefillAttentionShape, tileKeys } from '../../../src/lib/engine/kernels/prefill-attention.ts';
import { STEP } from '../../../src/lib/engine/kernels/kernel.ts';
import { expectClose, gpuOpHarness } from '../../support/gpu-op-harness.ts';
import { seeded } from '../../support/seeded-random.ts';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await GpuContext.open();
});
afterAll(() => ctx?.destroy());

const { storage, uniform, run } = gpuOpHarness(() => ctx);
const rand = seeded(18);
const randoms = (n: number, scale = 1) => Float32Array.from({ length: n }, () => (rand() * 2 - 1) * scale);

interface Case {
  nHead: number;
  nHeadKv: number;
  headDim: number;
  pos0: number;
  T: number;
  window?: number;
  softCap?: number;
  scale?: number;
}

function reference(c: Case, q: Float32Array, kc: Float32Array, vc: Float32Array): Float32Array {
  const { nHead, nHeadKv, headDim, pos0, T } = c;
  const kvDim = nHeadKv * headDim;
  const scale = c.scale ?? 1 / Math.sqrt(headDim);
  const want = new Float32Array(T * nHead * headDim);
  for (let t = 0; t < T; t++) {
    const p = pos0 + t;
    const first = c.window ? Math.max(0, p + 1 - c.window) : 0; // llama.cpp: masked when p − j ≥ window
    for (let h = 0; h < nHead; h++) {
      const kvh = Math.floor(h / (nHead / nHeadKv));
      const s: number[] = [];
      for (let j = first; j <= p; j++) {
        let d = 0;
        for (let i = 0; i < headDim; i++) d += q[(t * nHead + h) * headDim + i]! * kc[j * kvDim + kvh * headDim + i]!;
        d *= scale;
        s.push(c.softCap ? c.softCap * Math.tanh(d / c.softCap) : d);
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
  return want;
}

async function check(shape: PrefillAttentionShape, c: Case) {
  const kvDim = c.nHeadKv * c.headDim;
  const ctxLen = c.pos0 + c.T + 3; // rows past the last token hold garbage the kernel must not read
  const q = randoms(c.T * c.nHead * c.headDim, 2);
  const kc = randoms(ctxLen * kvDim, 2);
  const vc = randoms(ctxLen * kvDim);
  const want = reference(c, q, kc, vc);
  const k = new PrefillAttentionKernel(ctx.device, shape);
  const out = storage(new Float32Array(want.length).fill(Number.NaN));
  const params = packAttentionParams(c, { window: c.window ?? 0, softCap: c.softCap ?? 0, ...(c.scale ? { scale: c.scale } : {}) });
  const group = k.bind([
    { buffer: storage(q) },
    { buffer: storage(kc) },
    { buffer: storage(vc) },
    { buffer: out },
    { buffer: uniform(params) },
    { buffer: uniform(STEP.pack({ pos0: c.pos0, T: c.T })) },
  ]);
  ctx.device.pushErrorScope('validation');
  const got = await run((p) => k.encode(p, group, c, c.T, (c.softCap ?? 0) > 0), out, want.length);
  const err = await ctx.device.popErrorScope();
  expect(err?.message).toBeUndefined();
  expect(got.every(Number.isFinite), 'every output written').toBe(true);
  expectClose(got, want, 2e-5);
}

describe.each(['tiled', 'direct'] as const)('%s', (shape) => {
  test('grouped-query (2 per KV head), 150 tokens from position 0: several query tiles and key tiles', () =>
    check(shape, { nHead: 8, nHeadKv: 4, headDim: 8, pos0: 0, T: 150 }));
  test('keys already cached (pos0 37), a group of 3 (a tile of 21 tokens), T = 45', () => check(shape, { nHead: 6, nHeadKv: 2, headDim: 16, pos0: 37, T: 45 }));
  test('multi-head (group 1) and a group of 8, head dim 64, T = 67', async () => {
    await check(shape, { nHead: 3, nHeadKv: 3, headDim: 64, pos0: 5, T: 67 });
    await check(shape, { nHead: 8, nHeadKv: 1, headDim: 64, pos0: 0, T: 9 });
  });
  test('head dim 256 (a tile of 8 keys) over 300 cached positions', () => check(shape, { nHead: 2, nHeadKv: 1, headDim: 256, pos0: 300, T: 5 }));
  test('sliding window of 4, and a window across key tiles (70 of 200)', async () => {
    await check(shape, { nHead: 4, nHeadKv: 2, headDim: 16, pos0: 6, T: 19, window: 4, scale: 1 / 8 });
    await check(shape, { nHead: 4, nHeadKv: 2, headDim: 32, pos0: 130, T: 70, window: 70 });
  });
  test('soft-capped scores (cap 2) with a custom scale', () => check(shape, { nHead: 4, nHeadKv: 2, headDim: 16, pos0: 5, T: 33, softCap: 2, scale: 0.2 }));
});

test('tiles fit the default 16 KiB of shared memory', () => {
  for (const hd of [8, 64, 128, 256]) expect(2 * tileKeys(hd) * hd * 4).toBeLessThanOrEqual(16384);
  expect(tileKeys(256)).toBe(8);
});
