/**
 * Fused matrix-vector kernels of the decode graph (one token), built around each weight format's unit_dot like the
 * plain matvec in matmul.ts (4 rows per subgroup — or per group of TPR invocations without subgroups — sharing
 * every activation load):
 *
 * - NORM (compile-time): RMSNorm of the input folded in. y = W·(x ⊙ g / rms(x)) = (W·(x ⊙ g)) / rms(x): the lanes
 *   multiply each activation by the norm weight as they load it and add up Σx² on the way (they read the whole
 *   input anyway), and the row sums are scaled by 1/rms at the end — no separate norm dispatch, no extra pass.
 * - mode 'plain': Y[row] = total, or += with ACCUMULATE (o and down projections add into the residual stream), and
 *   cap·tanh(total/cap) with SOFT_CAP (Gemma 2's final logits).
 * - mode 'qkv': q, k and v stacked in one buffer (weights.ts stack(): k at byte base1, v at base2) as one matrix
 *   of nq + 2·nkv rows; rows go to Q, or straight into the K / V cache at row pos0. With ROPE (interleaved pairs,
 *   no biases or head norms to apply first) q and k rows are rotated before they are stored: a group of 4 rows
 *   is two whole pairs, so the rotation needs nothing from other lanes.
 * - mode 'gated': gate and up stacked (up at byte up_base); each output row computes both dots and writes
 *   act(gate)·up (SiLU or GELU-tanh) — 8 weight rows share each activation load.
 *
 * Groups of 4 rows never straddle q/k/v (head sizes are multiples of 4).
 *
 * Three shapes, one per kind of adapter (DecodeMatvecShape): 'subgroup' (a subgroup's lanes across K, summed with
 * subgroupAdd), 'shared' (groups of TPR invocations across K, summed through shared memory after one barrier) — the
 * GPU shapes, coalesced loads and a short loop per lane — and 'rows' for software adapters: one invocation walks
 * whole rows (4 at a time) with no subgroup operation and no barrier. On SwiftShader a barrier or a subgroup
 * operation turns invocations into coroutines and every load is a gather, so the walk is 2–3× faster there for the
 * small products of a decode step; on a GPU it would be uncoalesced and starved of parallelism.
 */
import type { GpuCaps } from '../device.ts';
import { GATE_ACTIVATION_WGSL } from './activation.ts';
import { bindGroup, type Binding, createLayout, createPipeline, grid, uniformsWgsl } from './kernel.ts';
import { matvecThreadsPerRow, unitDotWgsl } from './matmul.ts';
import { type ParamsOf, paramsSchema } from './params.ts';
import { BYTE_ACCESS_WGSL, type WeightFormat } from './weight-formats.ts';

export type DecodeMatvecMode = 'plain' | 'qkv' | 'gated';
export type DecodeMatvecShape = 'subgroup' | 'shared' | 'rows';
export const DECODE_MATVEC_FLAGS = { ACCUMULATE: 1, SOFT_CAP: 2, ROPE: 4 } as const;

/**
 * - rows: output rows (qkv: nq + 2·nkv; gated: the FFN width); units and rowBytes per row; flags: DECODE_MATVEC_FLAGS;
 * - k, eps: the row length in weights (the folded norm's mean) and the norm's epsilon;
 * - qkv: seg1, seg2, the first k row and first v row, base1, base2 their byte offsets in the weights binding, and
 *   kvStride the cache's row stride; with ROPE headDim and halfRot, the head size and rotated pairs per head
 *   (interleaved layout, nRot a multiple of 4);
 * - gated: upBase, the byte offset of the up rows, and act (ACTIVATION);
 * - cap: SOFT_CAP's cap.
 * Fields a mode does not read may be left out.
 */
export const DECODE_MATVEC_PARAMS = paramsSchema(
  'Params',
  {
    rows: 'u32', units: 'u32', rowBytes: 'u32', flags: 'u32', k: 'u32', eps: 'f32', seg1: 'u32', seg2: 'u32',
    base1: 'u32', base2: 'u32', kvStride: 'u32', upBase: 'u32', cap: 'f32', act: 'u32', headDim: 'u32', halfRot: 'u32',
  },
  { flags: 0, eps: 0, seg1: 0, seg2: 0, base1: 0, base2: 0, kvStride: 0, upBase: 0, cap: 0, act: 0, headDim: 1, halfRot: 0 },
);
export type DecodeMatvecParams = ParamsOf<typeof DECODE_MATVEC_PARAMS>;

export function packDecodeMatvecParams(p: DecodeMatvecParams): ArrayBuffer {
  return DECODE_MATVEC_PARAMS.pack(p);
}

const WG = 64;
const R = 4;
/** 'rows': invocations per workgroup — small, so even a product of a few hundred rows spreads over the CPU's threads. */
const ROWS_WG = 8;
const IDX = Array.from({ length: R }, (_, i) => i);

function bindings(mode: DecodeMatvecMode): string {
  const out =
    mode === 'qkv'
      ? `@group(0) @binding(3) var<storage, read_write> YQ: array<f32>;
@group(0) @binding(4) var<storage, read_write> YK: array<f32>;
@group(0) @binding(5) var<storage, read_write> YV: array<f32>;
${uniformsWgsl(6, DECODE_MATVEC_PARAMS, DECODE_MATVEC_FLAGS)}
@group(0) @binding(8) var<storage, read> C: array<vec2f>;`
      : `@group(0) @binding(3) var<storage, read_write> Y: array<f32>;
${uniformsWgsl(4, DECODE_MATVEC_PARAMS, DECODE_MATVEC_FLAGS)}`;
  return `@group(0) @binding(0) var<storage, read> W: array<u32>;
@group(0) @binding(1) var<storage, read> X: array<vec4f>;
@group(0) @binding(2) var<storage, read> G: array<vec4f>;
${out}`;
}

/** Row base and output, per mode. */
function rowFunctions(mode: DecodeMatvecMode): string {
  if (mode === 'qkv') {
    return /* wgsl */ `
fn row_base(r: u32) -> u32 {
  if (r < P.seg1) { return r * P.row_bytes; }
  if (r < P.seg2) { return P.base1 + (r - P.seg1) * P.row_bytes; }
  return P.base2 + (r - P.seg2) * P.row_bytes;
}
// ROPE: rotate q and k rows in place before storing (interleaved pairs: a group of 4 rows is 2 whole pairs).
fn rope4(row: u32, v: vec4f) -> vec4f {
  if ((P.flags & ROPE) == 0u || row >= P.seg2) { return v; }
  var r = row;
  if (r >= P.seg1) { r -= P.seg1; }
  let d = r % P.head_dim;
  if (d >= 2u * P.half_rot) { return v; }
  let c = S.pos0 * P.half_rot + d / 2u;
  let c0 = C[c];
  let c1 = C[c + 1u];
  return vec4f(v.x * c0.x - v.y * c0.y, v.x * c0.y + v.y * c0.x, v.z * c1.x - v.w * c1.y, v.z * c1.y + v.w * c1.x);
}
fn store(r: u32, v: f32) {
  if (r < P.seg1) { YQ[r] = v; }
  else if (r < P.seg2) { YK[S.pos0 * P.kv_stride + r - P.seg1] = v; }
  else { YV[S.pos0 * P.kv_stride + r - P.seg2] = v; }
}`;
  }
  return /* wgsl */ `
fn row_base(r: u32) -> u32 { return r * P.row_bytes; }
fn store(r: u32, t: f32) {
  var v = t;
  if ((P.flags & SOFT_CAP) != 0u) {
    let e = exp(2.0 * clamp(v / P.cap, -15.0, 15.0));
    v = P.cap * (e - 1.0) / (e + 1.0);
  }
  if ((P.flags & ACCUMULATE) != 0u) { Y[r] += v; } else { Y[r] = v; }
}
${mode === 'gated' ? GATE_ACTIVATION_WGSL : ''}`;
}

/** The loop body over one unit: activations (normed by g when NORM), then each row's unit_dot. */
function unitBody(format: WeightFormat, mode: DecodeMatvecMode, norm: boolean): string {
  const uv = format.unitElems / 4;
  const vs = Array.from({ length: uv }, (_, i) => i);
  const loads = norm
    ? vs.map((i) => `let r${i} = X[xb + ${i}u]; ss += dot(r${i}, r${i}); let x${i} = r${i} * G[xb + ${i}u];`).join('\n      ')
    : vs.map((i) => `let x${i} = X[xb + ${i}u];`).join(' ');
  const xs = format.unitDotNeedsXSum ? `dot(${vs.map((i) => `x${i}`).join(' + ')}, vec4f(1.0))` : '0.0';
  const args = vs.map((i) => `x${i}`).join(', ');
  const dots = IDX.map((r) => `acc${r} += unit_dot(rb${r}, u, xs, ${args});`);
  if (mode === 'gated') dots.push(...IDX.map((r) => `accu${r} += unit_dot(ub${r}, u, xs, ${args});`));
  return `let xb = u * UV;
      ${loads}
      let xs = ${xs};
      ${dots.join('\n      ')}`;
}

function rowSetup(mode: DecodeMatvecMode): string {
  const lines = IDX.map((i) => `let rb${i} = row_base(min(row + ${i}u, P.rows - 1u));`);
  if (mode === 'gated') lines.push(...IDX.map((i) => `let ub${i} = P.up_base + min(row + ${i}u, P.rows - 1u) * P.row_bytes;`));
  return lines.join('\n    ');
}

/** Stores the 4 rows' results: t (and tu for gated), scaled by inv. */
function epilogue(mode: DecodeMatvecMode): string {
  const value = mode === 'gated' ? 'gate_act(t * inv, P.act) * (tu * inv)' : mode === 'qkv' ? 'rope4(row, t * inv)' : 't * inv';
  return `let v = ${value};
      ${IDX.map((i) => `if (row + ${i}u < P.rows) { store(row + ${i}u, v[${i}]); }`).join('\n      ')}`;
}

function invWgsl(norm: boolean, ssTotal: string): string {
  return norm ? `let inv = 1.0 / sqrt(${ssTotal} / f32(P.k) + P.eps);` : 'let inv = 1.0;';
}

/** What every shape's kernel starts with: bindings, byte access, the format's decoder and unit dot, the mode's rows. */
function prelude(format: WeightFormat, mode: DecodeMatvecMode): string {
  return `${bindings(mode)}
${BYTE_ACCESS_WGSL}
${format.wgsl}
${unitDotWgsl(format)}
${rowFunctions(mode)}`;
}

/** The accumulators of 4 rows (and of their up rows when gated). */
function accumulators(mode: DecodeMatvecMode): string[] {
  return [...IDX.map((i) => `acc${i}`), ...(mode === 'gated' ? IDX.map((i) => `accu${i}`) : [])];
}

function subgroupWgsl(format: WeightFormat, mode: DecodeMatvecMode, norm: boolean, rowsPerWorkgroup: number): string {
  const accs = accumulators(mode);
  return /* wgsl */ `
enable subgroups;
${prelude(format, mode)}
const RPW = ${rowsPerWorkgroup}u;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(subgroup_id) sid: u32,
  @builtin(num_subgroups) nsg: u32, @builtin(subgroup_invocation_id) lane: u32, @builtin(subgroup_size) sg_size: u32) {
  let first = (wid.x + wid.y * nwg.x) * RPW;
  for (var r = sid * ${R}u; r < RPW; r += nsg * ${R}u) {
    let row = first + r;
    if (row >= P.rows) { break; }
    ${rowSetup(mode)}
    ${accs.map((a) => `var ${a} = 0.0;`).join(' ')}
    var ss = 0.0;
    for (var u = lane; u < P.units; u += sg_size) {
      ${unitBody(format, mode, norm)}
    }
    let t = vec4f(${IDX.map((i) => `subgroupAdd(acc${i})`).join(', ')});
    ${mode === 'gated' ? `let tu = vec4f(${IDX.map((i) => `subgroupAdd(accu${i})`).join(', ')});` : ''}
    ${invWgsl(norm, 'subgroupAdd(ss)')}
    if (lane == 0u) {
      ${epilogue(mode)}
    }
  }
}`;
}

function sharedWgsl(format: WeightFormat, mode: DecodeMatvecMode, norm: boolean): string {
  const accs = accumulators(mode);
  return /* wgsl */ `
${prelude(format, mode)}
const WG = ${WG}u;
override TPR: u32 = 16u;
var<workgroup> red: array<vec4f, WG>;
var<workgroup> red_u: array<vec4f, WG>;
var<workgroup> red_s: array<f32, WG>;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let lane = li % TPR;
  let row = ((wid.x + wid.y * nwg.x) * (WG / TPR) + li / TPR) * ${R}u;
  ${accs.map((a) => `var ${a} = 0.0;`).join(' ')}
  var ss = 0.0;
  if (row < P.rows) {
    ${rowSetup(mode)}
    for (var u = lane; u < P.units; u += TPR) {
      ${unitBody(format, mode, norm)}
    }
  }
  // One barrier: each group's first invocation adds its group's partial sums.
  red[li] = vec4f(acc0, acc1, acc2, acc3);
  ${mode === 'gated' ? 'red_u[li] = vec4f(accu0, accu1, accu2, accu3);' : ''}
  red_s[li] = ss;
  workgroupBarrier();
  if (lane == 0u && row < P.rows) {
    var t = vec4f(0.0);
    var tu = vec4f(0.0);
    var ts = 0.0;
    for (var i = 0u; i < TPR; i++) { t += red[li + i]; ${mode === 'gated' ? 'tu += red_u[li + i];' : ''} ts += red_s[li + i]; }
    ${invWgsl(norm, 'ts')}
    {
      ${epilogue(mode)}
    }
  }
}`;
}

/** 'rows': invocation i computes rows 4i…4i+3 over all of K (see the header). */
function rowsWgsl(format: WeightFormat, mode: DecodeMatvecMode, norm: boolean): string {
  const accs = accumulators(mode);
  return /* wgsl */ `
${prelude(format, mode)}
@compute @workgroup_size(${ROWS_WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let row = ((wid.x + wid.y * nwg.x) * ${ROWS_WG}u + li) * ${R}u;
  if (row >= P.rows) { return; }
  ${rowSetup(mode)}
  ${accs.map((a) => `var ${a} = 0.0;`).join(' ')}
  var ss = 0.0;
  for (var u = 0u; u < P.units; u++) {
    ${unitBody(format, mode, norm)}
  }
  let t = vec4f(acc0, acc1, acc2, acc3);
  ${mode === 'gated' ? 'let tu = vec4f(accu0, accu1, accu2, accu3);' : ''}
  ${invWgsl(norm, 'ss')}
  ${epilogue(mode)}
}`;
}

/** The fused decode matvec kernels of one device, in one shape (pipelines compiled on first use per format and mode). */
export class DecodeMatvecKernels {
  readonly layout: GPUBindGroupLayout;
  readonly qkvLayout: GPUBindGroupLayout;
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  /** Rows per workgroup of the 'subgroup' shape. */
  private readonly subgroupRows: number;

  constructor(
    private readonly device: GPUDevice,
    caps: GpuCaps,
    readonly shape: DecodeMatvecShape,
  ) {
    if (shape === 'subgroup' && !(caps.subgroups && caps.subgroupId)) throw new Error('decode-matvec: the subgroup shape needs subgroups with subgroup_id');
    this.subgroupRows = (WG / Math.max(4, caps.subgroupMinSize || 4)) * R;
    this.layout = createLayout(device, ['read', 'read', 'read', 'write', 'uniform', 'uniform']);
    this.qkvLayout = createLayout(device, ['read', 'read', 'read', 'write', 'write', 'write', 'uniform', 'uniform', 'read']);
  }

  /** The shape for an adapter: 'rows' on a software one, 'subgroup' where subgroups report their ids, else 'shared'. */
  static shapeFor(caps: GpuCaps, software: boolean): DecodeMatvecShape {
    if (software) return 'rows';
    return caps.subgroups && caps.subgroupId ? 'subgroup' : 'shared';
  }

  private pipeline(format: WeightFormat, mode: DecodeMatvecMode, norm: boolean, tpr: number): GPUComputePipeline {
    const key = `${format.name}:${mode}:${norm}:${tpr}`;
    let p = this.pipelines.get(key);
    if (!p) {
      const code =
        this.shape === 'subgroup' ? subgroupWgsl(format, mode, norm, this.subgroupRows) : this.shape === 'rows' ? rowsWgsl(format, mode, norm) : sharedWgsl(format, mode, norm);
      p = createPipeline(this.device, mode === 'qkv' ? this.qkvLayout : this.layout, code, `decode-matvec ${this.shape} ${key}`, this.shape === 'shared' ? { TPR: tpr } : undefined);
      this.pipelines.set(key, p);
    }
    return p;
  }

  /**
   * Bindings: weights (the whole stack for qkv/gated), x, norm weight (any buffer without NORM), then Y — or Q, K
   * cache, V cache for qkv — then params (packDecodeMatvecParams) and the step; qkv last the rope cos/sin table.
   */
  bind(mode: DecodeMatvecMode, bindings: Binding[]): GPUBindGroup {
    return bindGroup(this.device, mode === 'qkv' ? this.qkvLayout : this.layout, bindings);
  }

  encode(pass: GPUComputePassEncoder, format: WeightFormat, mode: DecodeMatvecMode, norm: boolean, group: GPUBindGroup, rows: number, units: number): void {
    const tpr = this.shape === 'shared' ? matvecThreadsPerRow(units) : 0;
    pass.setPipeline(this.pipeline(format, mode, norm, tpr));
    pass.setBindGroup(0, group);
    const perWorkgroup = this.shape === 'subgroup' ? this.subgroupRows : this.shape === 'rows' ? ROWS_WG * R : (WG / tpr) * R;
    const [x, y] = grid(Math.ceil(rows / perWorkgroup));
    pass.dispatchWorkgroups(x, y);
  }
}
