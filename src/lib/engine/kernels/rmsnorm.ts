/**
 * RMSNorm: y[t] = x[t] / sqrt(mean(x[t]²) + eps) · weight, a workgroup per token (ggml_rms_norm then ggml_mul).
 * LAST_TOKEN normalises only the step's last token into row 0 (the final norm before logits after a prefill).
 * ACCUMULATE adds the result to Y (Gemma 2/3's post-attention and post-FFN norms feed the residual stream).
 * On a software adapter a prefill (T > 1) uses a barrier-free shape, an invocation per token walking its row (the
 * workgroup reduction's barriers make each 4-lane subgroup of SwiftShader a coroutine; measured 3–5× slower there).
 */
import { bindGroup, type Binding, createLayout, createPipeline, sumReductionWgsl, uniformsWgsl } from './kernel.ts';
import { paramsSchema } from './params.ts';

const WG = 64;
export const RMSNORM_FLAGS = { LAST_TOKEN: 1, ACCUMULATE: 2 } as const;
/** n4: the row length in vec4s. */
export const RMSNORM_PARAMS = paramsSchema('Params', { n4: 'u32', eps: 'f32', flags: 'u32' });

/** Bindings, parameters and flags of both shapes. */
const PRELUDE = /* wgsl */ `
@group(0) @binding(0) var<storage, read> X: array<vec4f>;
@group(0) @binding(1) var<storage, read> G: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> Y: array<vec4f>;
${uniformsWgsl(3, RMSNORM_PARAMS, RMSNORM_FLAGS)}`;

const WGSL = /* wgsl */ `
${PRELUDE}
${sumReductionWgsl('wg_sum', WG)}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) li: u32) {
  var t = wid.x;
  var out_t = wid.x;
  if ((P.flags & LAST_TOKEN) != 0u) { t = S.T - 1u; out_t = 0u; }
  let xo = t * P.n4;
  var ss = 0.0;
  for (var i = li; i < P.n4; i += ${WG}u) { let v = X[xo + i]; ss += dot(v, v); }
  let total = wg_sum(ss, li);
  let inv = 1.0 / sqrt(total / f32(P.n4 * 4u) + P.eps);
  let yo = out_t * P.n4;
  if ((P.flags & ACCUMULATE) != 0u) {
    for (var i = li; i < P.n4; i += ${WG}u) { Y[yo + i] += X[xo + i] * inv * G[i]; }
  } else {
    for (var i = li; i < P.n4; i += ${WG}u) { Y[yo + i] = X[xo + i] * inv * G[i]; }
  }
}`;

// One invocation per token, no barrier (prefill on a software adapter; LAST_TOKEN is never used with T > 1).
const PER_TOKEN_WGSL = /* wgsl */ `
${PRELUDE}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let t = gid.x;
  if (t >= S.T) { return; }
  let o = t * P.n4;
  var ss = 0.0;
  for (var i = 0u; i < P.n4; i++) { let v = X[o + i]; ss += dot(v, v); }
  let inv = 1.0 / sqrt(ss / f32(P.n4 * 4u) + P.eps);
  if ((P.flags & ACCUMULATE) != 0u) {
    for (var i = 0u; i < P.n4; i++) { Y[o + i] += X[o + i] * inv * G[i]; }
  } else {
    for (var i = 0u; i < P.n4; i++) { Y[o + i] = X[o + i] * inv * G[i]; }
  }
}`;

/** Parameters of a norm over rows of `n` floats. */
export function packRmsNormParams(n: number, eps: number, flags: number): ArrayBuffer {
  return RMSNORM_PARAMS.pack({ n4: n / 4, eps, flags });
}

export class RmsNormKernel {
  readonly layout: GPUBindGroupLayout;
  readonly pipeline: GPUComputePipeline;
  /** The barrier-free prefill shape, where chosen (software adapters). */
  readonly perTokenPipeline: GPUComputePipeline | undefined;
  constructor(
    private readonly device: GPUDevice,
    perTokenPrefill = false,
  ) {
    this.layout = createLayout(device, ['read', 'read', 'write', 'uniform', 'uniform']);
    this.pipeline = createPipeline(device, this.layout, WGSL, 'rmsnorm');
    this.perTokenPipeline = perTokenPrefill ? createPipeline(device, this.layout, PER_TOKEN_WGSL, 'rmsnorm per token') : undefined;
  }
  /** Bindings: x, weight (f32), y, params, step. */
  bind(bindings: Binding[]): GPUBindGroup {
    return bindGroup(this.device, this.layout, bindings);
  }
  encode(pass: GPUComputePassEncoder, group: GPUBindGroup, tokens: number): void {
    if (tokens > 1 && this.perTokenPipeline) {
      pass.setPipeline(this.perTokenPipeline);
      pass.setBindGroup(0, group);
      pass.dispatchWorkgroups(Math.ceil(tokens / WG));
      return;
    }
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(tokens);
  }
}
