/**
 * What the WebGPU engine allocates on the GPU for a model, declared once and GPU-free: the engine sizes its buffers
 * from these facts (model.ts) and reports what it allocated (`GpuMemory`, `generate --json`'s `memory`), and the
 * compatibility check's memory estimate is computed from the same plan (compat/check.ts), so the figure a verdict
 * shows before a download is the one a load then allocates.
 *
 * - weights: as stored in the file (quantized types stay quantized on the GPU), each matrix in its own buffer;
 * - KV cache: K and V of every layer for the whole context, f32 (exact parity with llama.cpp's f32 path matters more
 *   than halving the cache);
 * - scratch: the activations of one prefill step of up to MAX_CHUNK tokens (residual, normed input, query and
 *   attention output, FFN gate and up, f32), the last token's row and logits (and their readback), the token ids,
 *   the RoPE cos/sin table for the context, and the uniform arena. Attention scores are never materialised (the
 *   kernels keep an online softmax in registers), so nothing grows with n_head × tokens × context.
 */

/**
 * The context a model is loaded with when none is asked for: its own, at most this (a chat's worth, and a KV cache a
 * laptop's GPU holds). The compatibility check plans for the same.
 */
export const DEFAULT_CONTEXT_LENGTH = 4096;

/** Tokens one prefill step processes at once: the scratch buffers are sized for it; decoding uses one. llama.cpp's micro-batch. */
export const MAX_CHUNK = 512;

/** Bytes per K/V element: the cache is f32. */
export const KV_BYTES_PER_ELEMENT = 4;

/** Bytes of one uniform block in the engine's parameter arena (graph.ts ParamArena: minUniformBufferOffsetAlignment). */
export const PARAM_BLOCK_BYTES = 256;

/** The GPU memory of a loaded model, by kind. */
export interface GpuMemory {
  weightsBytes: number;
  kvCacheBytes: number;
  scratchBytes: number;
  totalBytes: number;
}

/** The shape the plan needs (hyperparameters as the engine reads them). */
export interface MemoryShape {
  layers: number;
  nEmbd: number;
  /** n_head × head_dim (the query and attention-output width). */
  qDim: number;
  /** n_head_kv × head_dim. */
  kvDim: number;
  nFf: number;
  nVocab: number;
  /** Dimensions rotated by RoPE per head (the cos/sin table holds nRot / 2 pairs per position). */
  nRot: number;
}

/** One layer's K (or V) cache for `contextLength` positions: the size of each of its two buffers. */
export function kvLayerBytes(s: Pick<MemoryShape, 'kvDim'>, contextLength: number): number {
  return contextLength * s.kvDim * KV_BYTES_PER_ELEMENT;
}

/** K and V of every layer for `contextLength` positions. */
export function kvCacheBytes(s: Pick<MemoryShape, 'layers' | 'kvDim'>, contextLength: number): number {
  return 2 * s.layers * kvLayerBytes(s, contextLength);
}

/**
 * The f32 activation buffers of one prefill step of up to MAX_CHUNK tokens, and the last token's row: the engine
 * allocates exactly these (model.ts allocateActivations), the plan sums them.
 */
export function activationBytes(s: Pick<MemoryShape, 'nEmbd' | 'qDim' | 'nFf'>) {
  return {
    /** The residual stream. */
    x: MAX_CHUNK * s.nEmbd * 4,
    /** The normed input of a block. */
    xb: MAX_CHUNK * s.nEmbd * 4,
    q: MAX_CHUNK * s.qDim * 4,
    attentionOut: MAX_CHUNK * s.qDim * 4,
    ffnGate: MAX_CHUNK * s.nFf * 4,
    ffnUp: MAX_CHUNK * s.nFf * 4,
    xLast: s.nEmbd * 4,
  };
}

/** The logits of one token (a buffer, and its readback) and the token ids of a step. */
export function rowBytes(s: Pick<MemoryShape, 'nVocab'>) {
  return { logits: s.nVocab * 4, logitsReadback: s.nVocab * 4, tokenIds: MAX_CHUNK * 4 };
}

const sum = (sizes: Record<string, number>): number => Object.values(sizes).reduce((a, b) => a + b, 0);

/**
 * Uniform blocks the plan counts for the graphs' static parameters, an allowance above what they add: two per weight
 * part (the prefill and decode products of each matrix; about seven matrices a layer plus embedding and output), 48
 * per layer for the other ops' parameters (a Llama layer's take about 20, Gemma's and Qwen's a few more), 32 for the
 * rest. The engine allocates what the graphs add (graph.ts ParamArena, in pages), so the plan errs on the safe side.
 */
export function paramBlocks(layers: number, weightParts = 7 * layers + 2): number {
  return 2 * weightParts + 48 * layers + 32;
}

/** Scratch buffers of a loaded model (f32 activations for MAX_CHUNK tokens, logits, RoPE table, parameters). */
export function scratchBytes(s: MemoryShape, contextLength: number): number {
  const rope = contextLength * (s.nRot / 2) * 8; // a cos/sin pair per rotated pair and position
  return sum(activationBytes(s)) + sum(rowBytes(s)) + rope + paramBlocks(s.layers) * PARAM_BLOCK_BYTES;
}

/** The whole plan for a model whose weights take `weightsBytes` as stored. */
export function planGpuMemory(s: MemoryShape, contextLength: number, weightsBytes: number): GpuMemory {
  const kv = kvCacheBytes(s, contextLength);
  const scratch = scratchBytes(s, contextLength);
  return { weightsBytes, kvCacheBytes: kv, scratchBytes: scratch, totalBytes: weightsBytes + kv + scratch };
}
