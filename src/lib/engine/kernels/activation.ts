/**
 * Element-wise ops of the feed-forward block and biases:
 * - gated activation, in place on the gate: g = act(g) · up, act SiLU (x / (1 + e^−x)) or GELU with the tanh
 *   approximation (ggml_gelu);
 * - bias add: y[t] += b (broadcast over the step's tokens), for architectures whose projections have biases;
 * - soft-cap: y = cap·tanh(y / cap) in place (Gemma 2's final logits).
 */
import { bindGroup, type Binding, createLayout, createPipeline, uniformsWgsl } from './kernel.ts';
import { paramsSchema } from './params.ts';

export const ACTIVATION = { SILU: 0, GELU: 1 } as const;

/** Gated activation over rows of 4·n4 floats; kind: ACTIVATION. */
export const GATE_PARAMS = paramsSchema('Params', { n4: 'u32', kind: 'u32' });
/** Bias add of n floats to rows `stride` floats apart from `offset`, at row pos0 + t when atPos is 1 (else t). */
export const BIAS_PARAMS = paramsSchema('Params', { n: 'u32', offset: 'u32', stride: 'u32', atPos: 'u32' });
/** Soft-cap of n floats with cap `cap`. */
export const SOFTCAP_PARAMS = paramsSchema('Params', { n: 'u32', cap: 'f32' });

/** act(g) for SiLU (kind 0) and GELU-tanh (kind 1) on four values; the fused decode matvec uses it too. */
export const GATE_ACTIVATION_WGSL = /* wgsl */ `
fn gelu(x: vec4f) -> vec4f {
  let c = 0.7978845608028654; // sqrt(2/π)
  // tanh written out and clamped: WGSL's tanh may be NaN for large arguments on some drivers.
  let z = clamp(c * x * (1.0 + 0.044715 * x * x), vec4f(-15.0), vec4f(15.0));
  let e = exp(2.0 * z);
  return 0.5 * x * (1.0 + (e - 1.0) / (e + 1.0));
}
fn gate_act(g: vec4f, kind: u32) -> vec4f {
  if (kind == 1u) { return gelu(g); }
  return g / (1.0 + exp(-g));
}`;

const GATE_WGSL = /* wgsl */ `
@group(0) @binding(0) var<storage, read_write> G: array<vec4f>;
@group(0) @binding(1) var<storage, read> U: array<vec4f>;
${uniformsWgsl(2, GATE_PARAMS)}
${GATE_ACTIVATION_WGSL}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 64u;
  if (i >= P.n4 * S.T) { return; }
  let g = G[i];
  var a: vec4f;
  if (P.kind == 1u) { a = gelu(g); } else { a = g / (1.0 + exp(-g)); }
  G[i] = a * U[i];
}`;

const BIAS_WGSL = /* wgsl */ `
@group(0) @binding(0) var<storage, read_write> Y: array<f32>;
@group(0) @binding(1) var<storage, read> B: array<f32>;
${uniformsWgsl(2, BIAS_PARAMS)}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x;
  let t = gid.y;
  if (i >= P.n || t >= S.T) { return; }
  var row = t;
  if (P.at_pos != 0u) { row += S.pos0; }
  Y[P.offset + row * P.stride + i] += B[i];
}`;

const SOFTCAP_WGSL = /* wgsl */ `
@group(0) @binding(0) var<storage, read_write> Y: array<f32>;
@group(0) @binding(1) var<uniform> P: Params;
${SOFTCAP_PARAMS.wgsl}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 64u;
  if (i >= P.n) { return; }
  let e = exp(2.0 * clamp(Y[i] / P.cap, -15.0, 15.0));
  Y[i] = P.cap * (e - 1.0) / (e + 1.0);
}`;

export function packSoftCapParams(n: number, cap: number): ArrayBuffer {
  return SOFTCAP_PARAMS.pack({ n, cap });
}

/** Parameters of the gated activation over rows of `n` floats. */
export function packGateParams(n: number, kind: number): ArrayBuffer {
  return GATE_PARAMS.pack({ n4: n / 4, kind });
}

/** y = cap·tanh(y / cap) over n floats, in place. */
export class SoftCapKernel {
  readonly layout: GPUBindGroupLayout;
  private readonly pipeline: GPUComputePipeline;
  constructor(private readonly device: GPUDevice) {
    this.layout = createLayout(device, ['write', 'uniform']);
    this.pipeline = createPipeline(device, this.layout, SOFTCAP_WGSL, 'soft-cap');
  }
  /** Bindings: y (in/out), params {n, cap}. */
  bind(bindings: Binding[]): GPUBindGroup {
    return bindGroup(this.device, this.layout, bindings);
  }
  encode(pass: GPUComputePassEncoder, group: GPUBindGroup, n: number): void {
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, group);
    const groups = Math.ceil(n / 64);
    const x = Math.min(groups, 65535);
    pass.dispatchWorkgroups(x, Math.ceil(groups / x));
  }
}

export class ActivationKernels {
  readonly layout: GPUBindGroupLayout;
  private readonly gate: GPUComputePipeline;
  private readonly bias: GPUComputePipeline;
  constructor(private readonly device: GPUDevice) {
    this.layout = createLayout(device, ['write', 'read', 'uniform', 'uniform']);
    this.gate = createPipeline(device, this.layout, GATE_WGSL, 'gated-activation');
    this.bias = createPipeline(device, this.layout, BIAS_WGSL, 'bias-add');
  }
  bind(bindings: Binding[]): GPUBindGroup {
    return bindGroup(this.device, this.layout, bindings);
  }
  /** Bindings: gate (in/out), up, params {n4, kind}, step. */
  encodeGate(pass: GPUComputePassEncoder, group: GPUBindGroup, n: number, tokens: number): void {
    pass.setPipeline(this.gate);
    pass.setBindGroup(0, group);
    const groups = Math.ceil((n / 4) * tokens / 64);
    const x = Math.min(groups, 65535);
    pass.dispatchWorkgroups(x, Math.ceil(groups / x));
  }
  /** Bindings: y (in/out), bias, params {n, offset, stride, atPos}, step. */
  encodeBias(pass: GPUComputePassEncoder, group: GPUBindGroup, n: number, tokens: number): void {
    pass.setPipeline(this.bias);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(Math.ceil(n / 64), tokens);
  }
}
