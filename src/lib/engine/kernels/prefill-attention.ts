/**
 * Causal self-attention for a prefill (T > 1 new tokens), flash-attention style: a workgroup serves a tile of
 * queries — every query head of one KV head (grouped-query) for WG / group consecutive tokens — so each K/V row
 * it reads serves all of them, and an invocation owns one (query head, token): its query and its output row stay
 * in registers while it walks the keys with an online softmax (running max and sum; the output rescaled only when
 * the max grows). Same parameters and bindings as attention.ts (whose workgroup per (head, token) with several
 * barriers per key chunk stays the decode kernel): scale, Gemma 2's score soft-cap, per-layer sliding window
 * (keys at distance ≥ window masked), grouped-query heads.
 *
 * Two shapes of the same arithmetic, chosen per adapter (kernelShapeFor):
 * - 'tiled' (real GPUs): the workgroup loads a tile of KEYS K/V rows into shared memory with coalesced loads, one
 *   barrier before and one after its use, and every invocation reads it from there.
 * - 'direct' (SwiftShader): no shared memory, no barrier; an invocation owns one query head for QUERIES consecutive
 *   tokens and reads each K/V row straight from storage once for all of them (directWgsl). On a software adapter a
 *   barrier makes each 4-lane subgroup a coroutine, a shared-memory read costs about what a storage read does, and
 *   every load with a runtime index is a gather that costs far more than the arithmetic: the loads are the work
 *   there (stories260K, 151 tokens: 16.4 ms of attention a prefill, 10 ms without the V loads), so each one is
 *   made to serve several queries.
 *
 * The WGSL is generated per head dimension (query and output rows as fixed-size register arrays).
 */
import { bindGroup, type Binding, createLayout, createPipeline, grid } from './kernel.ts';
import { attentionBindingsWgsl } from './attention.ts';

const WG = 64;
/** Invocations per workgroup of the direct shape: small, so a short prompt still spreads over the CPU's threads. */
const DIRECT_WG = 16;
/** Shared memory for one K tile and one V tile (the WebGPU default limit is 16 KiB). */
const TILE_BYTES = 16384;
/** Most keys a tile holds (small heads would otherwise load far past a short causal range). */
const MAX_TILE_KEYS = 64;

export type PrefillAttentionShape = 'tiled' | 'direct';

/** Keys per shared-memory tile for a head dimension: a K and a V tile fit TILE_BYTES. */
export function tileKeys(headDim: number): number {
  return Math.max(1, Math.min(MAX_TILE_KEYS, Math.floor(TILE_BYTES / (2 * headDim * 4))));
}

/** The tiled shape (GPUs). */
function wgsl(headDim: number): string {
  const hd4 = headDim / 4;
  const keys = tileKeys(headDim);
  // The query and output rows as HD4 vec4 registers each, every loop over them written out (shader compilers on
  // CPUs keep a dynamically indexed array in memory).
  const each = (f: (d: number) => string) => Array.from({ length: hd4 }, (_, d) => f(d)).join(' ');
  const sumOf = (f: (d: number) => string) => Array.from({ length: hd4 }, (_, d) => f(d)).join(' + ');
  return /* wgsl */ `
${attentionBindingsWgsl()}
const HD4 = ${hd4}u;
const KEYS = ${keys}u;
var<workgroup> ks: array<vec4f, ${keys * hd4}>;
var<workgroup> vs: array<vec4f, ${keys * hd4}>;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) li: u32) {
  let kvh = wid.x;
  let tokens_per_wg = ${WG}u / P.group;
  let t0 = wid.y * tokens_per_wg;
  let t = t0 + li / P.group;
  let h = kvh * P.group + li % P.group;
  let live = li < tokens_per_wg * P.group && t < S.T;
  let kv4 = P.kv_dim / 4u;
  let kvo4 = kvh * HD4;
  // This query's keys: [first, n_keys); the tile's: from its first token's first key to its last token's last.
  let n_keys = S.pos0 + t + 1u;
  var first = 0u;
  if (P.window > 0u && n_keys > P.window) { first = n_keys - P.window; }
  let tile_end = S.pos0 + min(t0 + tokens_per_wg, S.T);
  var tile_first = 0u;
  if (P.window > 0u && S.pos0 + t0 + 1u > P.window) { tile_first = S.pos0 + t0 + 1u - P.window; }
  let qo = (t * P.n_head + h) * HD4;
  let qt = select(0u, qo, live);
  ${each((d) => `let q${d} = Q[qt + ${d}u] * P.scale; var a${d} = vec4f(0.0);`)}
  var m = -3.0e38;
  var l = 0.0;
  for (var c0 = tile_first; c0 < tile_end; c0 += KEYS) {
    let n = min(KEYS, tile_end - c0);
    for (var i = li; i < n * HD4; i += ${WG}u) {
      let src = (c0 + i / HD4) * kv4 + kvo4 + i % HD4;
      ks[i] = K[src];
      vs[i] = V[src];
    }
    workgroupBarrier();
    if (live) {
      // Keys of this tile that this query sees: causal end and window start.
      let j0 = max(first, c0) - c0;
      let j1 = select(0u, min(n_keys, c0 + n) - c0, n_keys > c0);
      for (var j = j0; j < j1; j++) {
        let kb = j * HD4;
        var s = ${sumOf((d) => `dot(q${d}, ks[kb + ${d}u])`)};
        if (P.soft_cap > 0.0) {
          // tanh written out and clamped (WGSL's tanh may be NaN for large arguments on some drivers).
          let e = exp(2.0 * clamp(s / P.soft_cap, -15.0, 15.0));
          s = P.soft_cap * (e - 1.0) / (e + 1.0);
        }
        if (s > m) {
          let corr = exp(m - s);
          l *= corr;
          ${each((d) => `a${d} *= corr;`)}
          m = s;
        }
        let p = exp(s - m);
        l += p;
        ${each((d) => `a${d} += p * vs[kb + ${d}u];`)}
      }
    }
    workgroupBarrier();
  }
  if (live) {
    let inv = 1.0 / l;
    ${each((d) => `O[qo + ${d}u] = a${d} * inv;`)}
  }
}`;
}

/** Queries per invocation of the direct shape: as many as keep the rows in registers (QUERIES × 2 × head_dim floats). */
function directQueries(headDim: number): number {
  return Math.max(1, Math.min(4, Math.floor(128 / headDim)));
}

/**
 * The direct shape: invocation i serves query head i mod n_head for the tokens QUERIES·b … QUERIES·b + QUERIES − 1
 * (b = i div n_head). It walks the keys the last of them sees; each key row is loaded once and scored against every
 * query, a query ignoring keys outside its own causal range and window. Per query, the same online softmax in the
 * same key order as the tiled shape. Branch-free inside the key loop, since on a CPU adapter a branch costs more
 * than the arithmetic (151-token stories260K prefill: 13.0 ms of attention with branches, 7.2 ms without): keys a
 * query does not see add zero, and the soft-cap is compiled in only for models that have one (`softCapped`).
 */
function directWgsl(headDim: number, softCapped: boolean): string {
  const hd4 = headDim / 4;
  const Q = directQueries(headDim);
  const ds = Array.from({ length: hd4 }, (_, d) => d);
  const rs = Array.from({ length: Q }, (_, r) => r);
  return /* wgsl */ `
${attentionBindingsWgsl()}
// Gemma 2's score soft-cap: tanh written out and clamped (WGSL's tanh may be NaN for large arguments on some drivers).
fn soft_cap(s: f32) -> f32 {
  let e = exp(2.0 * clamp(s / P.soft_cap, -15.0, 15.0));
  return P.soft_cap * (e - 1.0) / (e + 1.0);
}
@compute @workgroup_size(${DIRECT_WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = (wid.x + wid.y * nwg.x) * ${DIRECT_WG}u + li;
  let h = i % P.n_head;
  let t0 = (i / P.n_head) * ${Q}u;
  if (t0 >= S.T) { return; }
  let kv4 = P.kv_dim / 4u;
  let kvo4 = (h / P.group) * ${hd4}u;
  // Query r is token t0 + r (a query past the step's last token repeats it and is not written).
  ${rs.map((r) => `let qo${r} = (min(t0 + ${r}u, S.T - 1u) * P.n_head + h) * ${hd4}u;`).join('\n  ')}
  ${rs.map((r) => ds.map((d) => `let q${r}_${d} = Q[qo${r} + ${d}u] * P.scale; var a${r}_${d} = vec4f(0.0);`).join(' ')).join('\n  ')}
  ${rs.map((r) => `var m${r} = -3.0e38; var l${r} = 0.0;`).join(' ')}
  // Keys [first, n_end): from the first query's window start to the last query's own position.
  let p0 = S.pos0 + t0;
  let n_end = S.pos0 + min(t0 + ${Q}u, S.T);
  var first = 0u;
  if (P.window > 0u && p0 + 1u > P.window) { first = p0 + 1u - P.window; }
  for (var j = first; j < n_end; j++) {
    let kb = j * kv4 + kvo4;
    ${ds.map((d) => `let k${d} = K[kb + ${d}u]; let v${d} = V[kb + ${d}u];`).join(' ')}
    ${rs
      .map(
        (r) => `{
      // Query ${r} sees keys up to its position, and within the window (non-short-circuit: no branch).
      let seen = (j <= p0 + ${r}u) & ((P.window == 0u) | (j + P.window > p0 + ${r}u));
      var s = ${ds.map((d) => `dot(q${r}_${d}, k${d})`).join(' + ')};
      ${softCapped ? 's = soft_cap(s);' : ''}
      // Branch-free (a branch costs more than the arithmetic on a CPU adapter): keys a query does not see add 0.
      let m_new = select(m${r}, max(m${r}, s), seen);
      let corr = exp(m${r} - m_new);
      let p = select(0.0, exp(s - m_new), seen);
      l${r} = l${r} * corr + p;
      ${ds.map((d) => `a${r}_${d} = a${r}_${d} * corr + p * v${d};`).join(' ')}
      m${r} = m_new;
    }`,
      )
      .join('\n    ')}
  }
  ${rs.map((r) => `if (t0 + ${r}u < S.T) { let inv = 1.0 / l${r}; ${ds.map((d) => `O[qo${r} + ${d}u] = a${r}_${d} * inv;`).join(' ')} }`).join('\n  ')}
}`;
}

export class PrefillAttentionKernel {
  readonly layout: GPUBindGroupLayout;
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  constructor(
    private readonly device: GPUDevice,
    readonly shape: PrefillAttentionShape,
  ) {
    this.layout = createLayout(device, ['read', 'read', 'read', 'write', 'uniform', 'uniform']);
  }
  private pipeline(headDim: number, softCapped: boolean): GPUComputePipeline {
    // The tiled shape reads the soft-cap at run time (a uniform branch costs nothing on a GPU).
    const key = this.shape === 'direct' ? `${headDim}:${softCapped}` : `${headDim}`;
    let p = this.pipelines.get(key);
    if (!p) {
      const code = this.shape === 'direct' ? directWgsl(headDim, softCapped) : wgsl(headDim);
      p = createPipeline(this.device, this.layout, code, `prefill attention ${this.shape} hd${headDim}${softCapped ? ' soft-capped' : ''}`);
      this.pipelines.set(key, p);
    }
    return p;
  }
  /** Bindings (as AttentionKernel's): q [T][nHead·headDim], K cache, V cache ([ctx][nHeadKv·headDim]), out, params, step. */
  bind(bindings: Binding[]): GPUBindGroup {
    return bindGroup(this.device, this.layout, bindings);
  }
  /** `softCapped`: the params carry a score soft-cap (Gemma 2); it must say so, the direct shape compiles it in. */
  encode(pass: GPUComputePassEncoder, group: GPUBindGroup, heads: { nHead: number; nHeadKv: number; headDim: number }, tokens: number, softCapped: boolean): void {
    pass.setPipeline(this.pipeline(heads.headDim, softCapped));
    pass.setBindGroup(0, group);
    if (this.shape === 'direct') {
      const invocations = heads.nHead * Math.ceil(tokens / directQueries(heads.headDim));
      const [x, y] = grid(Math.ceil(invocations / DIRECT_WG));
      pass.dispatchWorkgroups(x, y);
      return;
    }
    const perKvHead = heads.nHead / heads.nHeadKv;
    const tokensPerWorkgroup = Math.floor(WG / perKvHead);
    pass.dispatchWorkgroups(heads.nHeadKv, Math.ceil(tokens / tokensPerWorkgroup));
  }
}
