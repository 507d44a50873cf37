/**
 * Gemma 3 (GGUF `gemma3`, text part): Gemma 2's post-norms without attention soft-capping, per-head q/k RMSNorm
 * before rope, and local/global layers: when the file names a sliding window, layers are local unless
 * i % pattern == pattern − 1 (pattern default 6), local layers use rope.freq_base_swa (default 10000) without
 * scaling, global ones rope.freq_base with the file's rope scaling (linear ×8 on the 4B and larger). The final
 * logits are soft-capped only when final_logit_softcapping is in the file. 27B (62 layers): scale 1/√(n_embd/n_head).
 */
import type { ModelDescriptor } from '../../formats/descriptor.ts';
import type { Architecture, RopeConfig } from './architecture.ts';
import { gemmaFamilyBase } from './gemma.ts';
import { isSlidingLayer } from './gemma2.ts';
import { num } from './llama.ts';

export function gemma3Architecture(descriptor: ModelDescriptor): Architecture {
  const meta = descriptor.gguf?.metadata ?? {};
  const base = gemmaFamilyBase(descriptor, 'gemma3');
  const h = base.hyper;
  const window = num(meta, 'gemma3.attention.sliding_window') ?? 0;
  const period = num(meta, 'gemma3.attention.sliding_window_pattern') ?? 6;
  const local = (i: number) => window > 0 && isSlidingLayer(i, period);
  const localRope: RopeConfig = {
    ...h.rope,
    freqBase: num(meta, 'gemma3.rope.freq_base_swa') ?? 10000,
    scaling: 'none',
    factor: 1,
  };
  const layer = base.layer;
  return {
    ...base,
    layer: (i) => ({
      ...layer(i),
      qNorm: `blk.${i}.attn_q_norm.weight`,
      kNorm: `blk.${i}.attn_k_norm.weight`,
      postAttnNorm: `blk.${i}.post_attention_norm.weight`,
      postFfnNorm: `blk.${i}.post_ffw_norm.weight`,
    }),
    slidingWindow: (i) => (local(i) ? window : 0),
    layerRope: (i) => (local(i) ? localRope : h.rope),
    attentionScale: 1 / Math.sqrt(h.nLayer === 62 ? Math.floor(h.nEmbd / h.nHead) : h.headDim),
    finalSoftCap: num(meta, 'gemma3.final_logit_softcapping') ?? 0,
  };
}
