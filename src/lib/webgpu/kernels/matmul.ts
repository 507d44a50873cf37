/**
 * Products of a weight matrix (any WeightFormat, decoded in the kernel) with activations:
 *
 *   Y[t][row_offset + r] (+)= Σ_k W[r][k] · X[t][k]     for the rows r of one weight part and the step's T tokens
 *
 * - matvec (decode, T = 1): a workgroup per row; its invocations take the row's units in turn and reduce their
 *   partial sums together (subgroupAdd where the device has subgroups, shared memory otherwise).
 * - matmul (prefill, T > 1): a workgroup per 64 rows × 8 tokens; each invocation owns one row, decodes each unit
 *   once and uses it for 8 tokens, whose activations are staged in shared memory.
 * - embedding (get_rows): decodes whole rows picked by token id.
 *
 * Flags: ACCUMULATE adds into Y (the residual stream), Y_AT_POS offsets Y by pos0 rows (writing K/V straight into
 * the cache), LAST_TOKEN reads only the step's last token (logits after a prefill).
 */
import type { GpuCaps } from '../device.ts';
import { bindGroup, type Binding, createLayout, createPipeline, grid, STEP_WGSL } from './kernel.ts';
import { BYTE_ACCESS_WGSL, type WeightFormat } from './weight-formats.ts';

export const MATMUL_FLAGS = { ACCUMULATE: 1, Y_AT_POS: 2, LAST_TOKEN: 4 } as const;

export interface MatmulParams {
  rows: number;
  units: number;
  rowBytes: number;
  rowOffset: number;
  /** In vec4s. */
  xOffset: number;
  xStride: number;
  /** In floats. */
  yOffset: number;
  yStride: number;
  flags: number;
}

export const MATMUL_PARAMS_WORDS = 9;

export function packMatmulParams(p: MatmulParams): Uint32Array {
  return new Uint32Array([p.rows, p.units, p.rowBytes, p.rowOffset, p.xOffset, p.xStride, p.yOffset, p.yStride, p.flags]);
}

const PARAMS_WGSL = /* wgsl */ `
struct Params { rows: u32, units: u32, row_bytes: u32, row_offset: u32, x_offset: u32, x_stride: u32,
  y_offset: u32, y_stride: u32, flags: u32 }
${STEP_WGSL}`;

const MATVEC_WG = 64;
const MATMUL_ROWS = 64;
const MATMUL_TOKENS = 8;
/** vec4s of activations staged per barrier (8 KiB). */
const MATMUL_STAGE_VEC4 = 512;

function matvecWgsl(format: WeightFormat, caps: GpuCaps): string {
  const sg = caps.subgroups;
  return /* wgsl */ `
${sg ? 'enable subgroups;' : ''}
@group(0) @binding(0) var<storage, read> W: array<u32>;
@group(0) @binding(1) var<storage, read> X: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;
@group(0) @binding(3) var<uniform> P: Params;
@group(0) @binding(4) var<uniform> S: Step;
${PARAMS_WGSL}
${BYTE_ACCESS_WGSL}
${format.wgsl}
const WG = ${MATVEC_WG}u;
var<workgroup> red: array<f32, WG>;
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32
  ${sg ? ', @builtin(subgroup_size) sg_size: u32, @builtin(subgroup_invocation_id) sg_id: u32' : ''}) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= P.rows) { return; }
  let rb = row * P.row_bytes;
  var xo = P.x_offset;
  if ((P.flags & 4u) != 0u) { xo += (S.T - 1u) * P.x_stride; }
  var acc = 0.0;
  for (var u = li; u < P.units; u += WG) {
    let w = decode_unit(rb, u);
    let xb = xo + u * UV;
    for (var i = 0u; i < UV; i++) { acc += dot(w[i], X[xb + i]); }
  }
  ${
    sg
      ? `// Subgroup sums first; their first lanes meet in shared memory (other lanes add zero).
  let s = subgroupAdd(acc);
  red[li] = select(0.0, s, sg_id == 0u);`
      : 'red[li] = acc;'
  }
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (li < s) { red[li] += red[li + s]; }
    workgroupBarrier();
  }
  if (li == 0u) {
    var yo = P.y_offset + P.row_offset + row;
    if ((P.flags & 2u) != 0u) { yo += S.pos0 * P.y_stride; }
    if ((P.flags & 1u) != 0u) { Y[yo] += red[0]; } else { Y[yo] = red[0]; }
  }
}`;
}

function matmulWgsl(format: WeightFormat): string {
  const uv = format.unitElems / 4;
  const chunk = MATMUL_STAGE_VEC4 / MATMUL_TOKENS / uv; // units staged per barrier
  return /* wgsl */ `
@group(0) @binding(0) var<storage, read> W: array<u32>;
@group(0) @binding(1) var<storage, read> X: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;
@group(0) @binding(3) var<uniform> P: Params;
@group(0) @binding(4) var<uniform> S: Step;
${PARAMS_WGSL}
${BYTE_ACCESS_WGSL}
${format.wgsl}
const ROWS = ${MATMUL_ROWS}u;
const TT = ${MATMUL_TOKENS}u;
const CHUNK = ${chunk}u;
const STAGE = TT * CHUNK * UV;
var<workgroup> xs: array<vec4f, STAGE>;
@compute @workgroup_size(ROWS)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) li: u32) {
  let row = wid.x * ROWS + li;
  let t0 = wid.y * TT;
  let T = S.T;
  let rb = row * P.row_bytes;
  var acc: array<f32, TT>;
  for (var c = 0u; c < P.units; c += CHUNK) {
    for (var e = li; e < STAGE; e += ROWS) {
      let t = t0 + e / (CHUNK * UV);
      let v = c * UV + e % (CHUNK * UV);
      var x = vec4f(0.0);
      if (t < T && v < P.units * UV) { x = X[P.x_offset + t * P.x_stride + v]; }
      xs[e] = x;
    }
    workgroupBarrier();
    if (row < P.rows) {
      let n = min(CHUNK, P.units - c);
      for (var u = 0u; u < n; u++) {
        let w = decode_unit(rb, c + u);
        for (var t = 0u; t < TT; t++) {
          let xb = t * CHUNK * UV + u * UV;
          var s = 0.0;
          for (var i = 0u; i < UV; i++) { s += dot(w[i], xs[xb + i]); }
          acc[t] += s;
        }
      }
    }
    workgroupBarrier();
  }
  if (row < P.rows) {
    var yo = P.y_offset + P.row_offset + row;
    if ((P.flags & 2u) != 0u) { yo += S.pos0 * P.y_stride; }
    for (var t = 0u; t < TT; t++) {
      if (t0 + t < T) {
        let o = yo + (t0 + t) * P.y_stride;
        if ((P.flags & 1u) != 0u) { Y[o] += acc[t]; } else { Y[o] = acc[t]; }
      }
    }
  }
}`;
}

function embeddingWgsl(format: WeightFormat): string {
  return /* wgsl */ `
@group(0) @binding(0) var<storage, read> W: array<u32>;
@group(0) @binding(1) var<storage, read> ids: array<u32>;
@group(0) @binding(2) var<storage, read_write> Y: array<vec4f>;
@group(0) @binding(3) var<uniform> P: Params;
@group(0) @binding(4) var<uniform> S: Step;
${PARAMS_WGSL}
${BYTE_ACCESS_WGSL}
${format.wgsl}
// Embedding rows scaled by bitcast<f32>(P.x_stride) (Gemma-style embedding scale; 1.0 for Llama).
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let u = gid.x;
  let t = gid.y;
  if (u >= P.units || t >= S.T) { return; }
  let id = ids[t];
  if (id < P.row_offset || id >= P.row_offset + P.rows) { return; }
  let w = decode_unit((id - P.row_offset) * P.row_bytes, u);
  let scale = bitcast<f32>(P.x_stride);
  let yo = P.y_offset / 4u + t * (P.y_stride / 4u) + u * UV;
  for (var i = 0u; i < UV; i++) { Y[yo + i] = w[i] * scale; }
}`;
}

/** The matrix kernels of one weight format on one device (compiled on first use). */
export class MatmulKernels {
  readonly layout: GPUBindGroupLayout;
  readonly embeddingLayout: GPUBindGroupLayout;
  private readonly pipelines = new Map<string, GPUComputePipeline>();

  constructor(
    private readonly device: GPUDevice,
    private readonly caps: GpuCaps,
  ) {
    this.layout = createLayout(device, ['read', 'read', 'write', 'uniform', 'uniform']);
    this.embeddingLayout = createLayout(device, ['read', 'read', 'write', 'uniform', 'uniform']);
  }

  private pipeline(kind: 'matvec' | 'matmul' | 'embedding', format: WeightFormat): GPUComputePipeline {
    const key = `${kind}:${format.name}`;
    let p = this.pipelines.get(key);
    if (!p) {
      const code =
        kind === 'matvec' ? matvecWgsl(format, this.caps) : kind === 'matmul' ? matmulWgsl(format) : embeddingWgsl(format);
      p = createPipeline(this.device, kind === 'embedding' ? this.embeddingLayout : this.layout, code, key);
      this.pipelines.set(key, p);
    }
    return p;
  }

  /** Bindings: weights part, X (or token ids for embedding), Y, params slice, step. */
  bind(bindings: Binding[], embedding = false): GPUBindGroup {
    return bindGroup(this.device, embedding ? this.embeddingLayout : this.layout, bindings);
  }

  /** Y (+)= W·X for `tokens` tokens (1 → matrix-vector; LAST_TOKEN params also use matrix-vector). */
  encode(pass: GPUComputePassEncoder, format: WeightFormat, group: GPUBindGroup, rows: number, tokens: number): void {
    if (tokens === 1) {
      pass.setPipeline(this.pipeline('matvec', format));
      pass.setBindGroup(0, group);
      const [x, y] = grid(rows);
      pass.dispatchWorkgroups(x, y);
    } else {
      pass.setPipeline(this.pipeline('matmul', format));
      pass.setBindGroup(0, group);
      pass.dispatchWorkgroups(Math.ceil(rows / MATMUL_ROWS), Math.ceil(tokens / MATMUL_TOKENS));
    }
  }

  encodeEmbedding(pass: GPUComputePassEncoder, format: WeightFormat, group: GPUBindGroup, units: number, tokens: number): void {
    pass.setPipeline(this.pipeline('embedding', format));
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(Math.ceil(units / 64), tokens);
  }
}
