/**
 * Architecture: everything the forward pass needs to know about a model family, read from the GGUF metadata —
 * hyperparameters, the tensor names of each layer, and the few switches where families differ. The forward pass
 * (model.ts) and the kernels know nothing of any family by name; adding one is a file beside llama.ts and a line in
 * architectureFor().
 */
import type { ArchitectureId } from '../capabilities.ts';
import { RbeeError } from '../../errors.ts';
import type { ModelDescriptor } from '../../formats/descriptor.ts';
import { gemma2Architecture } from './gemma2.ts';
import { gemma3Architecture } from './gemma3.ts';
import { gemmaArchitecture } from './gemma.ts';
import { ggufViewOfSafetensors } from './hf-names.ts';
import { llamaArchitecture } from './llama.ts';
import { phi3Architecture } from './phi3.ts';
import { qwen2Architecture } from './qwen2.ts';
import { qwen3Architecture } from './qwen3.ts';

/**
 * Each architecture the engine runs (capabilities.ts names them, for compat) → its forward pass. Typed by that list,
 * so a name without a forward pass, or a forward pass without a name, does not compile. Mistral 7B-class GGUF files
 * say 'llama' (see llama.ts).
 */
const FORWARD_PASSES: Readonly<Record<ArchitectureId, (d: ModelDescriptor) => Architecture>> = {
  llama: llamaArchitecture,
  qwen2: qwen2Architecture,
  qwen3: qwen3Architecture,
  gemma: gemmaArchitecture,
  gemma2: gemma2Architecture,
  gemma3: gemma3Architecture,
  phi3: phi3Architecture,
};

export interface RopeConfig {
  /** 'interleaved': rotate pairs (x[2i], x[2i+1]) — ggml's "normal" rope; 'neox': rotate (x[i], x[i + nRot/2]). */
  layout: 'interleaved' | 'neox';
  /** Leading dimensions of each head that are rotated (the rest pass through). */
  nRot: number;
  freqBase: number;
  scaling: 'none' | 'linear' | 'yarn' | 'llama3';
  /** Context extension factor (freq_scale = 1 / factor). */
  factor: number;
  originalContextLength: number;
  /** YaRN: attention factor and the beta_fast / beta_slow corrections (llama.cpp defaults 32 and 1). */
  attnFactor: number;
  betaFast: number;
  betaSlow: number;
  /** Llama 3 frequency smoothing (used only when the file has no rope_freqs.weight tensor). */
  lowFreqFactor: number;
  highFreqFactor: number;
  /** Name of a per-pair frequency-factor tensor (Llama 3.1's rope_freqs.weight), when the file has one. */
  freqFactorsTensor?: string;
  /**
   * LongRoPE (Phi-3): factors for contexts beyond originalContextLength; freqFactorsTensor then holds the short ones.
   * llama.cpp picks long when the context it was given exceeds originalContextLength, and so do we.
   */
  freqFactorsLongTensor?: string;
}

export interface Hyperparameters {
  nEmbd: number;
  nLayer: number;
  nHead: number;
  nHeadKv: number;
  headDim: number;
  nFf: number;
  nVocab: number;
  normEps: number;
  contextLength: number;
  rope: RopeConfig;
}

export interface LayerTensors {
  attnNorm: string;
  /** Separate projections, or one fused qkv projection (qkv then holds q, k, v rows in that order). */
  q?: string;
  k?: string;
  v?: string;
  qkv?: string;
  qBias?: string;
  kBias?: string;
  vBias?: string;
  o: string;
  ffnNorm: string;
  /** Gate and up projections; `gateUp` instead when one tensor holds the gate rows then the up rows (Phi-3). */
  gate?: string;
  up?: string;
  gateUp?: string;
  down: string;
  /** Per-head RMSNorm of q and k before rope (Qwen3, Gemma 3). */
  qNorm?: string;
  kNorm?: string;
  /** RMSNorm of the attention / FFN output before it joins the residual stream (Gemma 2 and 3). */
  postAttnNorm?: string;
  postFfnNorm?: string;
}

export interface Architecture {
  name: string;
  hyper: Hyperparameters;
  tokenEmbedding: string;
  outputNorm: string;
  /** The output projection; when the file has none, the token embedding is used (tied weights). */
  output: string;
  layer(i: number): LayerTensors;
  /** FFN activation of the gate: SiLU (Llama) or GELU with the tanh approximation (Gemma, Phi-2 style). */
  activation: 'silu' | 'gelu';
  /** Multiply the token embeddings by this (Gemma: sqrt(n_embd)); 1 for Llama. */
  embeddingScale: number;
  /** Attention window of layer i in tokens (a key at distance >= window is masked); 0 or absent: full causal. */
  slidingWindow?: (i: number) => number;
  /** Rope of layer i when layers differ (Gemma 3: local and global bases); absent: hyper.rope everywhere. */
  layerRope?: (i: number) => RopeConfig;
  /** Scale of q·k (default 1/sqrt(headDim)). */
  attentionScale?: number;
  /** Gemma 2: scores become cap·tanh(score/cap) (0 or absent: none). */
  attentionSoftCap?: number;
  /** Gemma 2 (and Gemma 3 when set): logits become cap·tanh(logit/cap). */
  finalSoftCap?: number;
  /** Added to every RMSNorm weight at load: 1 for Gemma from SafeTensors (its norms scale by 1 + w; GGUF stores w + 1). */
  normWeightOffset?: number;
}

/**
 * The descriptor the forward pass reads: a GGUF file's own, or a SafeTensors model's GGUF-shaped view (llama.cpp's
 * tensor names and metadata keys, see hf-names.ts).
 */
export function runnableDescriptor(descriptor: ModelDescriptor): ModelDescriptor {
  if (descriptor.format === 'safetensors') return ggufViewOfSafetensors(descriptor);
  if (descriptor.format !== 'gguf' || !descriptor.gguf) {
    throw new RbeeError('unsupported-architecture', `The WebGPU engine runs GGUF and SafeTensors models; this is ${descriptor.format}.`, {
      hint: 'Open the GGUF or SafeTensors version of this model.',
    });
  }
  return descriptor;
}

/** The architecture of a runnable descriptor (see runnableDescriptor), or RbeeError('unsupported-architecture'). */
export function architectureFor(descriptor: ModelDescriptor): Architecture {
  const arch = descriptor.architecture;
  if (!descriptor.gguf) return architectureFor(runnableDescriptor(descriptor));
  const build = Object.hasOwn(FORWARD_PASSES, arch) ? FORWARD_PASSES[arch as ArchitectureId] : undefined;
  if (!build) {
    throw new RbeeError('unsupported-architecture', `The WebGPU engine does not run the "${arch}" architecture yet.`, {
      hint: 'Llama (also Mistral), Qwen 2/2.5/3, Phi-3 and Gemma 1/2/3 GGUF files run here; others on the companion.',
    });
  }
  const built = build(descriptor);
  if (descriptor.format !== 'safetensors') return built;
  // Hugging Face layout: q/k rows in rotate-half order for every family; Gemma's norms without the converter's +1.
  return {
    ...built,
    hyper: { ...built.hyper, rope: { ...built.hyper.rope, layout: 'neox' } },
    ...(arch.startsWith('gemma') ? { normWeightOffset: 1 } : {}),
  };
}
