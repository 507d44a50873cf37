/**
 * Phi-3 / Phi-3.5 (GGUF `phi3`): one fused attn_qkv projection (q rows, then k, then v), one fused ffn_up holding
 * the gate rows then the up rows (SwiGLU on the first half), NeoX rotary layout, and LongRoPE: per-pair frequency
 * factors rope_factors_short / rope_factors_long (long when the context exceeds the original one) with the
 * converter's rope.scaling.attn_factor. `phi3.attention.sliding_window` is read by llama.cpp and then switched off
 * ("Phi SWA is currently disabled"), so attention here is full causal as well.
 */
import type { ModelDescriptor } from '../../formats/descriptor.ts';
import type { Architecture } from './architecture.ts';
import { llamaArchitecture } from './llama.ts';

export function phi3Architecture(descriptor: ModelDescriptor): Architecture {
  const base = llamaArchitecture(descriptor, 'phi3');
  const names = new Set(descriptor.tensors.map((t) => t.name));
  const rope = { ...base.hyper.rope, layout: 'neox' as const };
  if (names.has('rope_factors_short.weight')) rope.freqFactorsTensor = 'rope_factors_short.weight';
  if (names.has('rope_factors_long.weight')) rope.freqFactorsLongTensor = 'rope_factors_long.weight';
  return {
    ...base,
    hyper: { ...base.hyper, rope },
    layer: (i) => {
      const { gate: _gate, up: _up, ...l } = base.layer(i);
      return { ...l, gateUp: `blk.${i}.ffn_up.weight` };
    },
  };
}
