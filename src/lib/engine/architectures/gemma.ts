/**
 * Gemma (GGUF `gemma`): token embeddings scaled by √n_embd, GELU (tanh) gated FFN, NeoX rotary layout, output
 * always tied to token_embd, head_dim from key_length (Gemma 7B: 256 with n_embd 3072 and 16 heads).
 *
 * Gemma's RMSNorm multiplies by (1 + w); llama.cpp's converter stores w + 1 in the GGUF, so the plain RMSNorm applies.
 */
import type { ModelDescriptor } from '../../formats/descriptor.ts';
import type { Architecture } from './architecture.ts';
import { llamaArchitecture } from './llama.ts';

export function gemmaFamilyBase(descriptor: ModelDescriptor, prefix: string): Architecture {
  const base = llamaArchitecture(descriptor, prefix);
  return {
    ...base,
    hyper: { ...base.hyper, rope: { ...base.hyper.rope, layout: 'neox' } },
    activation: 'gelu',
    // llama.cpp: ggml_scale(inpL, sqrtf(n_embd)), in float32.
    embeddingScale: Math.fround(Math.sqrt(base.hyper.nEmbd)),
  };
}

export function gemmaArchitecture(descriptor: ModelDescriptor): Architecture {
  const base = gemmaFamilyBase(descriptor, 'gemma');
  return { ...base, output: base.tokenEmbedding };
}
