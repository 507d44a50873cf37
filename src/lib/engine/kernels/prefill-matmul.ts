/**
 * Matrix-matrix product for a prefill (T > 1 tokens), register-tiled:
 *
 *   Y[t][row_offset + r] (+)= Σ_k W[r][k] · X[t][k]
 *
 * An invocation owns a tile of ROWS rows × TOKENS tokens: per unit of weights it decodes each of its rows' unit
 * once (the format's unit_at/decode4, the same decoders as every other weight kernel, so all 14 weight types come
 * for free) and loads each token's activations once, then multiplies every pair — ROWS·TOKENS products per
 * ROWS + TOKENS loads, where the matrix-vector shape does one product per load and the former prefill kernel (one
 * row × 4 tokens) 4 per 5. Barrier-free and without shared memory: the invocations of a workgroup walk the same
 * units in step and read the same activations, which a GPU's cache broadcasts and which SwiftShader (where a
 * barrier turns every 4-lane subgroup into a coroutine) runs as one call.
 *
 * Bindings and parameters are matmul.ts's (one bind group serves both), flags too: ACCUMULATE, Y_AT_POS.
 * Rows past the matrix's end repeat its last row and tokens past the step's last repeat the last token; neither is
 * written.
 */
import { createPipeline } from './kernel.ts';
import { weightKernelPrelude } from './matmul.ts';
import type { WeightFormat } from './weight-formats.ts';

const WG = 64;
/** Invocations per workgroup of the direct shape (software adapters): few, so small products spread over the CPU's threads. */
const DIRECT_WG = 16;
/**
 * Register tile of an invocation of the direct shape, per kind of format (measured on SwiftShader, whole prefills):
 * plain floats (a unit is 4 weights, one load each) gain from a large tile — stories260K (F32), 151 tokens:
 * 4×8 52.8 ms, 4×16 47.0 ms, 8×16 45.9 ms — while a quantized unit (32 weights, decoded per row) keeps 4×8 — the
 * 1024×12 Q4_K model, 64 tokens: 4×8 8.3 tok/s, 4×16 5.2, 8×16 6.4.
 */
export const PREFILL_TILES = { plain: { rows: 8, tokens: 16 }, quantized: { rows: 4, tokens: 8 } } as const;

/** The direct shape's tile for a format. */
export function prefillTile(format: WeightFormat): { rows: number; tokens: number } {
  return format.unitElems === 4 ? PREFILL_TILES.plain : PREFILL_TILES.quantized;
}

/**
 * The end of both shapes: the register tile acc{r}_{c} (rows row…, tokens `tok`…) into Y at its rows and tokens
 * (+ pos0 rows with Y_AT_POS), added with ACCUMULATE; rows past the matrix and tokens past the step are not written.
 */
function storeTileWgsl(rows: number, tokens: number, tok: string): string {
  const stores = Array.from({ length: rows }, (_, r) =>
    Array.from({ length: tokens }, (_, t) => {
      const v = `acc${r}_${Math.floor(t / 4)}[${t % 4}]`;
      return `if (row + ${r}u < P.rows && ${tok} + ${t}u <= last) { let o = yo + ${r}u + (${tok} + ${t}u) * P.y_stride; if (accumulate) { Y[o] += ${v}; } else { Y[o] = ${v}; } }`;
    }),
  ).flat();
  return `var yo = P.y_offset + P.row_offset + row;
  if ((P.flags & Y_AT_POS) != 0u) { yo += S.pos0 * P.y_stride; }
  let accumulate = (P.flags & ACCUMULATE) != 0u;
  ${stores.join('\n  ')}`;
}

function wgsl(format: WeightFormat, R: number, TT: number): string {
  const uv = format.unitElems / 4;
  const rows = Array.from({ length: R }, (_, r) => r);
  const toks = Array.from({ length: TT }, (_, t) => t);
  const quads = Array.from({ length: TT / 4 }, (_, c) => c);
  // Per vec4 i of the unit: decode each row's 4 weights, load each token's 4 activations, accumulate every pair
  // (acc{r}_{c}: row r, tokens 4c…4c+3).
  const body = Array.from({ length: uv }, (_, i) =>
    '{ ' + [
      ...rows.map((r) => `let w${r} = decode4(un${r}, ${i}u);`),
      ...toks.map((t) => `let x${t} = X[xo${t} + v + ${i}u];`),
      ...rows.flatMap((r) =>
        quads.map((c) => `acc${r}_${c} += vec4f(${[0, 1, 2, 3].map((j) => `dot(w${r}, x${4 * c + j})`).join(', ')});`),
      ),
    ].join('\n      ') + ' }',
  ).join('\n      ');
  return /* wgsl */ `
${weightKernelPrelude(format)}
@compute @workgroup_size(${DIRECT_WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) li: u32) {
  let row = (wid.x * ${DIRECT_WG}u + li) * ${R}u;
  let t0 = wid.y * ${TT}u;
  if (row >= P.rows) { return; }
  let last = S.T - 1u;
  ${rows.map((r) => `let rb${r} = min(row + ${r}u, P.rows - 1u) * P.row_bytes;`).join('\n  ')}
  ${toks.map((t) => `let xo${t} = P.x_offset + min(t0 + ${t}u, last) * P.x_stride;`).join('\n  ')}
  ${rows.flatMap((r) => quads.map((c) => `var acc${r}_${c} = vec4f(0.0);`)).join(' ')}
  for (var u = 0u; u < P.units; u++) {
    let v = u * UV;
    ${rows.map((r) => `let un${r} = unit_at(rb${r}, u);`).join('\n    ')}
    ${body}
  }
  ${storeTileWgsl(R, TT, 't0')}
}`;
}

/** Shared-memory tile of the 'tiled' shape: TILE_ROWS rows × TILE_TOKENS tokens a workgroup, TILE_K weights a step. */
const TILE_ROWS = 64;
const TILE_TOKENS = 32;
const TILE_K = 32;

/**
 * The 'tiled' shape (GPUs): a workgroup owns 64 rows × 32 tokens. Per step of 32 weights along the row it decodes the
 * 64 rows' weights once into shared memory (each invocation a unit of a row, through the format's decoder) and loads
 * the 32 tokens' activations with coalesced reads, then after one barrier each invocation multiplies its 4 rows × 8
 * tokens out of shared memory: each weight is decoded once for 32 tokens. 12 KiB of shared memory.
 */
function tiledWgsl(format: WeightFormat): string {
  const uv = format.unitElems / 4;
  const unitsPerStep = TILE_K / format.unitElems;
  const k4 = TILE_K / 4;
  const rows = [0, 1, 2, 3];
  const toks = [0, 1, 2, 3, 4, 5, 6, 7];
  return /* wgsl */ `
${weightKernelPrelude(format)}
const K4 = ${k4}u;
const UPS = ${unitsPerStep}u;
var<workgroup> ws: array<vec4f, ${TILE_ROWS * k4}>;
var<workgroup> xs: array<vec4f, ${TILE_TOKENS * k4}>;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) li: u32) {
  let row0 = wid.x * ${TILE_ROWS}u;
  let t0 = wid.y * ${TILE_TOKENS}u;
  let last = S.T - 1u;
  let x_end = P.units * UV;
  // This invocation's outputs: rows rr…rr+3 and tokens tt…tt+7 of the workgroup's tile.
  let rr = (li % 16u) * 4u;
  let tt = (li / 16u) * 8u;
  ${rows.flatMap((r) => [0, 1].map((c) => `var acc${r}_${c} = vec4f(0.0);`)).join(' ')}
  for (var u0 = 0u; u0 < P.units; u0 += UPS) {
    for (var i = li; i < ${TILE_ROWS}u * UPS; i += ${WG}u) {
      let r = i / UPS;
      let u = u0 + i % UPS;
      let base = r * K4 + (i % UPS) * UV;
      if (u < P.units) {
        let un = unit_at(min(row0 + r, P.rows - 1u) * P.row_bytes, u);
        ${Array.from({ length: uv }, (_, j) => `ws[base + ${j}u] = decode4(un, ${j}u);`).join(' ')}
      } else {
        ${Array.from({ length: uv }, (_, j) => `ws[base + ${j}u] = vec4f(0.0);`).join(' ')}
      }
    }
    for (var i = li; i < ${TILE_TOKENS}u * K4; i += ${WG}u) {
      let kv = u0 * UV + i % K4;
      let xo = P.x_offset + min(t0 + i / K4, last) * P.x_stride;
      xs[i] = select(vec4f(0.0), X[xo + min(kv, x_end - 1u)], kv < x_end);
    }
    workgroupBarrier();
    for (var k = 0u; k < K4; k++) {
      ${rows.map((r) => `let w${r} = ws[(rr + ${r}u) * K4 + k];`).join(' ')}
      ${toks.map((t) => `let x${t} = xs[(tt + ${t}u) * K4 + k];`).join(' ')}
      ${rows.flatMap((r) => [0, 1].map((c) => `acc${r}_${c} += vec4f(${[0, 1, 2, 3].map((j) => `dot(w${r}, x${4 * c + j})`).join(', ')});`)).join('\n      ')}
    }
    workgroupBarrier();
  }
  let row = row0 + rr;
  ${storeTileWgsl(rows.length, toks.length, 'tt + t0')}
}`;
}

/**
 * 'direct' (software adapters: no barrier, each invocation reads its own weights and activations) or 'tiled'
 * (GPUs: shared-memory tiles, coalesced activation loads, each weight decoded once per workgroup for 32 tokens).
 */
export type PrefillMatmulShape = 'direct' | 'tiled';

/** The prefill products of one device, a pipeline per weight format (compiled on first use); layout: matmul.ts's. */
export class PrefillMatmulKernels {
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  constructor(
    private readonly device: GPUDevice,
    private readonly layout: GPUBindGroupLayout,
    readonly shape: PrefillMatmulShape,
  ) {}

  private pipeline(format: WeightFormat): GPUComputePipeline {
    let p = this.pipelines.get(format.name);
    if (!p) {
      const tile = prefillTile(format);
      const code = this.shape === 'tiled' ? tiledWgsl(format) : wgsl(format, tile.rows, tile.tokens);
      p = createPipeline(this.device, this.layout, code, `prefill matmul ${this.shape} ${format.name}`);
      this.pipelines.set(format.name, p);
    }
    return p;
  }

  /** Y (+)= W·X for `tokens` tokens (a matmul.ts bind group). */
  encode(pass: GPUComputePassEncoder, format: WeightFormat, group: GPUBindGroup, rows: number, tokens: number): void {
    pass.setPipeline(this.pipeline(format));
    pass.setBindGroup(0, group);
    if (this.shape === 'tiled') pass.dispatchWorkgroups(Math.ceil(rows / TILE_ROWS), Math.ceil(tokens / TILE_TOKENS));
    else {
      const tile = prefillTile(format);
      pass.dispatchWorkgroups(Math.ceil(rows / (DIRECT_WG * tile.rows)), Math.ceil(tokens / tile.tokens));
    }
  }
}
