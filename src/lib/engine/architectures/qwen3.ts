/**
 * Qwen3 (GGUF `qwen3`): the Llama layer on the NeoX rotary layout, without biases, with an RMSNorm of each q and k
 * head (attn_q_norm / attn_k_norm, headDim weights) before rope; head_dim from key_length (it need not be
 * n_embd / n_head).
 */
import type { ModelDescriptor } from '../../formats/descriptor.ts';
import type { Architecture } from './architecture.ts';
import { llamaArchitecture } from './llama.ts';

export function qwen3Architecture(descriptor: ModelDescriptor): Architecture {
  const base = llamaArchitecture(descriptor, 'qwen3');
  return {
    ...base,
    hyper: { ...base.hyper, rope: { ...base.hyper.rope, layout: 'neox' } },
    layer: (i) => ({ ...base.layer(i), qNorm: `blk.${i}.attn_q_norm.weight`, kNorm: `blk.${i}.attn_k_norm.weight` }),
  };
}
