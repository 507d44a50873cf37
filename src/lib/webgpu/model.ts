/**
 * The forward pass of a Llama-family transformer on WebGPU, for T new tokens at positions pos0 … pos0+T−1:
 *
 *   x = embed(tokens)                                   [T][nEmbd]
 *   for each layer:
 *     xb = rmsnorm(x) · attn_norm
 *     q = Wq·xb; K[pos] = Wk·xb; V[pos] = Wv·xb          K/V written straight into the layer's cache rows
 *     rope(q), rope(K[pos])
 *     att = softmax(q·Kᵀ/√d, causal) · V                grouped-query heads
 *     x += Wo·att
 *     xb = rmsnorm(x) · ffn_norm
 *     x += Wdown·(act(Wgate·xb) ⊙ Wup·xb)
 *   logits = Wout · (rmsnorm(x[T−1]) · output_norm)
 *
 * Every dispatch's bind group and static parameters are made once at load; a step only writes the token ids and
 * (pos0, T), encodes the dispatches into one compute pass and submits. Prefills are cut into chunks of at most
 * MAX_CHUNK tokens, one submission each, so no single submission runs long enough to trip a driver watchdog.
 */
import { RbeeError } from '../errors.ts';
import type { ByteSource } from '../loaders/byte-source.ts';
import type { ModelDescriptor, TensorInfo } from '../loaders/descriptor.ts';
import type { Architecture } from './architectures/architecture.ts';
import type { GpuContext } from './device.ts';
import { ACTIVATION, ActivationKernels, packSoftCapParams, SoftCapKernel } from './kernels/activation.ts';
import { HEAD_NORM_AT_POS, HeadNormKernel, packHeadNormParams } from './kernels/head-norm.ts';
import { AttentionKernel, MAX_HEAD_DIM, packAttentionParams } from './kernels/attention.ts';
import { PrefillAttentionKernel } from './kernels/prefill-attention.ts';
import type { Binding } from './kernels/kernel.ts';
import { MATMUL_FLAGS, MatmulKernels, packMatmulParams } from './kernels/matmul.ts';
import { packRmsNormParams, RMSNORM_ACCUMULATE, RMSNORM_LAST_TOKEN, RmsNormKernel } from './kernels/rmsnorm.ts';
import { packRopeParams, ROPE_FLAGS, RopeKernel, ropeTable } from './kernels/rope.ts';
import { rowBytes, weightFormat } from './kernels/weight-formats.ts';
import { type UploadCounter, type WeightMatrix, WeightUploader } from './weights.ts';

/** Most tokens one submission processes (prefill chunks). */
export const MAX_CHUNK = 512;
/** Default KV cache length when the caller names none: the model's context, capped (the cache is f32). */
const DEFAULT_MAX_CONTEXT = 4096;

/** The kernels of one device, compiled once and shared by every model loaded on it. */
export class KernelSet {
  readonly matmul: MatmulKernels;
  readonly rmsnorm: RmsNormKernel;
  readonly rope: RopeKernel;
  readonly attention: AttentionKernel;
  readonly prefillAttention: PrefillAttentionKernel;
  readonly activation: ActivationKernels;
  readonly headNorm: HeadNormKernel;
  readonly softCap: SoftCapKernel;
  constructor(ctx: GpuContext) {
    // A software adapter (SwiftShader: a 4-lane subgroup is a coroutine at every barrier, every storage load a
    // gather) gets barrier-free prefill shapes; GPUs get shared-memory tiles and workgroup reductions.
    const software = ctx.caps.architecture === 'swiftshader';
    this.matmul = new MatmulKernels(ctx.device, ctx.caps);
    this.rmsnorm = new RmsNormKernel(ctx.device, software);
    this.rope = new RopeKernel(ctx.device);
    this.attention = new AttentionKernel(ctx.device);
    this.prefillAttention = new PrefillAttentionKernel(ctx.device, software ? 'direct' : 'tiled');
    this.activation = new ActivationKernels(ctx.device);
    this.headNorm = new HeadNormKernel(ctx.device);
    this.softCap = new SoftCapKernel(ctx.device);
  }
}

/** Static parameter blocks, each at a 256-byte aligned offset of one uniform buffer. */
class ParamArena {
  readonly buffer: GPUBuffer;
  private used = 0;
  constructor(
    private readonly device: GPUDevice,
    private readonly capacity: number,
  ) {
    this.buffer = device.createBuffer({ label: 'params', size: capacity * 256, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  }
  add(data: ArrayBuffer | Uint32Array): Binding {
    if (this.used >= this.capacity) throw new RbeeError('internal', 'Parameter arena full.');
    const offset = this.used++ * 256;
    const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const padded = new Uint8Array(Math.max(32, Math.ceil(bytes.byteLength / 16) * 16));
    padded.set(bytes);
    this.device.queue.writeBuffer(this.buffer, offset, padded);
    return { buffer: this.buffer, offset, size: padded.byteLength };
  }
}

type Encode = (pass: GPUComputePassEncoder, tokens: number) => void;

export class TransformerModel {
  readonly contextLength: number;
  private readonly buffers: GPUBuffer[] = [];
  private readonly stepBuffer: GPUBuffer;
  private readonly idsBuffer: GPUBuffer;
  private readonly logitsBuffer: GPUBuffer;
  private readonly readback: GPUBuffer;
  private layerOps: Encode[] = [];
  private headOps: Encode[] = [];
  private weightBuffers: GPUBuffer[] = [];
  /** Bytes of weights a decode step reads (for the roofline figure). */
  weightBytesPerToken = 0;

  private constructor(
    private readonly ctx: GpuContext,
    private readonly kernels: KernelSet,
    readonly arch: Architecture,
    contextLength: number,
  ) {
    const device = ctx.device;
    this.contextLength = contextLength;
    this.stepBuffer = this.create(16, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, 'step');
    this.idsBuffer = this.create(MAX_CHUNK * 4, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST, 'token ids');
    this.logitsBuffer = this.create(arch.hyper.nVocab * 4, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC, 'logits');
    this.readback = device.createBuffer({ label: 'logits readback', size: arch.hyper.nVocab * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    this.buffers.push(this.readback);
  }

  private create(size: number, usage: number, label: string): GPUBuffer {
    const b = this.ctx.device.createBuffer({ label, size: Math.ceil(size / 16) * 16, usage });
    this.buffers.push(b);
    return b;
  }

  static async load(
    ctx: GpuContext,
    kernels: KernelSet,
    arch: Architecture,
    descriptor: ModelDescriptor,
    sources: ByteSource[],
    counter: UploadCounter,
    contextLength?: number,
  ): Promise<TransformerModel> {
    const h = arch.hyper;
    if (h.headDim > MAX_HEAD_DIM || h.headDim % 4 !== 0 || h.nHead % h.nHeadKv !== 0 || h.nHead / h.nHeadKv > 64) {
      throw new RbeeError('unsupported-architecture', `Head dimension ${h.headDim} with ${h.nHead}/${h.nHeadKv} heads is not supported.`);
    }
    const ctxLen = Math.max(1, Math.min(contextLength ?? Math.min(h.contextLength, DEFAULT_MAX_CONTEXT), h.contextLength || Infinity));
    const model = new TransformerModel(ctx, kernels, arch, ctxLen);
    try {
      await model.build(descriptor, sources, counter);
    } catch (e) {
      model.destroy();
      throw e;
    }
    return model;
  }

  private async build(descriptor: ModelDescriptor, sources: ByteSource[], counter: UploadCounter): Promise<void> {
    const { device, caps } = this.ctx;
    const { arch, kernels } = this;
    const h = arch.hyper;
    const byName = new Map(descriptor.tensors.map((t) => [t.name, t]));
    const tensor = (name: string): TensorInfo => {
      const t = byName.get(name);
      if (!t) throw new RbeeError('bad-value', `The model has no tensor ${name}.`, { hint: 'The file may be incomplete or of another architecture.' });
      return t;
    };
    const uploader = new WeightUploader(device, sources, Math.min(caps.limits.maxStorageBufferBindingSize, caps.limits.maxBufferSize), counter);
    this.weightBuffers = uploader.buffers;
    const matrices = new Map<string, WeightMatrix>();
    const matrix = async (name: string) => {
      let m = matrices.get(name);
      if (!m) {
        m = await uploader.matrix(tensor(name));
        matrices.set(name, m);
      }
      return m;
    };
    const vector = async (name: string) => (await uploader.vector(tensor(name))).buffer;
    // RMSNorm weights, with the architecture's offset (Gemma from SafeTensors: 1 + w).
    const normVector = async (name: string) => {
      const { buffer, values } = await uploader.vector(tensor(name));
      if (arch.normWeightOffset) device.queue.writeBuffer(buffer, 0, values.map((v) => v + arch.normWeightOffset!));
      return buffer;
    };
    // Rows [first, first + rows) of a fused matrix (Phi-3's attn_qkv, ffn_up = gate | up) as a matrix of its own:
    // whole rows are contiguous in every weight type, so the slice is a byte range of the tensor.
    const rowsOf = async (name: string, first: number, rows: number): Promise<WeightMatrix> => {
      const t = tensor(name);
      const rb = rowBytes(weightFormat(t.type, t.name), t.dims[0]!);
      const key = `${name}[${first}:${first + rows}]`;
      let m = matrices.get(key);
      if (!m) {
        m = await uploader.matrix({ ...t, name: key, dims: [t.dims[0]!, rows], offset: t.offset + first * rb, size: rows * rb });
        matrices.set(key, m);
      }
      return m;
    };
    const qDim = h.nHead * h.headDim;
    const kvDim = h.nHeadKv * h.headDim;

    // Weights, in file order of use.
    const embd = await matrix(arch.tokenEmbedding);
    const layers = [];
    for (let i = 0; i < h.nLayer; i++) {
      const n = arch.layer(i);
      const attnNorm = await normVector(n.attnNorm);
      let q: WeightMatrix, k: WeightMatrix, v: WeightMatrix;
      if (n.qkv) {
        q = await rowsOf(n.qkv, 0, qDim);
        k = await rowsOf(n.qkv, qDim, kvDim);
        v = await rowsOf(n.qkv, qDim + kvDim, kvDim);
      } else if (n.q && n.k && n.v) {
        q = await matrix(n.q);
        k = await matrix(n.k);
        v = await matrix(n.v);
      } else {
        throw new RbeeError('bad-value', `Layer ${i} has neither separate q/k/v projections nor a fused one.`);
      }
      const optional = async (name?: string) => (name ? await vector(name) : undefined);
      const optionalNorm = async (name?: string) => (name ? await normVector(name) : undefined);
      const qBias = await optional(n.qBias);
      const kBias = await optional(n.kBias);
      const vBias = await optional(n.vBias);
      const qNorm = await optionalNorm(n.qNorm);
      const kNorm = await optionalNorm(n.kNorm);
      const o = await matrix(n.o);
      const postAttnNorm = await optionalNorm(n.postAttnNorm);
      const ffnNorm = await normVector(n.ffnNorm);
      let gate: WeightMatrix, up: WeightMatrix;
      if (n.gateUp) {
        gate = await rowsOf(n.gateUp, 0, h.nFf);
        up = await rowsOf(n.gateUp, h.nFf, h.nFf);
      } else if (n.gate && n.up) {
        gate = await matrix(n.gate);
        up = await matrix(n.up);
      } else {
        throw new RbeeError('bad-value', `Layer ${i} has no gate/up projections.`);
      }
      const down = await matrix(n.down);
      const postFfnNorm = await optionalNorm(n.postFfnNorm);
      layers.push({ attnNorm, q, k, v, qBias, kBias, vBias, qNorm, kNorm, o, postAttnNorm, ffnNorm, gate, up, down, postFfnNorm });
    }
    const outputNorm = await normVector(arch.outputNorm);
    const output = await matrix(arch.output);
    // LongRoPE: the long factors once the context is longer than the original one (llama.cpp: n_ctx > n_ctx_orig).
    const factorsName =
      h.rope.freqFactorsLongTensor && this.contextLength > h.rope.originalContextLength ? h.rope.freqFactorsLongTensor : h.rope.freqFactorsTensor;
    const freqFactors = factorsName ? (await uploader.vector(tensor(factorsName))).values : undefined;
    for (const m of matrices.values()) if (m !== embd || arch.output === arch.tokenEmbedding) this.weightBytesPerToken += m.rowBytes * m.n;

    // Activations (f32), sized for the largest chunk.
    const storage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
    const x = this.create(MAX_CHUNK * h.nEmbd * 4, storage, 'x');
    const xb = this.create(MAX_CHUNK * h.nEmbd * 4, storage, 'xb');
    const q = this.create(MAX_CHUNK * qDim * 4, storage, 'q');
    const att = this.create(MAX_CHUNK * qDim * 4, storage, 'attention out');
    const g = this.create(MAX_CHUNK * h.nFf * 4, storage, 'ffn gate');
    const u = this.create(MAX_CHUNK * h.nFf * 4, storage, 'ffn up');
    const xLast = this.create(h.nEmbd * 4, storage, 'x last');
    // One cos/sin table per distinct rope (Gemma 3's local and global layers differ).
    const ropeBuffers = new Map<string, GPUBuffer>();
    const ropeBufferFor = (i: number): GPUBuffer => {
      const config = arch.layerRope?.(i) ?? h.rope;
      const key = JSON.stringify(config);
      let buf = ropeBuffers.get(key);
      if (!buf) {
        const table = ropeTable(config, this.contextLength, freqFactors);
        buf = this.create(table.byteLength, storage, 'rope cos/sin');
        device.queue.writeBuffer(buf, 0, table);
        ropeBuffers.set(key, buf);
      }
      return buf;
    };
    const kv = layers.map((_, i) => ({
      k: this.create(this.contextLength * kvDim * 4, storage, `k cache ${i}`),
      v: this.create(this.contextLength * kvDim * 4, storage, `v cache ${i}`),
    }));

    const parts = [...matrices.values()].reduce((a, m) => a + m.parts.length, 0) + embd.parts.length;
    const params = new ParamArena(device, parts + h.nLayer * 24 + 16);
    this.buffers.push(params.buffer);
    const step: Binding = { buffer: this.stepBuffer };

    // One product: Y (+)= W·X, a dispatch per weight part.
    const product = (w: WeightMatrix, xBuf: GPUBuffer, yBuf: GPUBuffer, o: { yStride: number; flags?: number; single?: boolean }): Encode => {
      const units = w.k / w.format.unitElems;
      const groups = w.parts.map((part) => ({
        rows: part.rows,
        group: kernels.matmul.bind([
          { buffer: part.buffer },
          { buffer: xBuf },
          { buffer: yBuf },
          params.add(
            packMatmulParams({
              rows: part.rows,
              units: w.k / w.format.unitElems,
              rowBytes: w.rowBytes,
              rowOffset: part.firstRow,
              xOffset: 0,
              xStride: w.k / 4,
              yOffset: 0,
              yStride: o.yStride,
              flags: o.flags ?? 0,
            }),
          ),
          step,
        ]),
      }));
      return (pass, tokens) => {
        for (const p of groups) kernels.matmul.encode(pass, w.format, p.group, p.rows, units, o.single ? 1 : tokens);
      };
    };
    const norm = (xBuf: GPUBuffer, weight: GPUBuffer, yBuf: GPUBuffer, last = false, accumulate = false): Encode => {
      const group = kernels.rmsnorm.bind([
        { buffer: xBuf },
        { buffer: weight },
        { buffer: yBuf },
        params.add(packRmsNormParams(h.nEmbd, h.normEps, (last ? RMSNORM_LAST_TOKEN : 0) | (accumulate ? RMSNORM_ACCUMULATE : 0))),
        step,
      ]);
      return (pass, tokens) => kernels.rmsnorm.encode(pass, group, last ? 1 : tokens);
    };
    const headNorm = (buf: GPUBuffer, weight: GPUBuffer, nHeads: number, stride: number, atPos: boolean): Encode => {
      const group = kernels.headNorm.bind([
        { buffer: buf },
        { buffer: weight },
        params.add(packHeadNormParams(h.headDim, stride, h.normEps, atPos ? HEAD_NORM_AT_POS : 0)),
        step,
      ]);
      return (pass, tokens) => kernels.headNorm.encode(pass, group, nHeads, tokens);
    };
    const rope = (ropeBuf: GPUBuffer, buf: GPUBuffer, nHeads: number, stride: number, atPos: boolean): Encode => {
      const flags = (h.rope.layout === 'neox' ? ROPE_FLAGS.NEOX : 0) | (atPos ? ROPE_FLAGS.AT_POS : 0);
      const group = kernels.rope.bind([
        { buffer: ropeBuf },
        { buffer: buf },
        params.add(packRopeParams({ nHeads, headDim: h.headDim, nRot: h.rope.nRot, offset: 0, stride, flags })),
        step,
      ]);
      return (pass, tokens) => kernels.rope.encode(pass, group, nHeads, h.rope.nRot, tokens);
    };
    const bias = (yBuf: GPUBuffer, b: GPUBuffer, n: number, stride: number, atPos: boolean): Encode => {
      const group = kernels.activation.bind([{ buffer: yBuf }, { buffer: b }, params.add(new Uint32Array([n, 0, stride, atPos ? 1 : 0])), step]);
      return (pass, tokens) => kernels.activation.encodeBias(pass, group, n, tokens);
    };

    // Embedding lookup: a dispatch per part of token_embd (each part writes the tokens whose rows it holds).
    const embedGroups = embd.parts.map((part) => {
      const p = new Uint32Array([part.rows, embd.k / embd.format.unitElems, embd.rowBytes, part.firstRow, 0, 0, 0, h.nEmbd, 0]);
      new Float32Array(p.buffer)[5] = arch.embeddingScale;
      return kernels.matmul.bind([{ buffer: part.buffer }, { buffer: this.idsBuffer }, { buffer: x }, params.add(p), step], true);
    });
    const embedUnits = embd.k / embd.format.unitElems;
    this.layerOps.push((pass, tokens) => {
      for (const group of embedGroups) kernels.matmul.encodeEmbedding(pass, embd.format, group, embedUnits, tokens);
    });

    const act = arch.activation === 'gelu' ? ACTIVATION.GELU : ACTIVATION.SILU;
    layers.forEach((L, i) => {
      const { k: kCache, v: vCache } = kv[i]!;
      const ops: Encode[] = [
        norm(x, L.attnNorm, xb),
        product(L.q, xb, q, { yStride: qDim }),
        product(L.k, xb, kCache, { yStride: kvDim, flags: MATMUL_FLAGS.Y_AT_POS }),
        product(L.v, xb, vCache, { yStride: kvDim, flags: MATMUL_FLAGS.Y_AT_POS }),
      ];
      if (L.qBias) ops.push(bias(q, L.qBias, qDim, qDim, false));
      if (L.kBias) ops.push(bias(kCache, L.kBias, kvDim, kvDim, true));
      if (L.vBias) ops.push(bias(vCache, L.vBias, kvDim, kvDim, true));
      if (L.qNorm) ops.push(headNorm(q, L.qNorm, h.nHead, qDim, false));
      if (L.kNorm) ops.push(headNorm(kCache, L.kNorm, h.nHeadKv, kvDim, true));
      const ropeBuf = ropeBufferFor(i);
      ops.push(rope(ropeBuf, q, h.nHead, qDim, false), rope(ropeBuf, kCache, h.nHeadKv, kvDim, true));
      const attention = packAttentionParams(h, {
        ...(arch.attentionScale ? { scale: arch.attentionScale } : {}),
        softCap: arch.attentionSoftCap ?? 0,
        window: arch.slidingWindow?.(i) ?? 0,
      });
      const attBindings = [{ buffer: q }, { buffer: kCache }, { buffer: vCache }, { buffer: att }, params.add(attention), step];
      const attGroup = kernels.attention.bind(attBindings);
      const prefillAttGroup = kernels.prefillAttention.bind(attBindings);
      // One token: a workgroup per head across the keys; a prefill: a workgroup per tile of queries.
      ops.push((pass, tokens) =>
        tokens === 1 ? kernels.attention.encode(pass, attGroup, h.nHead, 1) : kernels.prefillAttention.encode(pass, prefillAttGroup, h, tokens),
      );
      // A post-norm (Gemma 2/3) normalises the block's output before it joins the residual: the product goes to
      // xb (free by then) and the norm adds into x.
      if (L.postAttnNorm) ops.push(product(L.o, att, xb, { yStride: h.nEmbd }), norm(xb, L.postAttnNorm, x, false, true));
      else ops.push(product(L.o, att, x, { yStride: h.nEmbd, flags: MATMUL_FLAGS.ACCUMULATE }));
      ops.push(norm(x, L.ffnNorm, xb), product(L.gate, xb, g, { yStride: h.nFf }), product(L.up, xb, u, { yStride: h.nFf }));
      const gateGroup = kernels.activation.bind([{ buffer: g }, { buffer: u }, params.add(new Uint32Array([h.nFf / 4, act, 0, 0])), step]);
      ops.push((pass, tokens) => kernels.activation.encodeGate(pass, gateGroup, h.nFf, tokens));
      if (L.postFfnNorm) ops.push(product(L.down, g, xb, { yStride: h.nEmbd }), norm(xb, L.postFfnNorm, x, false, true));
      else ops.push(product(L.down, g, x, { yStride: h.nEmbd, flags: MATMUL_FLAGS.ACCUMULATE }));
      this.layerOps.push(...ops);
    });
    this.headOps.push(norm(x, outputNorm, xLast, true), product(output, xLast, this.logitsBuffer, { yStride: h.nVocab, single: true }));
    if (arch.finalSoftCap) {
      const capGroup = kernels.softCap.bind([{ buffer: this.logitsBuffer }, params.add(packSoftCapParams(h.nVocab, arch.finalSoftCap))]);
      this.headOps.push((pass) => kernels.softCap.encode(pass, capGroup, h.nVocab));
    }
  }

  /**
   * Runs `tokens` (at most MAX_CHUNK) at positions pos0…; when `logits` is set, returns the last token's logits.
   */
  async step(tokens: number[], pos0: number, logits: boolean): Promise<Float32Array | undefined> {
    const device = this.ctx.device;
    const T = tokens.length;
    if (T < 1 || T > MAX_CHUNK) throw new RbeeError('internal', `A step takes 1…${MAX_CHUNK} tokens, not ${T}.`);
    if (pos0 + T > this.contextLength) {
      throw new RbeeError('limit-exceeded', `The context is full (${this.contextLength} tokens).`, {
        hint: 'Start a new conversation, or load the model with a longer context.',
      });
    }
    for (const t of tokens) {
      if (!Number.isInteger(t) || t < 0 || t >= this.arch.hyper.nVocab) {
        throw new RbeeError('bad-value', `Token id ${t} is outside the vocabulary (0…${this.arch.hyper.nVocab - 1}).`);
      }
    }
    device.queue.writeBuffer(this.idsBuffer, 0, new Uint32Array(tokens));
    device.queue.writeBuffer(this.stepBuffer, 0, new Uint32Array([pos0, T, 0, 0]));
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    for (const op of this.layerOps) op(pass, T);
    if (logits) for (const op of this.headOps) op(pass, T);
    pass.end();
    if (logits) encoder.copyBufferToBuffer(this.logitsBuffer, 0, this.readback, 0, this.arch.hyper.nVocab * 4);
    device.queue.submit([encoder.finish()]);
    if (!logits) return undefined;
    await this.readback.mapAsync(GPUMapMode.READ);
    const out = new Float32Array(this.readback.getMappedRange().slice(0));
    this.readback.unmap();
    return out;
  }

  destroy(): void {
    for (const b of this.buffers) b.destroy();
    for (const b of this.weightBuffers) b.destroy();
    this.buffers.length = 0;
    this.weightBuffers = [];
  }
}
