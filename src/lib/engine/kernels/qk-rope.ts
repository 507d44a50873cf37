/**
 * Everything between the fused q/k/v product and attention for one token (decode), in one barrier-free dispatch: an
 * invocation per head — the q heads (in Q), the k heads (in the K cache at row pos0), and with biases the v heads —
 * adds the projection's bias, applies the per-head RMSNorm (Qwen3, Gemma 3) and rotates (RoPE, interleaved or
 * NeoX pairs, the first nRot dimensions, from the cos/sin table). Same order and arithmetic as the separate bias,
 * head-norm and rope kernels of the prefill graph. A head is at most MAX_HEAD_DIM values, walked by one invocation:
 * tiny next to the matrix products around it, and no barrier (which SwiftShader turns into coroutine switches).
 *
 * B holds the q | k | v biases (zeros where a model has only some), N the q | k head-norm weights.
 */
import { bindGroup, type Binding, createLayout, createPipeline, uniformsWgsl } from './kernel.ts';
import { paramsSchema } from './params.ts';

export const QK_ROPE_FLAGS = { NEOX: 1, BIAS: 2, Q_NORM: 4, K_NORM: 8 } as const;
/** nKv: KV heads; halfRot: rotated pairs per head; kvDim, qDim: floats per row of the K/V cache and of Q. */
export const QK_ROPE_PARAMS = paramsSchema('Params', {
  nHead: 'u32', nKv: 'u32', headDim: 'u32', halfRot: 'u32', kvDim: 'u32', qDim: 'u32', flags: 'u32', eps: 'f32',
});

const WGSL = /* wgsl */ `
@group(0) @binding(0) var<storage, read> C: array<vec2f>;
@group(0) @binding(1) var<storage, read_write> Q: array<f32>;
@group(0) @binding(2) var<storage, read_write> K: array<f32>;
@group(0) @binding(3) var<storage, read_write> V: array<f32>;
@group(0) @binding(4) var<storage, read> B: array<f32>;
@group(0) @binding(5) var<storage, read> N: array<f32>;
${uniformsWgsl(6, QK_ROPE_PARAMS, QK_ROPE_FLAGS)}
fn ld(w: u32, i: u32) -> f32 {
  if (w == 0u) { return Q[i]; }
  if (w == 1u) { return K[i]; }
  return V[i];
}
fn st(w: u32, i: u32, v: f32) {
  if (w == 0u) { Q[i] = v; } else if (w == 1u) { K[i] = v; } else { V[i] = v; }
}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x;
  let hd = P.head_dim;
  var w = 0u;
  var base = 0u;
  var boff = 0u;
  if (i < P.n_head) {
    base = i * hd;
    boff = base;
  } else if (i < P.n_head + P.n_kv) {
    w = 1u;
    let h = i - P.n_head;
    base = S.pos0 * P.kv_dim + h * hd;
    boff = P.q_dim + h * hd;
  } else if ((P.flags & BIAS) != 0u && i < P.n_head + 2u * P.n_kv) {
    w = 2u;
    let h = i - P.n_head - P.n_kv;
    base = S.pos0 * P.kv_dim + h * hd;
    boff = P.q_dim + P.kv_dim + h * hd;
  } else {
    return;
  }
  if ((P.flags & BIAS) != 0u) {
    for (var d = 0u; d < hd; d++) { st(w, base + d, ld(w, base + d) + B[boff + d]); }
  }
  if (w == 2u) { return; }
  if ((w == 0u && (P.flags & Q_NORM) != 0u) || (w == 1u && (P.flags & K_NORM) != 0u)) {
    var ss = 0.0;
    for (var d = 0u; d < hd; d++) { let v = ld(w, base + d); ss += v * v; }
    let inv = 1.0 / sqrt(ss / f32(hd) + P.eps);
    let noff = w * hd;
    for (var d = 0u; d < hd; d++) { st(w, base + d, ld(w, base + d) * inv * N[noff + d]); }
  }
  let c0 = S.pos0 * P.half_rot;
  for (var j = 0u; j < P.half_rot; j++) {
    var a = base + 2u * j;
    var b = a + 1u;
    if ((P.flags & NEOX) != 0u) { a = base + j; b = a + P.half_rot; }
    let cs = C[c0 + j];
    let x0 = ld(w, a);
    let x1 = ld(w, b);
    st(w, a, x0 * cs.x - x1 * cs.y);
    st(w, b, x0 * cs.y + x1 * cs.x);
  }
}`;

export function packQkRopeParams(p: { nHead: number; nHeadKv: number; headDim: number; nRot: number; flags: number; eps: number }): ArrayBuffer {
  return QK_ROPE_PARAMS.pack({
    nHead: p.nHead, nKv: p.nHeadKv, headDim: p.headDim, halfRot: p.nRot / 2, kvDim: p.nHeadKv * p.headDim, qDim: p.nHead * p.headDim, flags: p.flags, eps: p.eps,
  });
}

export class QkRopeKernel {
  readonly layout: GPUBindGroupLayout;
  private readonly pipeline: GPUComputePipeline;
  constructor(private readonly device: GPUDevice) {
    this.layout = createLayout(device, ['read', 'write', 'write', 'write', 'read', 'read', 'uniform', 'uniform']);
    this.pipeline = createPipeline(device, this.layout, WGSL, 'qk-rope');
  }
  /** Bindings: cos/sin table, Q, K cache, V cache, biases (q|k|v), head norms (q|k), params, step. */
  bind(bindings: Binding[]): GPUBindGroup {
    return bindGroup(this.device, this.layout, bindings);
  }
  encode(pass: GPUComputePassEncoder, group: GPUBindGroup, heads: number): void {
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(Math.ceil(heads / 64));
  }
}
