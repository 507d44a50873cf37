/**
 * Attention for one query token (decode), barrier-free: a workgroup is one subgroup per query head. Its lanes take
 * the keys in turn (key j to lane j mod size), each keeping its own online softmax (running max m, sum l, and the
 * weighted V sum in registers); subgroupMax / subgroupAdd then merge the lanes' partial results (each rescaled by
 * e^(m − M)). No shared memory and no barrier: on SwiftShader a barrier turns every subgroup into a coroutine, and
 * the general kernel (attention.ts: a 64-wide workgroup, reductions through shared memory) spent most of a
 * stories260K decode step there. Same maths as attention.ts: grouped-query heads, scale, Gemma 2's soft-cap,
 * sliding windows.
 *
 * The workgroup size is the adapter's smallest subgroup size (so a workgroup is one subgroup); used only where the
 * device has subgroups and reports that size, otherwise the decode graph keeps attention.ts.
 */
import { bindGroup, type Binding, createLayout, createPipeline } from './kernel.ts';
import { attentionBindingsWgsl } from './attention.ts';

/**
 * The kernel for one head size: q held in registers and each lane's weighted V sum in registers too (vec4 values
 * named per quarter-row, loops over the head unrolled). A private array indexed in a loop lives in memory instead
 * (local memory on GPUs, a gather on SwiftShader) — that version took 2.5× as long on a stories260K decode step.
 * The soft-cap is compiled in only where the model has one: a branch in the key loop costs a CPU adapter more than
 * the arithmetic.
 */
function wgsl(lanes: number, headDim: number, softCapped: boolean): string {
  const hd4 = headDim / 4;
  const is = Array.from({ length: hd4 }, (_, i) => i);
  return /* wgsl */ `
enable subgroups;
${attentionBindingsWgsl()}
// The workgroup's invocations are the lanes (the workgroup fits in one subgroup: its size is the adapter's smallest
// subgroup size, so a larger actual subgroup just holds inactive lanes, which the subgroup operations skip).
const LANES = ${lanes}u;
@compute @workgroup_size(${lanes})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lane: u32) {
  let h = wid.x;
  let qo = h * ${hd4}u;
  let kvo = (h / P.group) * ${hd4}u;
  let kv4 = P.kv_dim / 4u;
  let n_keys = S.pos0 + 1u;
  var first = 0u;
  if (P.window > 0u && n_keys > P.window) { first = n_keys - P.window; }
  ${is.map((i) => `let q${i} = Q[qo + ${i}u];`).join(' ')}
  var m = -3.0e38;
  var l = 0.0;
  ${is.map((i) => `var a${i} = vec4f(0.0);`).join(' ')}
  for (var j = first + lane; j < n_keys; j += LANES) {
    let kb = j * kv4 + kvo;
    var s = (${is.map((i) => `dot(q${i}, K[kb + ${i}u])`).join(' + ')}) * P.scale;
    ${
      softCapped
        ? `// Gemma 2's soft-cap: tanh written out and clamped (WGSL's tanh may be NaN for large arguments on some drivers).
    let e = exp(2.0 * clamp(s / P.soft_cap, -15.0, 15.0));
    s = P.soft_cap * (e - 1.0) / (e + 1.0);`
        : ''
    }
    let m_new = max(m, s);
    let corr = exp(m - m_new);
    let p = exp(s - m_new);
    l = l * corr + p;
    ${is.map((i) => `a${i} = a${i} * corr + p * V[kb + ${i}u];`).join('\n    ')}
    m = m_new;
  }
  // Merge the lanes: rescale each to the common maximum, then sum. A lane that saw no key has l = 0 and
  // contributes nothing (its m is −3e38, so its factor underflows to 0).
  let M = subgroupMax(m);
  let f = exp(m - M);
  let total = subgroupAdd(l * f);
  ${is.map((i) => `let o${i} = subgroupAdd(a${i} * f);`).join(' ')}
  if (lane == 0u) {
    ${is.map((i) => `O[qo + ${i}u] = o${i} / total;`).join(' ')}
  }
}`;
}

export class DecodeAttentionKernel {
  readonly layout: GPUBindGroupLayout;
  /** One pipeline per head size and soft-cap (compiled on first use). */
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  constructor(
    private readonly device: GPUDevice,
    private readonly lanes: number,
  ) {
    this.layout = createLayout(device, ['read', 'read', 'read', 'write', 'uniform', 'uniform']);
  }
  /** Bindings: q [nHead·headDim], K cache, V cache ([ctx][nHeadKv·headDim]), out (as q), params (attention.ts), step. */
  bind(bindings: Binding[]): GPUBindGroup {
    return bindGroup(this.device, this.layout, bindings);
  }
  /** `softCapped`: the params carry a score soft-cap (Gemma 2), compiled into the kernel. */
  encode(pass: GPUComputePassEncoder, group: GPUBindGroup, nHead: number, headDim: number, softCapped: boolean): void {
    const key = `${headDim}:${softCapped}`;
    let pipeline = this.pipelines.get(key);
    if (!pipeline) {
      pipeline = createPipeline(this.device, this.layout, wgsl(this.lanes, headDim, softCapped), `decode-attention ${headDim}${softCapped ? ' soft-capped' : ''}`);
      this.pipelines.set(key, pipeline);
    }
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(nHead);
  }
}
