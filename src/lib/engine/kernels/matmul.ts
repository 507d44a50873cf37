/**
 * Products of a weight matrix (any WeightFormat, decoded in the kernel) with activations:
 *
 *   Y[t][row_offset + r] (+)= Σ_k W[r][k] · X[t][k]     for the rows r of one weight part and the step's T tokens
 *
 * - matvec (decode, T = 1): 4 rows at a time, each unit's activations loaded once for the 4 (and each format's
 *   unit_dot: its fastest whole-unit dot product); with subgroups, a subgroup per 4 rows joined by subgroupAdd;
 *   otherwise TPR invocations per 4 rows take their units in turn and join their partial sums in shared memory with
 *   a single barrier (short rows share a workgroup).
 * - matmul (prefill, T > 1): prefill-matmul.ts, a register tile of rows × tokens per invocation.
 * - embedding (get_rows): decodes whole rows picked by token id.
 *
 * Flags: ACCUMULATE adds into Y (the residual stream), Y_AT_POS offsets Y by pos0 rows (writing K/V straight into
 * the cache).
 */
import type { GpuCaps } from '../device.ts';
import { bindGroup, type Binding, createLayout, createPipeline, grid, uniformsWgsl } from './kernel.ts';
import { type ParamsOf, paramsSchema } from './params.ts';
import { PrefillMatmulKernels } from './prefill-matmul.ts';
import { BYTE_ACCESS_WGSL, type WeightFormat } from './weight-formats.ts';

export const MATMUL_FLAGS = { ACCUMULATE: 1, Y_AT_POS: 2 } as const;

/**
 * A product over one weight part: its rows, units per row and bytes per row, the first output row it writes
 * (rowOffset), X's offset and row stride in vec4s, Y's offset and row stride in floats, MATMUL_FLAGS.
 */
export const MATMUL_PARAMS = paramsSchema('Params', {
  rows: 'u32', units: 'u32', rowBytes: 'u32', rowOffset: 'u32', xOffset: 'u32', xStride: 'u32', yOffset: 'u32', yStride: 'u32', flags: 'u32',
});
export type MatmulParams = ParamsOf<typeof MATMUL_PARAMS>;

export function packMatmulParams(p: MatmulParams): ArrayBuffer {
  return MATMUL_PARAMS.pack(p);
}

/**
 * An embedding lookup over one part of the token embedding: the part holds rows rowOffset… (rows of them, units and
 * rowBytes each); Y's offset and row stride are in floats; every value is multiplied by `scale` (Gemma's √nEmbd,
 * 1 for Llama).
 */
export const EMBEDDING_PARAMS = paramsSchema('Params', {
  rows: 'u32', units: 'u32', rowBytes: 'u32', rowOffset: 'u32', yOffset: 'u32', yStride: 'u32', scale: 'f32',
});

export function packEmbeddingParams(p: ParamsOf<typeof EMBEDDING_PARAMS>): ArrayBuffer {
  return EMBEDDING_PARAMS.pack(p);
}


const MATVEC_WG = 64;
const MATVEC_UNITS_PER_INVOCATION = 4;
/** Rows a subgroup (or a group of TPR invocations) of the matrix-vector kernels takes at once, sharing activation loads. */
const MATVEC_ROWS = 4;

/** A statement per four-weight group of a unit, written out (shader compilers on CPUs may not unroll loops). */
function unrolled(format: WeightFormat, statement: (i: number) => string): string {
  return Array.from({ length: format.unitElems / 4 }, (_, i) => statement(i)).join('\n      ');
}

/** x0, x1, … : the unit's activations as unit_dot's parameters. */
function xArgs(format: WeightFormat): string {
  return Array.from({ length: format.unitElems / 4 }, (_, i) => `x${i}`).join(', ');
}

/**
 * unit_dot(rb, u, xs, x0 … x{UV−1}): one unit's share of a row's dot product, given the unit's activations and their
 * sum xs (only formats with unitDotNeedsXSum read it). Formats with a faster whole-unit form (aligned word loads,
 * scales applied once per unit) supply it; the rest get this one, built from unit_at and decode4.
 */
export function unitDotWgsl(format: WeightFormat): string {
  if (format.unitDotWgsl) return format.unitDotWgsl;
  const params = Array.from({ length: format.unitElems / 4 }, (_, i) => `x${i}: vec4f`).join(', ');
  const sum = Array.from({ length: format.unitElems / 4 }, (_, i) => `dot(decode4(un, ${i}u), x${i})`).join(' + ');
  return /* wgsl */ `
fn unit_dot(rb: u32, u: u32, xs: f32, ${params}) -> f32 {
  let un = unit_at(rb, u);
  return ${sum};
}`;
}

/** WGSL statements binding the unit's activations x0 … (from X at vec4 index `xb`) and their sum xs. */
function loadUnitX(format: WeightFormat): string {
  const uv = format.unitElems / 4;
  const loads = Array.from({ length: uv }, (_, i) => `let x${i} = X[xb + ${i}u];`).join(' ');
  const xs = format.unitDotNeedsXSum ? `dot(${Array.from({ length: uv }, (_, i) => `x${i}`).join(' + ')}, vec4f(1.0))` : '0.0';
  return `${loads}\n      let xs = ${xs};`;
}

/**
 * What every weight kernel starts with: its five bindings (the weights as they are in the file, the input, the output,
 * the matrix's parameters, the step) — one layout for all, so they share a bind-group layout — the shared WGSL and the
 * format's decoder. The products' parameters are MATMUL_PARAMS; the embedding's, EMBEDDING_PARAMS.
 */
export function weightKernelPrelude(format: WeightFormat, input = 'X: array<vec4f>', output = 'Y: array<f32>', uniforms = uniformsWgsl(3, MATMUL_PARAMS, MATMUL_FLAGS)): string {
  return `@group(0) @binding(0) var<storage, read> W: array<u32>;
@group(0) @binding(1) var<storage, read> ${input};
@group(0) @binding(2) var<storage, read_write> ${output};
${uniforms}
${BYTE_ACCESS_WGSL}
${format.wgsl}`;
}

function matvecWgsl(format: WeightFormat): string {
  const rowsIdx = Array.from({ length: MATVEC_ROWS }, (_, r) => r);
  return /* wgsl */ `
${weightKernelPrelude(format)}
${unitDotWgsl(format)}
const WG = ${MATVEC_WG}u;
// Invocations per group of ${MATVEC_ROWS} rows (a power of two ≤ WG), chosen per matrix from its row length: short rows
// get few invocations and a workgroup covers WG / TPR groups. Each invocation loads a unit's activations once for
// the group's rows; rows past the matrix's end repeat its last row and are not written.
override TPR: u32 = 16u;
var<workgroup> red: array<vec4f, WG>;
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let lane = li % TPR;
  let row = ((wid.x + wid.y * nwg.x) * (WG / TPR) + li / TPR) * ${MATVEC_ROWS}u;
  ${rowsIdx.map((i) => `var acc${i} = 0.0;`).join(' ')}
  if (row < P.rows) {
    ${rowsIdx.map((i) => `let rb${i} = min(row + ${i}u, P.rows - 1u) * P.row_bytes;`).join('\n    ')}
    let xo = P.x_offset;
    for (var u = lane; u < P.units; u += TPR) {
      let xb = xo + u * UV;
      ${loadUnitX(format)}
      ${rowsIdx.map((r) => `acc${r} += unit_dot(rb${r}, u, xs, ${xArgs(format)});`).join('\n      ')}
    }
  }
  // One barrier: each group's first invocation adds its group's partial sums.
  red[li] = vec4f(${rowsIdx.map((i) => `acc${i}`).join(', ')});
  workgroupBarrier();
  if (lane == 0u && row < P.rows) {
    var total = vec4f(0.0);
    for (var i = 0u; i < TPR; i++) { total += red[li + i]; }
    var yo = P.y_offset + P.row_offset + row;
    if ((P.flags & Y_AT_POS) != 0u) { yo += S.pos0 * P.y_stride; }
    ${rowsIdx
      .map((i) => `if (row + ${i}u < P.rows) { if ((P.flags & ACCUMULATE) != 0u) { Y[yo + ${i}u] += total[${i}]; } else { Y[yo + ${i}u] = total[${i}]; } }`)
      .join('\n    ')}
  }
}`;
}

/**
 * Matrix-vector product with subgroups (where the device has them and WGSL's subgroup_id): each subgroup takes
 * MATVEC_ROWS consecutive rows at once, its lanes take the rows' units in turn and subgroupAdd joins them — no shared
 * memory, no barrier. A lane loads each unit's activations once and uses them for all the subgroup's rows (loads, not
 * arithmetic, bound a matrix-vector product; SwiftShader turns every per-lane load into a gather). A workgroup covers
 * RPW rows (MATVEC_ROWS per subgroup at the adapter's smallest subgroup size); with larger subgroups each subgroup
 * takes several groups of rows in turn. Rows past the matrix's end repeat its last row and are not written.
 */
function matvecSubgroupWgsl(format: WeightFormat, rowsPerWorkgroup: number): string {
  const R = MATVEC_ROWS;
  const rowsIdx = Array.from({ length: R }, (_, r) => r);
  return /* wgsl */ `
enable subgroups;
${weightKernelPrelude(format)}
${unitDotWgsl(format)}
const RPW = ${rowsPerWorkgroup}u;
const R = ${R}u;
@compute @workgroup_size(${MATVEC_WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(subgroup_id) sid: u32,
  @builtin(num_subgroups) nsg: u32, @builtin(subgroup_invocation_id) lane: u32, @builtin(subgroup_size) sg_size: u32) {
  let first = (wid.x + wid.y * nwg.x) * RPW;
  let xo = P.x_offset;
  for (var r = sid * R; r < RPW; r += nsg * R) {
    let row = first + r;
    if (row >= P.rows) { break; }
    ${rowsIdx.map((i) => `let rb${i} = min(row + ${i}u, P.rows - 1u) * P.row_bytes;`).join('\n    ')}
    ${rowsIdx.map((i) => `var acc${i} = 0.0;`).join(' ')}
    for (var u = lane; u < P.units; u += sg_size) {
      let xb = xo + u * UV;
      ${loadUnitX(format)}
      ${rowsIdx.map((r) => `acc${r} += unit_dot(rb${r}, u, xs, ${xArgs(format)});`).join('\n      ')}
    }
    ${rowsIdx.map((i) => `let total${i} = subgroupAdd(acc${i});`).join('\n    ')}
    if (lane == 0u) {
      var yo = P.y_offset + P.row_offset + row;
      if ((P.flags & Y_AT_POS) != 0u) { yo += S.pos0 * P.y_stride; }
      ${rowsIdx
        .map((i) => `if (row + ${i}u < P.rows) { if ((P.flags & ACCUMULATE) != 0u) { Y[yo + ${i}u] += total${i}; } else { Y[yo + ${i}u] = total${i}; } }`)
        .join('\n      ')}
    }
  }
}`;
}

/** Invocations per row for a matrix-vector product: about MATVEC_UNITS_PER_INVOCATION units each, 1…WG. */
export function matvecThreadsPerRow(units: number): number {
  let tpr = 1;
  while (tpr * 2 <= MATVEC_WG && tpr * 2 * MATVEC_UNITS_PER_INVOCATION <= units) tpr *= 2;
  return tpr;
}

function embeddingWgsl(format: WeightFormat): string {
  return /* wgsl */ `
${weightKernelPrelude(format, 'ids: array<u32>', 'Y: array<vec4f>', uniformsWgsl(3, EMBEDDING_PARAMS))}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let u = gid.x;
  let t = gid.y;
  if (u >= P.units || t >= S.T) { return; }
  let id = ids[t];
  if (id < P.row_offset || id >= P.row_offset + P.rows) { return; }
  let rb = (id - P.row_offset) * P.row_bytes;
  let yo = P.y_offset / 4u + t * (P.y_stride / 4u) + u * UV;
  let un = unit_at(rb, u);
  ${unrolled(format, (i) => `Y[yo + ${i}u] = decode4(un, ${i}u) * P.scale;`)}
}`;
}

/** The matrix kernels of one weight format on one device (compiled on first use). */
export class MatmulKernels {
  readonly layout: GPUBindGroupLayout;
  readonly embeddingLayout: GPUBindGroupLayout;
  private readonly pipelines = new Map<string, GPUComputePipeline>();

  /** Rows per workgroup of the subgroup matrix-vector kernel; 0 when the shared-memory kernel is used. */
  readonly subgroupRows: number;
  /** The matrix-matrix products (T > 1), same layout and bind groups. */
  readonly prefill: PrefillMatmulKernels;

  /** `useSubgroups: false` forces the shared-memory matrix-vector kernel (tests run both). */
  constructor(
    private readonly device: GPUDevice,
    readonly caps: GpuCaps,
    useSubgroups = true,
  ) {
    this.subgroupRows = useSubgroups && caps.subgroups && caps.subgroupId ? (MATVEC_WG / Math.max(4, caps.subgroupMinSize || 4)) * MATVEC_ROWS : 0;
    this.layout = createLayout(device, ['read', 'read', 'write', 'uniform', 'uniform']);
    this.embeddingLayout = createLayout(device, ['read', 'read', 'write', 'uniform', 'uniform']);
    // Barrier-free register tiles on a software adapter (SwiftShader), shared-memory tiles on GPUs.
    this.prefill = new PrefillMatmulKernels(device, this.layout, caps.architecture === 'swiftshader' ? 'direct' : 'tiled');
  }

  private pipeline(kind: 'matvec' | 'embedding', format: WeightFormat, tpr = 0): GPUComputePipeline {
    const key = `${kind}:${format.name}:${tpr}`;
    let p = this.pipelines.get(key);
    if (!p) {
      const code =
        kind === 'matvec'
          ? this.subgroupRows
            ? matvecSubgroupWgsl(format, this.subgroupRows)
            : matvecWgsl(format)
          : embeddingWgsl(format);
      const constants = kind === 'matvec' && !this.subgroupRows ? { TPR: tpr } : undefined;
      p = createPipeline(this.device, kind === 'embedding' ? this.embeddingLayout : this.layout, code, key, constants);
      this.pipelines.set(key, p);
    }
    return p;
  }

  /** Bindings: weights part, X (or token ids for embedding), Y, params slice, step. */
  bind(bindings: Binding[], embedding = false): GPUBindGroup {
    return bindGroup(this.device, embedding ? this.embeddingLayout : this.layout, bindings);
  }

  /** Y (+)= W·X for `tokens` tokens (1 → matrix-vector). */
  encode(pass: GPUComputePassEncoder, format: WeightFormat, group: GPUBindGroup, rows: number, units: number, tokens: number): void {
    if (tokens === 1 && this.subgroupRows) {
      pass.setPipeline(this.pipeline('matvec', format));
      pass.setBindGroup(0, group);
      const [x, y] = grid(Math.ceil(rows / this.subgroupRows));
      pass.dispatchWorkgroups(x, y);
    } else if (tokens === 1) {
      const tpr = matvecThreadsPerRow(units);
      pass.setPipeline(this.pipeline('matvec', format, tpr));
      pass.setBindGroup(0, group);
      const [x, y] = grid(Math.ceil(rows / ((MATVEC_WG / tpr) * MATVEC_ROWS)));
      pass.dispatchWorkgroups(x, y);
    } else {
      this.prefill.encode(pass, format, group, rows, tokens);
    }
  }

  encodeEmbedding(pass: GPUComputePassEncoder, format: WeightFormat, group: GPUBindGroup, units: number, tokens: number): void {
    pass.setPipeline(this.pipeline('embedding', format));
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(Math.ceil(units / 64), tokens);
  }
}
