/**
 * Qwen2 / Qwen2.5 (GGUF `qwen2`): the Llama layer with biases on the q, k and v projections, rotary embeddings on
 * the NeoX layout (the converter keeps Hugging Face's rotate-half order), and the output tied to token_embd when
 * the file has no output.weight (the small models).
 */
import type { ModelDescriptor } from '../../formats/descriptor.ts';
import type { Architecture } from './architecture.ts';
import { llamaArchitecture } from './llama.ts';

export function qwen2Architecture(descriptor: ModelDescriptor): Architecture {
  const base = llamaArchitecture(descriptor, 'qwen2');
  return { ...base, hyper: { ...base.hyper, rope: { ...base.hyper.rope, layout: 'neox' } } };
}
