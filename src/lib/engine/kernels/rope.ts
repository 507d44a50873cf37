/**
 * Rotary position embedding, in place, on the step's T tokens of a [token][head][headDim] buffer, from a table of
 * (cos θ, sin θ) per position and rotated pair computed once on the CPU (ropeTable): the GPU then never evaluates
 * trigonometry of large arguments, whose precision varies between GPUs.
 *
 * Layouts: 'interleaved' rotates (x[2i], x[2i+1]) — ggml's normal rope, what GGUF Llama files need;
 * 'neox' rotates (x[i], x[i + nRot/2]). Frequency scaling (linear, YaRN, Llama 3) lives in the table.
 */
import type { RopeConfig } from '../architectures/architecture.ts';
import { bindGroup, type Binding, createLayout, createPipeline, uniformsWgsl } from './kernel.ts';
import { paramsSchema } from './params.ts';

export const ROPE_FLAGS = { NEOX: 1, AT_POS: 2 } as const;
/** halfRot: rotated pairs per head (nRot / 2); offset and stride (floats) address a row of the buffer. */
export const ROPE_PARAMS = paramsSchema('Params', { nHeads: 'u32', headDim: 'u32', halfRot: 'u32', offset: 'u32', stride: 'u32', flags: 'u32' });

const WGSL = /* wgsl */ `
@group(0) @binding(0) var<storage, read> C: array<vec2f>;
@group(0) @binding(1) var<storage, read_write> V: array<f32>;
${uniformsWgsl(2, ROPE_PARAMS, ROPE_FLAGS)}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x % P.half_rot;
  let h = gid.x / P.half_rot;
  let t = gid.y;
  if (h >= P.n_heads || t >= S.T) { return; }
  let pos = S.pos0 + t;
  var row = t;
  if ((P.flags & AT_POS) != 0u) { row = pos; }
  let base = P.offset + row * P.stride + h * P.head_dim;
  var a = base + 2u * i;
  var b = a + 1u;
  if ((P.flags & NEOX) != 0u) { a = base + i; b = a + P.half_rot; }
  let cs = C[pos * P.half_rot + i];
  let x0 = V[a];
  let x1 = V[b];
  V[a] = x0 * cs.x - x1 * cs.y;
  V[b] = x0 * cs.y + x1 * cs.x;
}`;

export function packRopeParams(p: { nHeads: number; headDim: number; nRot: number; offset: number; stride: number; flags: number }): ArrayBuffer {
  return ROPE_PARAMS.pack({ nHeads: p.nHeads, headDim: p.headDim, halfRot: p.nRot / 2, offset: p.offset, stride: p.stride, flags: p.flags });
}

export class RopeKernel {
  readonly layout: GPUBindGroupLayout;
  readonly pipeline: GPUComputePipeline;
  constructor(private readonly device: GPUDevice) {
    this.layout = createLayout(device, ['read', 'write', 'uniform', 'uniform']);
    this.pipeline = createPipeline(device, this.layout, WGSL, 'rope');
  }
  /** Bindings: cos/sin table, the buffer rotated in place, params, step. */
  bind(bindings: Binding[]): GPUBindGroup {
    return bindGroup(this.device, this.layout, bindings);
  }
  encode(pass: GPUComputePassEncoder, group: GPUBindGroup, nHeads: number, nRot: number, tokens: number): void {
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(Math.ceil((nHeads * nRot) / 2 / 64), tokens);
  }
}

/**
 * (cos θ, sin θ)·mscale for positions [0, positions) and pairs [0, nRot/2): ggml's rope_yarn, with θ built the way
 * ggml builds it (θ_i = p·base^(−2i/nRot), the power taken in float32), YaRN's ramp between interpolated and
 * extrapolated angles, linear scaling as freq_scale = 1/factor, and Llama 3's per-pair frequency factors (from the
 * file's rope_freqs tensor when it has one, else computed from the scaling metadata).
 */
export function ropeTable(rope: RopeConfig, positions: number, freqFactors?: Float32Array): Float32Array {
  const half = rope.nRot / 2;
  const f = Math.fround;
  const thetaScale = f(Math.pow(rope.freqBase, -2 / rope.nRot));
  const freqScale = rope.scaling === 'linear' || rope.scaling === 'yarn' ? 1 / rope.factor : 1;
  const extFactor = rope.scaling === 'yarn' ? 1 : 0;
  let mscale = rope.attnFactor;
  if (extFactor !== 0) mscale *= 1 + 0.1 * Math.log(1 / freqScale);
  // YaRN correction range (ggml_rope_yarn_corr_dims).
  const corrDim = (nRot: number) =>
    (rope.nRot * Math.log(rope.originalContextLength / (nRot * 2 * Math.PI))) / (2 * Math.log(rope.freqBase));
  const low = Math.max(0, Math.floor(corrDim(rope.betaFast)));
  const high = Math.min(rope.nRot - 1, Math.ceil(corrDim(rope.betaSlow)));
  const factors = freqFactors ?? (rope.scaling === 'llama3' ? llama3FreqFactors(rope) : undefined);
  // Per-pair angle per unit position: the chain of float32 products ggml uses (θ *= theta_scale).
  const perPair = new Float64Array(half);
  const rampMix = new Float64Array(half);
  let p = 1;
  for (let i = 0; i < half; i++) {
    perPair[i] = p / (factors ? factors[i]! : 1);
    const y = (i - low) / Math.max(0.001, high - low);
    rampMix[i] = (1 - Math.min(1, Math.max(0, y))) * extFactor;
    p = f(p * thetaScale);
  }
  const table = new Float32Array(positions * half * 2);
  for (let pos = 0; pos < positions; pos++) {
    for (let i = 0; i < half; i++) {
      const extrap = f(pos * perPair[i]!);
      const interp = freqScale * extrap;
      const theta = interp * (1 - rampMix[i]!) + extrap * rampMix[i]!;
      table[(pos * half + i) * 2] = Math.cos(theta) * mscale;
      table[(pos * half + i) * 2 + 1] = Math.sin(theta) * mscale;
    }
  }
  return table;
}

/** Llama 3.1's rope frequency factors (what its converter writes into rope_freqs.weight). */
function llama3FreqFactors(rope: RopeConfig): Float32Array {
  const half = rope.nRot / 2;
  const out = new Float32Array(half);
  const lowWavelen = rope.originalContextLength / rope.lowFreqFactor;
  const highWavelen = rope.originalContextLength / rope.highFreqFactor;
  for (let i = 0; i < half; i++) {
    const freq = Math.pow(rope.freqBase, (-2 * i) / rope.nRot);
    const wavelen = (2 * Math.PI) / freq;
    if (wavelen < highWavelen) out[i] = 1;
    else if (wavelen > lowWavelen) out[i] = rope.factor;
    else {
      const smooth = (rope.originalContextLength / wavelen - rope.lowFreqFactor) / (rope.highFreqFactor - rope.lowFreqFactor);
      out[i] = 1 / ((1 - smooth) / rope.factor + smooth);
    }
  }
  return out;
}
