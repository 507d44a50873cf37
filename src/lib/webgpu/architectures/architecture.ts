/**
 * Architecture: everything the forward pass needs to know about a model family, read from the GGUF metadata —
 * hyperparameters, the tensor names of each layer, and the few switches where families differ. The forward pass
 * (model.ts) and the kernels know nothing of any family by name; adding one is a file beside llama.ts and a line in
 * architectureFor().
 */
import { RbeeError } from '../../errors.ts';
import type { ModelDescriptor } from '../../loaders/descriptor.ts';
import { llamaArchitecture } from './llama.ts';

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
  gate: string;
  up: string;
  down: string;
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
}

/** The architecture of a GGUF model, or RbeeError('unsupported-architecture'). */
export function architectureFor(descriptor: ModelDescriptor): Architecture {
  const arch = descriptor.architecture;
  if (descriptor.format !== 'gguf' || !descriptor.gguf) {
    throw new RbeeError('unsupported-architecture', `The WebGPU engine runs GGUF files; this is ${descriptor.format}.`, {
      hint: 'Open the GGUF version of this model.',
    });
  }
  switch (arch) {
    case 'llama':
      return llamaArchitecture(descriptor);
    default:
      throw new RbeeError('unsupported-architecture', `The WebGPU engine does not run the "${arch}" architecture yet.`, {
        hint: 'Llama-family GGUF files (Llama 2/3, Mistral, TinyLlama, SmolLM) run here; others on the companion.',
      });
  }
}
