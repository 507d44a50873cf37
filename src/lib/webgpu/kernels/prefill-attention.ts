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
 * - 'direct' (SwiftShader): no shared memory, no barrier; the invocations read K/V rows straight from storage. On a
 *   software adapter a barrier makes each 4-lane subgroup a coroutine and a shared-memory read costs about what a
 *   storage read does, so the tile only adds work there (measured: see README "Speed").
 *
 * The WGSL is generated per head dimension (query and output rows as fixed-size register arrays).
 */
import { bindGroup, type Binding, createLayout, createPipeline, STEP_WGSL } from './kernel.ts';

const WG = 64;
/** Shared memory for one K tile and one V tile (the WebGPU default limit is 16 KiB). */
const TILE_BYTES = 16384;
/** Most keys a tile holds (small heads would otherwise load far past a short causal range). */
const MAX_TILE_KEYS = 64;

export type PrefillAttentionShape = 'tiled' | 'direct';

/** Keys per shared-memory tile for a head dimension: a K and a V tile fit TILE_BYTES. */
export function tileKeys(headDim: number): number {
  return Math.max(1, Math.min(MAX_TILE_KEYS, Math.floor(TILE_BYTES / (2 * headDim * 4))));
}

function wgsl(headDim: number, shape: PrefillAttentionShape): string {
  const hd4 = headDim / 4;
  const keys = tileKeys(headDim);
  const tiled = shape === 'tiled';
  // The query and output rows as HD4 vec4 registers each, every loop over them written out (shader compilers on
  // CPUs keep a dynamically indexed array in memory).
  const each = (f: (d: number) => string) => Array.from({ length: hd4 }, (_, d) => f(d)).join(' ');
  const sumOf = (f: (d: number) => string) => Array.from({ length: hd4 }, (_, d) => f(d)).join(' + ');
  // Vec4 index of key row j's first element in the K/V tile (shared memory) or in the cache (storage).
  const kRow = (j: string) => (tiled ? `${j} * HD4` : `(${j}) * kv4 + kvo4`);
  const kAt = (kb: string, d: number) => (tiled ? `ks[${kb} + ${d}u]` : `K[${kb} + ${d}u]`);
  const vAt = (kb: string, d: number) => (tiled ? `vs[${kb} + ${d}u]` : `V[${kb} + ${d}u]`);
  const row = tiled ? 'j' : 'c0 + j';
  return /* wgsl */ `
@group(0) @binding(0) var<storage, read> Q: array<vec4f>;
@group(0) @binding(1) var<storage, read> K: array<vec4f>;
@group(0) @binding(2) var<storage, read> V: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> O: array<vec4f>;
@group(0) @binding(4) var<uniform> P: Params;
@group(0) @binding(5) var<uniform> S: Step;
struct Params { n_head: u32, group: u32, head_dim: u32, kv_dim: u32, scale: f32, soft_cap: f32, window: u32, _c: u32 }
${STEP_WGSL}
const HD4 = ${hd4}u;
const KEYS = ${tiled ? keys : 64}u;
${tiled ? `var<workgroup> ks: array<vec4f, ${keys * hd4}>;\nvar<workgroup> vs: array<vec4f, ${keys * hd4}>;` : ''}
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
    ${
      tiled
        ? `for (var i = li; i < n * HD4; i += ${WG}u) {
      let src = (c0 + i / HD4) * kv4 + kvo4 + i % HD4;
      ks[i] = K[src];
      vs[i] = V[src];
    }
    workgroupBarrier();`
        : ''
    }
    if (live) {
      // Keys of this tile that this query sees: causal end and window start.
      let j0 = max(first, c0) - c0;
      let j1 = select(0u, min(n_keys, c0 + n) - c0, n_keys > c0);
      for (var j = j0; j < j1; j++) {
        let kb = ${kRow(row)};
        var s = ${sumOf((d) => `dot(q${d}, ${kAt('kb', d)})`)};
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
        ${each((d) => `a${d} += p * ${vAt('kb', d)};`)}
      }
    }
    ${tiled ? 'workgroupBarrier();' : ''}
  }
  if (live) {
    let inv = 1.0 / l;
    ${each((d) => `O[qo + ${d}u] = a${d} * inv;`)}
  }
}`;
}

export class PrefillAttentionKernel {
  readonly layout: GPUBindGroupLayout;
  private readonly pipelines = new Map<number, GPUComputePipeline>();
  constructor(
    private readonly device: GPUDevice,
    readonly shape: PrefillAttentionShape,
  ) {
    this.layout = createLayout(device, ['read', 'read', 'read', 'write', 'uniform', 'uniform']);
  }
  private pipeline(headDim: number): GPUComputePipeline {
    let p = this.pipelines.get(headDim);
    if (!p) {
      p = createPipeline(this.device, this.layout, wgsl(headDim, this.shape), `prefill attention ${this.shape} hd${headDim}`);
      this.pipelines.set(headDim, p);
    }
    return p;
  }
  /** Bindings (as AttentionKernel's): q [T][nHead·headDim], K cache, V cache ([ctx][nHeadKv·headDim]), out, params, step. */
  bind(bindings: Binding[]): GPUBindGroup {
    return bindGroup(this.device, this.layout, bindings);
  }
  encode(pass: GPUComputePassEncoder, group: GPUBindGroup, heads: { nHead: number; nHeadKv: number; headDim: number }, tokens: number): void {
    const perKvHead = heads.nHead / heads.nHeadKv;
    const tokensPerWorkgroup = Math.floor(WG / perKvHead);
    pass.setPipeline(this.pipeline(heads.headDim));
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(heads.nHeadKv, Math.ceil(tokens / tokensPerWorkgroup));
  }
}
