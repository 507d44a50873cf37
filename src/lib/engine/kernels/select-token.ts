/**
 * Token selection on the GPU, so a step reads back a few candidates instead of the whole logits: the k largest
 * logits (k = 1: greedy; k ≤ MAX_TOP_K: llama.cpp's top-k), leaving out a list of excluded ids whose raw logits are
 * copied out instead. The sampler applies llama.cpp's repetition penalty to those few in JS, exactly as its
 * full-logits path does, merges them with the GPU's k and runs the rest of its chain (top-k, top-p, min-p,
 * temperature, the seeded draw) on that small set (sampling.ts: Sampler.pick): the same token as the full-logits
 * path, because the GPU only compares logits it did not change and the k largest of the full set are among them.
 *
 * One workgroup. k = 1: each invocation walks a strided share of the vocabulary keeping its first largest value,
 * then a tree reduction keeps the larger value, on ties the lower id (llama.cpp's greedy keeps the first). k > 1:
 * each invocation keeps its own k best in order (value descending, then id ascending), then k rounds of the same
 * reduction over the invocations' current heads take the winner's head each round. NaN is never a candidate.
 *
 * Output (u32 words of `O`): [0, k) ids (0xffffffff: none), [k, 2k) their values' bits, [2k, 2k + excluded) the
 * excluded ids' raw logits, in the order given. The excluded ids are distinct (a set); their logits are overwritten
 * with −∞ in place (the logits buffer is recomputed every step).
 */
import { bindGroup, type Binding, createLayout, createPipeline } from './kernel.ts';
import { paramsSchema } from './params.ts';

// 64 invocations: a tree of 6 barriers (on SwiftShader each barrier switches between the workgroup's subgroups, so
// a wider workgroup costs more there than the strided scan it saves).
const WG = 64;
/** Most excluded ids a step may pass (the repetition penalty's distinct recent tokens); more → full logits. */
export const MAX_EXCLUDED = 1024;
/** Largest top-k selected on the GPU; a larger top-k (or none) reads back the full logits. */
export const MAX_TOP_K = 64;
/**
 * Written per step: n logits, the excluded ids' count and k. `zero` is always 0: −∞ is made from it at run time (a
 * constant infinity is a shader-creation error in WGSL).
 */
export const SELECT_TOKEN_PARAMS = paramsSchema('Params', { n: 'u32', nExcluded: 'u32', k: 'u32', zero: 'u32' }, { zero: 0 });

function wgsl(topK: boolean): string {
  const local = topK
    ? /* wgsl */ `
  // This invocation's k best, value descending then id ascending (ids arrive ascending, so equal values keep order).
  var lv: array<f32, ${MAX_TOP_K}>;
  var lid: array<u32, ${MAX_TOP_K}>;
  var cnt = 0u;
  for (var i = li; i < P.n; i += ${WG}u) {
    let v = L[i];
    if (v != v) { continue; }
    if (cnt == P.k && !(v > lv[cnt - 1u])) { continue; }
    var p = min(cnt, P.k - 1u);
    while (p > 0u && lv[p - 1u] < v) {
      if (p < P.k) { lv[p] = lv[p - 1u]; lid[p] = lid[p - 1u]; }
      p--;
    }
    lv[p] = v;
    lid[p] = i;
    cnt = min(cnt + 1u, P.k);
  }
  var head = 0u;
  for (var r = 0u; r < P.k; r++) {
    var bv = neg_inf;
    var bi = NONE;
    if (head < cnt) { bv = lv[head]; bi = lid[head]; }
    let w = reduce(bv, bi, li);
    if (li == 0u) {
      O[r] = w;
      O[P.k + r] = bitcast<u32>(best_v[0]);
    }
    if (head < cnt && lid[head] == w) { head++; }
    workgroupBarrier();
  }`
    : /* wgsl */ `
  var bv = neg_inf;
  var bi = NONE;
  for (var i = li; i < P.n; i += ${WG}u) {
    let v = L[i];
    if (v > bv) { bv = v; bi = i; }
  }
  let w = reduce(bv, bi, li);
  if (li == 0u) {
    O[0] = w;
    O[1] = bitcast<u32>(best_v[0]);
  }`;
  return /* wgsl */ `
@group(0) @binding(0) var<storage, read_write> L: array<f32>;
@group(0) @binding(1) var<storage, read> E: array<u32>;
@group(0) @binding(2) var<storage, read_write> O: array<u32>;
@group(0) @binding(3) var<uniform> P: Params;
${SELECT_TOKEN_PARAMS.wgsl}
var<workgroup> best_v: array<f32, ${WG}>;
var<workgroup> best_i: array<u32, ${WG}>;
const NONE = 0xffffffffu;
// The workgroup's best (value, id): larger value, then lower id; NONE entries lose. Leaves it in best_*[0].
fn reduce(v: f32, i: u32, li: u32) -> u32 {
  best_v[li] = v;
  best_i[li] = i;
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s >>= 1u) {
    if (li < s) {
      let ov = best_v[li + s];
      let oi = best_i[li + s];
      if (oi != NONE && (best_i[li] == NONE || ov > best_v[li] || (ov == best_v[li] && oi < best_i[li]))) {
        best_v[li] = ov;
        best_i[li] = oi;
      }
    }
    workgroupBarrier();
  }
  return best_i[0];
}
@compute @workgroup_size(${WG})
fn main(@builtin(local_invocation_index) li: u32) {
  let neg_inf = bitcast<f32>(P.zero | 0xff800000u);
  if (P.n_excluded > 0u) {
    for (var i = li; i < P.n_excluded; i += ${WG}u) {
      let id = E[i];
      O[2u * P.k + i] = bitcast<u32>(L[id]);
      L[id] = neg_inf;
    }
    storageBarrier();
    workgroupBarrier();
  }
  ${local}
}`;
}

export class SelectTokenKernel {
  readonly layout: GPUBindGroupLayout;
  private readonly greedy: GPUComputePipeline;
  private topK: GPUComputePipeline | undefined;
  constructor(private readonly device: GPUDevice) {
    this.layout = createLayout(device, ['write', 'read', 'write', 'uniform']);
    this.greedy = createPipeline(device, this.layout, wgsl(false), 'select-token');
  }
  /** Bindings: logits (in/out), excluded ids, output, params {n, nExcluded, k} (written per step). */
  bind(bindings: Binding[]): GPUBindGroup {
    return bindGroup(this.device, this.layout, bindings);
  }
  encode(pass: GPUComputePassEncoder, group: GPUBindGroup, k = 1): void {
    if (k > 1) this.topK ??= createPipeline(this.device, this.layout, wgsl(true), 'select-top-k');
    pass.setPipeline(k > 1 ? this.topK! : this.greedy);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(1);
  }
}
