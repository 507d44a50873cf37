/**
 * Per-head RMSNorm in place (Qwen3 and Gemma 3 normalise each q and k head before rope): for each of the step's
 * tokens and each head, v = v / sqrt(mean(v²) + eps) · weight over the head's headDim values, a workgroup per
 * (head, token). AT_POS addresses the rows at pos0 + t (K written straight into the cache) instead of t.
 * In place because a buffer cannot be bound for reading and writing at once, and K lives only in the cache.
 */
import { bindGroup, type Binding, createLayout, createPipeline, sumReductionWgsl, uniformsWgsl } from './kernel.ts';
import { paramsSchema } from './params.ts';

const WG = 64;
export const HEAD_NORM_FLAGS = { AT_POS: 1 } as const;
export const HEAD_NORM_AT_POS = HEAD_NORM_FLAGS.AT_POS;
/** stride: floats from one row (token) of the buffer to the next. */
export const HEAD_NORM_PARAMS = paramsSchema('Params', { headDim: 'u32', stride: 'u32', eps: 'f32', flags: 'u32' });

const WGSL = /* wgsl */ `
@group(0) @binding(0) var<storage, read_write> V: array<f32>;
@group(0) @binding(1) var<storage, read> G: array<f32>;
${uniformsWgsl(2, HEAD_NORM_PARAMS, HEAD_NORM_FLAGS)}
${sumReductionWgsl('wg_sum', WG)}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) li: u32) {
  let h = wid.x;
  let t = wid.y;
  var row = t;
  if ((P.flags & AT_POS) != 0u) { row = S.pos0 + t; }
  let base = row * P.stride + h * P.head_dim;
  var ss = 0.0;
  for (var i = li; i < P.head_dim; i += ${WG}u) { let v = V[base + i]; ss += v * v; }
  let total = wg_sum(ss, li);
  let inv = 1.0 / sqrt(total / f32(P.head_dim) + P.eps);
  for (var i = li; i < P.head_dim; i += ${WG}u) { V[base + i] = V[base + i] * inv * G[i]; }
}`;

export function packHeadNormParams(headDim: number, stride: number, eps: number, flags: number): ArrayBuffer {
  return HEAD_NORM_PARAMS.pack({ headDim, stride, eps, flags });
}

export class HeadNormKernel {
  readonly layout: GPUBindGroupLayout;
  readonly pipeline: GPUComputePipeline;
  constructor(private readonly device: GPUDevice) {
    this.layout = createLayout(device, ['write', 'read', 'uniform', 'uniform']);
    this.pipeline = createPipeline(device, this.layout, WGSL, 'head-norm');
  }
  /** Bindings: the [row][head][headDim] buffer (in/out), weight (headDim f32), params, step. */
  bind(bindings: Binding[]): GPUBindGroup {
    return bindGroup(this.device, this.layout, bindings);
  }
  encode(pass: GPUComputePassEncoder, group: GPUBindGroup, nHeads: number, tokens: number): void {
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(nHeads, tokens);
  }
}
