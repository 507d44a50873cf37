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
/** Register tile of an invocation (measured on SwiftShader for stories260K and the 1024×12 Q4_K model). */
export const PREFILL_TILE = { rows: 4, tokens: 8 } as const;

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
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) li: u32) {
  let row = (wid.x * ${WG}u + li) * ${R}u;
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
  var yo = P.y_offset + P.row_offset + row;
  if ((P.flags & 2u) != 0u) { yo += S.pos0 * P.y_stride; }
  let accumulate = (P.flags & 1u) != 0u;
  ${rows
    .flatMap((r) =>
      toks.map((t) => {
        const v = `acc${r}_${Math.floor(t / 4)}[${t % 4}]`;
        return `if (row + ${r}u < P.rows && t0 + ${t}u <= last) { let o = yo + ${r}u + (t0 + ${t}u) * P.y_stride; if (accumulate) { Y[o] += ${v}; } else { Y[o] = ${v}; } }`;
      }),
    )
    .join('\n  ')}
}`;
}

/** The prefill products of one device, a pipeline per weight format (compiled on first use); layout: matmul.ts's. */
export class PrefillMatmulKernels {
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  constructor(
    private readonly device: GPUDevice,
    private readonly layout: GPUBindGroupLayout,
    readonly tile: { rows: number; tokens: number } = PREFILL_TILE,
  ) {}

  private pipeline(format: WeightFormat): GPUComputePipeline {
    let p = this.pipelines.get(format.name);
    if (!p) {
      p = createPipeline(this.device, this.layout, wgsl(format, this.tile.rows, this.tile.tokens), `prefill matmul ${format.name}`);
      this.pipelines.set(format.name, p);
    }
    return p;
  }

  /** Y (+)= W·X for `tokens` tokens (a matmul.ts bind group). */
  encode(pass: GPUComputePassEncoder, format: WeightFormat, group: GPUBindGroup, rows: number, tokens: number): void {
    pass.setPipeline(this.pipeline(format));
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(Math.ceil(rows / (WG * this.tile.rows)), Math.ceil(tokens / this.tile.tokens));
  }
}
