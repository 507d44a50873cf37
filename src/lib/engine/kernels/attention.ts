/**
 * Causal self-attention over the KV cache with grouped-query heads: a workgroup per (query head, token). The query
 * at position p attends to cache rows 0..p of its KV head (head h reads KV head h / (nHead / nHeadKv)); scores are
 * q·k / sqrt(headDim), softmaxed, and weight the V rows. Keys go in chunks of CHUNK with an online softmax (running
 * max and sum, earlier partial outputs rescaled), so any context length fits in fixed shared memory.
 * Per layer: a sliding window (keys at distance >= window masked, llama.cpp's LLAMA_SWA_TYPE_STANDARD) and Gemma 2's
 * soft-capping of scores (cap·tanh(score/cap)).
 */
import { bindGroup, type Binding, createLayout, createPipeline, sumReductionWgsl, uniformsWgsl } from './kernel.ts';
import { paramsSchema } from './params.ts';

const WG = 64;
const CHUNK = 256;
/** Largest head dimension the kernel's per-invocation accumulators hold (WG × 4). */
export const MAX_HEAD_DIM = 256;
/**
 * Every attention kernel's parameters: group = nHead / nHeadKv (q heads per KV head), kvDim = floats per cache row,
 * the score scale, Gemma 2's soft-cap (0: none) and the sliding window (0: none).
 */
export const ATTENTION_PARAMS = paramsSchema('Params', {
  nHead: 'u32', group: 'u32', headDim: 'u32', kvDim: 'u32', scale: 'f32', softCap: 'f32', window: 'u32',
});

/**
 * The bindings every attention kernel shares (this one, prefill-attention.ts, decode-attention.ts): q, the K and V
 * caches, the output, the parameters packAttentionParams writes, the step. `rows`: the type q, V and the output are
 * read as (vec4f, or f32 for this kernel's per-element loads); K is always vec4f.
 */
export function attentionBindingsWgsl(rows: 'vec4f' | 'f32' = 'vec4f'): string {
  return /* wgsl */ `
@group(0) @binding(0) var<storage, read> Q: array<${rows}>;
@group(0) @binding(1) var<storage, read> K: array<vec4f>;
@group(0) @binding(2) var<storage, read> V: array<${rows}>;
@group(0) @binding(3) var<storage, read_write> O: array<${rows}>;
${uniformsWgsl(4, ATTENTION_PARAMS)}`;
}

const WGSL = /* wgsl */ `
${attentionBindingsWgsl('f32')}
${sumReductionWgsl('wg_sum', WG)}
${sumReductionWgsl('wg_max', WG, 'max')}
var<workgroup> q: array<vec4f, ${MAX_HEAD_DIM / 4}>;
var<workgroup> sc: array<f32, ${CHUNK}>;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) li: u32) {
  let h = wid.x;
  let t = wid.y;
  let hd4 = P.head_dim / 4u;
  let qo = (t * P.n_head + h) * P.head_dim;
  for (var i = li; i < hd4; i += ${WG}u) {
    q[i] = vec4f(Q[qo + 4u * i], Q[qo + 4u * i + 1u], Q[qo + 4u * i + 2u], Q[qo + 4u * i + 3u]);
  }
  workgroupBarrier();
  let kvo = (h / P.group) * P.head_dim;
  let n_keys = S.pos0 + t + 1u;
  var first = 0u;
  if (P.window > 0u && n_keys > P.window) { first = n_keys - P.window; }
  var m = -3.0e38;
  var l = 0.0;
  var acc = array<f32, 4>(0.0, 0.0, 0.0, 0.0);
  for (var c0 = first; c0 < n_keys; c0 += ${CHUNK}u) {
    let n = min(${CHUNK}u, n_keys - c0);
    var local_max = -3.0e38;
    for (var j = li; j < n; j += ${WG}u) {
      let kb = ((c0 + j) * P.kv_dim + kvo) / 4u;
      var s = 0.0;
      for (var i = 0u; i < hd4; i++) { s += dot(q[i], K[kb + i]); }
      s *= P.scale;
      if (P.soft_cap > 0.0) {
        // tanh written out and clamped (WGSL's tanh may be NaN for large arguments on some drivers).
        let e = exp(2.0 * clamp(s / P.soft_cap, -15.0, 15.0));
        s = P.soft_cap * (e - 1.0) / (e + 1.0);
      }
      sc[j] = s;
      local_max = max(local_max, s);
    }
    let m_new = max(m, wg_max(local_max, li));
    var local_sum = 0.0;
    for (var j = li; j < n; j += ${WG}u) {
      let p = exp(sc[j] - m_new);
      sc[j] = p;
      local_sum += p;
    }
    let chunk_sum = wg_sum(local_sum, li);
    let corr = exp(m - m_new);
    l = l * corr + chunk_sum;
    for (var k = 0u; k < 4u; k++) {
      let d = li + k * ${WG}u;
      if (d < P.head_dim) {
        var a = acc[k] * corr;
        for (var j = 0u; j < n; j++) { a += sc[j] * V[(c0 + j) * P.kv_dim + kvo + d]; }
        acc[k] = a;
      }
    }
    m = m_new;
    workgroupBarrier();
  }
  for (var k = 0u; k < 4u; k++) {
    let d = li + k * ${WG}u;
    if (d < P.head_dim) { O[qo + d] = acc[k] / l; }
  }
}`;

export function packAttentionParams(
  p: { nHead: number; nHeadKv: number; headDim: number },
  o: { scale?: number; softCap?: number; window?: number } = {},
): ArrayBuffer {
  return ATTENTION_PARAMS.pack({
    nHead: p.nHead,
    group: p.nHead / p.nHeadKv,
    headDim: p.headDim,
    kvDim: p.nHeadKv * p.headDim,
    scale: o.scale ?? 1 / Math.sqrt(p.headDim),
    softCap: o.softCap ?? 0,
    window: o.window ?? 0,
  });
}

export class AttentionKernel {
  readonly layout: GPUBindGroupLayout;
  readonly pipeline: GPUComputePipeline;
  constructor(private readonly device: GPUDevice) {
    this.layout = createLayout(device, ['read', 'read', 'read', 'write', 'uniform', 'uniform']);
    this.pipeline = createPipeline(device, this.layout, WGSL, 'attention');
  }
  /** Bindings: q [T][nHead·headDim], K cache, V cache ([ctx][nHeadKv·headDim]), out (as q), params, step. */
  bind(bindings: Binding[]): GPUBindGroup {
    return bindGroup(this.device, this.layout, bindings);
  }
  encode(pass: GPUComputePassEncoder, group: GPUBindGroup, nHead: number, tokens: number): void {
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(nHead, tokens);
  }
}
