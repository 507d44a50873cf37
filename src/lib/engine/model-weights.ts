/**
 * A model's weights on the GPU (ModelWeights, graph.ts): the architecture's tensors (architectures/) looked up in the
 * file's descriptor and uploaded by a WeightUploader (weights.ts) in the order the forward pass uses them —
 * - q/k/v and gate/up stacked in one buffer where their formats allow (the decode graph fuses them);
 * - a file's fused projections (Phi-3's attn_qkv, ffn_up = gate | up) sliced by rows into matrices of their own;
 * - RMSNorm weights with the architecture's offset (Gemma from SafeTensors: 1 + w);
 * - biases and per-head norms kept on the CPU too (the decode graph joins them into one small buffer each).
 */
import { RbeeError } from '../errors.ts';
import type { ModelDescriptor, TensorInfo } from '../formats/descriptor.ts';
import type { Architecture } from './architectures/architecture.ts';
import type { LayerWeights, ModelWeights } from './graph.ts';
import { rowBytes, weightFormat } from './kernels/weight-formats.ts';
import type { WeightMatrix, WeightUploader } from './weights.ts';

export interface UploadedWeights {
  weights: ModelWeights;
  /** Bytes of weights a decode step reads (every matrix once; the embedding only where it is also the output). */
  bytesPerToken: number;
  /** The rope frequency factors for the context asked (the file's rope_freqs tensor), when it has them. */
  freqFactors: Float32Array | undefined;
}

/** Uploads `arch`'s weights for a context of `contextLength` (which picks LongRoPE's factors). */
export async function uploadModelWeights(
  device: GPUDevice,
  arch: Architecture,
  descriptor: ModelDescriptor,
  uploader: WeightUploader,
  contextLength: number,
): Promise<UploadedWeights> {
  const load = new WeightLoad(device, arch, descriptor, uploader);
  const h = arch.hyper;
  const embd = await load.matrix(arch.tokenEmbedding);
  const layers: LayerWeights[] = [];
  for (let i = 0; i < h.nLayer; i++) layers.push(await load.layer(i));
  const outputNorm = (await load.norm(arch.outputNorm)).buffer;
  const output = await load.matrix(arch.output);
  // LongRoPE: the long factors once the context is longer than the original one (llama.cpp: n_ctx > n_ctx_orig).
  const factorsName = h.rope.freqFactorsLongTensor && contextLength > h.rope.originalContextLength ? h.rope.freqFactorsLongTensor : h.rope.freqFactorsTensor;
  const freqFactors = factorsName ? (await uploader.vector(load.tensor(factorsName))).values : undefined;
  let bytesPerToken = 0;
  for (const m of load.matrices.values()) if (m !== embd || arch.output === arch.tokenEmbedding) bytesPerToken += m.rowBytes * m.n;
  return { weights: { embd, layers, outputNorm, output }, bytesPerToken, freqFactors };
}

/** One load's tensor lookups and uploads (each matrix uploaded once, by name). */
class WeightLoad {
  readonly matrices = new Map<string, WeightMatrix>();
  private readonly byName: Map<string, TensorInfo>;

  constructor(
    private readonly device: GPUDevice,
    private readonly arch: Architecture,
    descriptor: ModelDescriptor,
    private readonly uploader: WeightUploader,
  ) {
    this.byName = new Map(descriptor.tensors.map((t) => [t.name, t]));
  }

  tensor(name: string): TensorInfo {
    const t = this.byName.get(name);
    if (!t) throw new RbeeError('bad-value', `The model has no tensor ${name}.`, { hint: 'The file may be incomplete or of another architecture.' });
    return t;
  }

  async matrix(name: string): Promise<WeightMatrix> {
    let m = this.matrices.get(name);
    if (!m) {
      m = await this.uploader.matrix(this.tensor(name));
      this.matrices.set(name, m);
    }
    return m;
  }

  /** Matrices the decode graph fuses (q, k, v; gate, up), in one buffer where their formats allow. */
  private async stacked(infos: TensorInfo[]): Promise<WeightMatrix[]> {
    const ms = await this.uploader.stack(infos);
    ms.forEach((m, i) => this.matrices.set(infos[i]!.name, m));
    return ms;
  }

  /**
   * Rows [first, first + rows) of a fused matrix as a tensor of its own: whole rows are contiguous in every weight
   * type, so the slice is a byte range of the tensor.
   */
  private rowsOf(name: string, first: number, rows: number): TensorInfo {
    const t = this.tensor(name);
    const rb = rowBytes(weightFormat(t.type, t.name), t.dims[0]!);
    return { ...t, name: `${name}[${first}:${first + rows}]`, dims: [t.dims[0]!, rows], offset: t.offset + first * rb, size: rows * rb };
  }

  /** An RMSNorm weight, with the architecture's offset applied on the GPU and in the values returned. */
  async norm(name: string): Promise<{ buffer: GPUBuffer; values: Float32Array }> {
    const { buffer, values: raw } = await this.uploader.vector(this.tensor(name));
    const offset = this.arch.normWeightOffset;
    if (!offset) return { buffer, values: raw };
    const values = raw.map((v) => v + offset);
    this.device.queue.writeBuffer(buffer, 0, values);
    return { buffer, values };
  }

  async layer(i: number): Promise<LayerWeights> {
    const { arch } = this;
    const h = arch.hyper;
    const n = arch.layer(i);
    const qDim = h.nHead * h.headDim;
    const kvDim = h.nHeadKv * h.headDim;
    const attnNorm = (await this.norm(n.attnNorm)).buffer;
    let qkv: TensorInfo[];
    if (n.qkv) qkv = [this.rowsOf(n.qkv, 0, qDim), this.rowsOf(n.qkv, qDim, kvDim), this.rowsOf(n.qkv, qDim + kvDim, kvDim)];
    else if (n.q && n.k && n.v) qkv = [this.tensor(n.q), this.tensor(n.k), this.tensor(n.v)];
    else throw new RbeeError('bad-value', `Layer ${i} has neither separate q/k/v projections nor a fused one.`);
    const [q, k, v] = (await this.stacked(qkv)) as [WeightMatrix, WeightMatrix, WeightMatrix];
    const values: LayerWeights['values'] = {};
    // A bias or head norm the layer has: its buffer, its values kept in `values`.
    const optional = async (key: keyof LayerWeights['values'], name: string | undefined, isNorm: boolean) => {
      if (!name) return undefined;
      const { buffer, values: v } = isNorm ? await this.norm(name) : await this.uploader.vector(this.tensor(name));
      values[key] = v;
      return buffer;
    };
    const qBias = await optional('qBias', n.qBias, false);
    const kBias = await optional('kBias', n.kBias, false);
    const vBias = await optional('vBias', n.vBias, false);
    const qNorm = await optional('qNorm', n.qNorm, true);
    const kNorm = await optional('kNorm', n.kNorm, true);
    const o = await this.matrix(n.o);
    const postAttnNorm = n.postAttnNorm ? (await this.norm(n.postAttnNorm)).buffer : undefined;
    const ffnNorm = (await this.norm(n.ffnNorm)).buffer;
    let gateUp: TensorInfo[];
    if (n.gateUp) gateUp = [this.rowsOf(n.gateUp, 0, h.nFf), this.rowsOf(n.gateUp, h.nFf, h.nFf)];
    else if (n.gate && n.up) gateUp = [this.tensor(n.gate), this.tensor(n.up)];
    else throw new RbeeError('bad-value', `Layer ${i} has no gate/up projections.`);
    const [gate, up] = (await this.stacked(gateUp)) as [WeightMatrix, WeightMatrix];
    const down = await this.matrix(n.down);
    const postFfnNorm = n.postFfnNorm ? (await this.norm(n.postFfnNorm)).buffer : undefined;
    return {
      attnNorm, q, k, v, o, ffnNorm, gate, up, down, values,
      ...(qBias ? { qBias } : {}), ...(kBias ? { kBias } : {}), ...(vBias ? { vBias } : {}),
      ...(qNorm ? { qNorm } : {}), ...(kNorm ? { kNorm } : {}),
      ...(postAttnNorm ? { postAttnNorm } : {}), ...(postFfnNorm ? { postFfnNorm } : {}),
    };
  }
}
