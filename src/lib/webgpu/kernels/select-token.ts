/**
 * Token selection on the GPU, so a decode step reads back a token id instead of the whole logits: the index and
 * value of the largest logit (greedy), leaving out a list of excluded ids whose raw logits are copied out instead.
 * The sampler applies llama.cpp's repetition penalty to those few in JS, exactly as its full-logits path does,
 * and takes the best of both (sampling.ts: Sampler.pick): the same token as the full-logits path, bit for bit,
 * because the GPU only compares logits it did not change.
 *
 * One workgroup: each invocation walks a strided share of the vocabulary keeping its first largest value (NaN never
 * wins, as in JS), then a tree reduction keeps the larger value, on ties the lower id (llama.cpp keeps the first).
 *
 * Output (u32 words of `O`): [0] id, [1] value bits, [2 …] the excluded ids' raw logits, in the order given.
 * The excluded ids are distinct (a set); their logits are overwritten with −∞ in place (the logits buffer is
 * recomputed every step).
 */
import { bindGroup, type Binding, createLayout, createPipeline } from './kernel.ts';

// 64 invocations: a tree of 6 barriers (on SwiftShader each barrier switches between the workgroup's subgroups, so
// a wider workgroup costs more there than the strided scan it saves).
const WG = 64;
/** Most excluded ids a step may pass (the repetition penalty's distinct recent tokens); more → full logits. */
export const MAX_EXCLUDED = 1024;

const WGSL = /* wgsl */ `
@group(0) @binding(0) var<storage, read_write> L: array<f32>;
@group(0) @binding(1) var<storage, read> E: array<u32>;
@group(0) @binding(2) var<storage, read_write> O: array<u32>;
@group(0) @binding(3) var<uniform> P: Params;
struct Params { n: u32, n_excluded: u32, _a: u32, _b: u32 }
var<workgroup> best_v: array<f32, ${WG}>;
var<workgroup> best_i: array<u32, ${WG}>;
const NONE = 0xffffffffu;
@compute @workgroup_size(${WG})
fn main(@builtin(local_invocation_index) li: u32) {
  // −∞, made at run time (a constant infinity is a shader-creation error in WGSL); P._a is 0.
  let neg_inf = bitcast<f32>(P._a | 0xff800000u);
  if (P.n_excluded > 0u) {
    for (var i = li; i < P.n_excluded; i += ${WG}u) {
      let id = E[i];
      O[2u + i] = bitcast<u32>(L[id]);
      L[id] = neg_inf;
    }
    storageBarrier();
    workgroupBarrier();
  }
  var bv = neg_inf;
  var bi = NONE;
  for (var i = li; i < P.n; i += ${WG}u) {
    let v = L[i];
    if (v > bv) { bv = v; bi = i; }
  }
  best_v[li] = bv;
  best_i[li] = bi;
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s >>= 1u) {
    if (li < s) {
      let v = best_v[li + s];
      let i = best_i[li + s];
      if (i != NONE && (best_i[li] == NONE || v > best_v[li] || (v == best_v[li] && i < best_i[li]))) {
        best_v[li] = v;
        best_i[li] = i;
      }
    }
    workgroupBarrier();
  }
  if (li == 0u) {
    O[0] = best_i[0];
    O[1] = bitcast<u32>(best_v[0]);
  }
}`;

export class SelectTokenKernel {
  readonly layout: GPUBindGroupLayout;
  private readonly pipeline: GPUComputePipeline;
  constructor(private readonly device: GPUDevice) {
    this.layout = createLayout(device, ['write', 'read', 'write', 'uniform']);
    this.pipeline = createPipeline(device, this.layout, WGSL, 'select-token');
  }
  /** Bindings: logits (in/out), excluded ids, output, params {n, nExcluded} (written per step). */
  bind(bindings: Binding[]): GPUBindGroup {
    return bindGroup(this.device, this.layout, bindings);
  }
  encode(pass: GPUComputePassEncoder, group: GPUBindGroup): void {
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(1);
  }
}
