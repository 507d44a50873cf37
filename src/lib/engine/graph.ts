/**
 * What the prefill graph (prefill-graph.ts: T tokens a step) and the decode graph (decode-graph.ts: one token a
 * step, fused kernels) are built from: the model's weights on the GPU, its activation buffers and KV cache, the
 * static parameter arena, and the unfused ops both graphs can use.
 *
 * An op is one named unit of work (usually one dispatch; a matrix split by rows takes one per part): the model
 * encodes a graph's ops into one compute pass per step, or each op into its own pass with timestamps when profiling.
 */
import { RbeeError } from '../errors.ts';
import type { Architecture } from './architectures/architecture.ts';
import type { KernelSet } from './model.ts';
import { ACTIVATION, BIAS_PARAMS, packGateParams, packSoftCapParams } from './kernels/activation.ts';
import { packAttentionParams } from './kernels/attention.ts';
import { HEAD_NORM_AT_POS, packHeadNormParams } from './kernels/head-norm.ts';
import type { Binding } from './kernels/kernel.ts';
import { packEmbeddingParams, packMatmulParams } from './kernels/matmul.ts';
import { PARAM_BLOCK_BYTES } from './memory-plan.ts';
import { packRmsNormParams, RMSNORM_FLAGS } from './kernels/rmsnorm.ts';
import { packRopeParams, ROPE_FLAGS } from './kernels/rope.ts';
import type { WeightMatrix } from './weights.ts';

export interface Op {
  /** What it computes, for the profile ("L0 qkv", "output", …): the layer prefix is added by the graph. */
  name: string;
  /** Dispatches it encodes (a matrix split by rows: one per part). */
  dispatches: number;
  encode(pass: GPUComputePassEncoder, tokens: number): void;
}

/** Blocks of one arena buffer: 16 KiB, so a small model's parameters take one or two and a 7B's a few dozen. */
const BLOCKS_PER_PAGE = 64;

/**
 * The static parameter blocks of a graph's ops (a kernel's packed params, made once at load), each at a
 * PARAM_BLOCK_BYTES-aligned offset of a uniform buffer (256 bytes: the largest minUniformBufferOffsetAlignment a
 * device may ask for). The buffers are pages of BLOCKS_PER_PAGE blocks made as blocks are added, so the arena holds
 * what the graphs add, whatever an architecture adds per layer; `own` registers each page with the model.
 */
export class ParamArena {
  private page: GPUBuffer | undefined;
  private usedInPage = BLOCKS_PER_PAGE;
  constructor(
    private readonly device: GPUDevice,
    private readonly own: (buffer: GPUBuffer) => void,
  ) {}
  /** Uploads one block (a params schema's pack: at most PARAM_BLOCK_BYTES, a multiple of 16) and binds it. */
  add(data: ArrayBuffer): Binding {
    if (data.byteLength > PARAM_BLOCK_BYTES || data.byteLength % 16 !== 0) throw new RbeeError('internal', `A parameter block of ${data.byteLength} bytes.`);
    if (this.usedInPage === BLOCKS_PER_PAGE) {
      this.page = this.device.createBuffer({ label: 'params', size: BLOCKS_PER_PAGE * PARAM_BLOCK_BYTES, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
      this.own(this.page);
      this.usedInPage = 0;
    }
    const offset = this.usedInPage++ * PARAM_BLOCK_BYTES;
    this.device.queue.writeBuffer(this.page!, offset, data);
    return { buffer: this.page!, offset, size: data.byteLength };
  }
}

/** One layer's weights. q/k/v and gate/up are stacked in one buffer each where their formats allow (weights.ts). */
export interface LayerWeights {
  attnNorm: GPUBuffer;
  q: WeightMatrix;
  k: WeightMatrix;
  v: WeightMatrix;
  qBias?: GPUBuffer;
  kBias?: GPUBuffer;
  vBias?: GPUBuffer;
  qNorm?: GPUBuffer;
  kNorm?: GPUBuffer;
  o: WeightMatrix;
  postAttnNorm?: GPUBuffer;
  ffnNorm: GPUBuffer;
  gate: WeightMatrix;
  up: WeightMatrix;
  down: WeightMatrix;
  postFfnNorm?: GPUBuffer;
  /** The biases' and head norms' values (norm offset applied), for the decode graph's joined buffers. */
  values: { qBias?: Float32Array; kBias?: Float32Array; vBias?: Float32Array; qNorm?: Float32Array; kNorm?: Float32Array };
}

export interface ModelWeights {
  embd: WeightMatrix;
  layers: LayerWeights[];
  outputNorm: GPUBuffer;
  output: WeightMatrix;
}

/** Activation buffers (f32, sized for the largest chunk) and the KV cache. */
export interface Activations {
  x: GPUBuffer;
  xb: GPUBuffer;
  q: GPUBuffer;
  att: GPUBuffer;
  g: GPUBuffer;
  u: GPUBuffer;
  xLast: GPUBuffer;
  kv: { k: GPUBuffer; v: GPUBuffer }[];
  ids: GPUBuffer;
  logits: GPUBuffer;
}

/** Everything a graph builder needs; the op factories below are the unfused ops. */
export class GraphContext {
  readonly step: Binding;
  constructor(
    readonly device: GPUDevice,
    readonly kernels: KernelSet,
    readonly arch: Architecture,
    readonly weights: ModelWeights,
    readonly act: Activations,
    readonly params: ParamArena,
    stepBuffer: GPUBuffer,
    /** The layer's cos/sin table (layers may differ: Gemma 3's local and global ropes). */
    readonly ropeTable: (layer: number) => GPUBuffer,
    /** A small buffer for bindings a kernel variant does not read. */
    readonly dummy: GPUBuffer,
    /** Registers a buffer a graph made, to be destroyed with the model. */
    readonly own: (buffer: GPUBuffer) => void,
  ) {
    this.step = { buffer: stepBuffer };
  }

  get h() {
    return this.arch.hyper;
  }

  /** The FFN's gate activation as the kernels number it (ACTIVATION). */
  get activationKind(): number {
    return this.arch.activation === 'gelu' ? ACTIVATION.GELU : ACTIVATION.SILU;
  }

  /** Y (+)= W·X, a dispatch per weight part; `single`: one token whatever the step's T (the last token's logits). */
  product(name: string, w: WeightMatrix, xBuf: GPUBuffer, yBuf: GPUBuffer, o: { yStride: number; flags?: number; single?: boolean }): Op {
    const { kernels } = this;
    const units = w.k / w.format.unitElems;
    const groups = w.parts.map((part) => ({
      rows: part.rows,
      group: kernels.matmul.bind([
        weightBinding(w, part),
        { buffer: xBuf },
        { buffer: yBuf },
        this.params.add(
          packMatmulParams({
            rows: part.rows,
            units,
            rowBytes: w.rowBytes,
            rowOffset: part.firstRow,
            xOffset: 0,
            xStride: w.k / 4,
            yOffset: 0,
            yStride: o.yStride,
            flags: o.flags ?? 0,
          }),
        ),
        this.step,
      ]),
    }));
    return {
      name,
      dispatches: groups.length,
      encode: (pass, tokens) => {
        for (const p of groups) kernels.matmul.encode(pass, w.format, p.group, p.rows, units, o.single ? 1 : tokens);
      },
    };
  }

  norm(name: string, xBuf: GPUBuffer, weight: GPUBuffer, yBuf: GPUBuffer, last = false, accumulate = false): Op {
    const h = this.h;
    const group = this.kernels.rmsnorm.bind([
      { buffer: xBuf },
      { buffer: weight },
      { buffer: yBuf },
      this.params.add(packRmsNormParams(h.nEmbd, h.normEps, (last ? RMSNORM_FLAGS.LAST_TOKEN : 0) | (accumulate ? RMSNORM_FLAGS.ACCUMULATE : 0))),
      this.step,
    ]);
    return { name, dispatches: 1, encode: (pass, tokens) => this.kernels.rmsnorm.encode(pass, group, last ? 1 : tokens) };
  }

  headNorm(name: string, buf: GPUBuffer, weight: GPUBuffer, nHeads: number, stride: number, atPos: boolean): Op {
    const h = this.h;
    const group = this.kernels.headNorm.bind([
      { buffer: buf },
      { buffer: weight },
      this.params.add(packHeadNormParams(h.headDim, stride, h.normEps, atPos ? HEAD_NORM_AT_POS : 0)),
      this.step,
    ]);
    return { name, dispatches: 1, encode: (pass, tokens) => this.kernels.headNorm.encode(pass, group, nHeads, tokens) };
  }

  rope(name: string, layer: number, buf: GPUBuffer, nHeads: number, stride: number, atPos: boolean): Op {
    const h = this.h;
    const flags = (h.rope.layout === 'neox' ? ROPE_FLAGS.NEOX : 0) | (atPos ? ROPE_FLAGS.AT_POS : 0);
    const group = this.kernels.rope.bind([
      { buffer: this.ropeTable(layer) },
      { buffer: buf },
      this.params.add(packRopeParams({ nHeads, headDim: h.headDim, nRot: h.rope.nRot, offset: 0, stride, flags })),
      this.step,
    ]);
    return { name, dispatches: 1, encode: (pass, tokens) => this.kernels.rope.encode(pass, group, nHeads, h.rope.nRot, tokens) };
  }

  bias(name: string, yBuf: GPUBuffer, b: GPUBuffer, n: number, stride: number, atPos: boolean): Op {
    const params = this.params.add(BIAS_PARAMS.pack({ n, offset: 0, stride, atPos: atPos ? 1 : 0 }));
    const group = this.kernels.activation.bind([{ buffer: yBuf }, { buffer: b }, params, this.step]);
    return { name, dispatches: 1, encode: (pass, tokens) => this.kernels.activation.encodeBias(pass, group, n, tokens) };
  }

  /** g = act(g) ⊙ u over the step's FFN rows (SiLU or GELU-tanh, the architecture's). */
  gatedActivation(name: string): Op {
    const { g, u } = this.act;
    const group = this.kernels.activation.bind([{ buffer: g }, { buffer: u }, this.params.add(packGateParams(this.h.nFf, this.activationKind)), this.step]);
    return { name, dispatches: 1, encode: (pass, tokens) => this.kernels.activation.encodeGate(pass, group, this.h.nFf, tokens) };
  }

  /** y = cap·tanh(y / cap) over `n` logits (Gemma 2's final soft-cap): by default the last token's. */
  softCap(name = 'soft cap', logits = this.act.logits, n = this.h.nVocab): Op {
    const group = this.kernels.softCap.bind([{ buffer: logits }, this.params.add(packSoftCapParams(n, this.arch.finalSoftCap ?? 0))]);
    return { name, dispatches: 1, encode: (pass) => this.kernels.softCap.encode(pass, group, n) };
  }

  /** Embedding lookup: a dispatch per part of token_embd (each part writes the tokens whose rows it holds). */
  embedding(): Op {
    const { kernels, arch } = this;
    const embd = this.weights.embd;
    const units = embd.k / embd.format.unitElems;
    const groups = embd.parts.map((part) => {
      const params = packEmbeddingParams({
        rows: part.rows,
        units,
        rowBytes: embd.rowBytes,
        rowOffset: part.firstRow,
        yOffset: 0,
        yStride: this.h.nEmbd,
        scale: arch.embeddingScale,
      });
      return kernels.matmul.bind([weightBinding(embd, part), { buffer: this.act.ids }, { buffer: this.act.x }, this.params.add(params), this.step], true);
    });
    return {
      name: 'embedding',
      dispatches: groups.length,
      encode: (pass, tokens) => {
        for (const group of groups) kernels.matmul.encodeEmbedding(pass, embd.format, group, units, tokens);
      },
    };
  }

  /**
   * The bindings every attention kernel takes for `layer` (attention.ts attentionBindingsWgsl): q, the layer's K and V
   * cache, the output, its parameters (scale, soft-cap, sliding window) and the step.
   */
  attentionBindings(layer: number): Binding[] {
    const { arch, act } = this;
    const { k, v } = act.kv[layer]!;
    const params = packAttentionParams(this.h, {
      ...(arch.attentionScale ? { scale: arch.attentionScale } : {}),
      softCap: arch.attentionSoftCap ?? 0,
      window: arch.slidingWindow?.(layer) ?? 0,
    });
    return [{ buffer: act.q }, { buffer: k }, { buffer: v }, { buffer: act.att }, this.params.add(params), this.step];
  }

  /** Whether the model soft-caps attention scores (kernels that compile the cap in need to know). */
  get softCapped(): boolean {
    return (this.arch.attentionSoftCap ?? 0) > 0;
  }

  attention(name: string, layer: number): Op {
    const group = this.kernels.attention.bind(this.attentionBindings(layer));
    return { name, dispatches: 1, encode: (pass, tokens) => this.kernels.attention.encode(pass, group, this.h.nHead, tokens) };
  }
}

/** A weight part as a binding (its byte range when it is stacked with other matrices in one buffer). */
export function weightBinding(w: WeightMatrix, part = w.parts[0]!): Binding {
  return part.offset ? { buffer: part.buffer, offset: part.offset, size: Math.ceil((part.rows * w.rowBytes + 4) / 4) * 4 } : { buffer: part.buffer };
}
