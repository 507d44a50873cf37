/**
 * Gemma 2 (GGUF `gemma2`): Gemma plus an RMSNorm after attention and after the FFN (post_attention_norm,
 * post_ffw_norm) before each joins the residual stream, attention scores soft-capped (cap·tanh(s/cap),
 * attn_logit_softcapping) and so are the final logits (final_logit_softcapping), and sliding-window attention on
 * alternate layers (sliding_window_pattern, default 2: even layers local, window default 4096), all as llama.cpp
 * reads them. Its attention scale is 1/√head_dim except for the 27B (46 layers): 1/√(n_embd/n_head).
 */
import type { ModelDescriptor } from '../../formats/descriptor.ts';
import type { Architecture } from './architecture.ts';
import { gemmaFamilyBase } from './gemma.ts';
import { num } from './llama.ts';

/** llama.cpp's set_swa_pattern: with period n, layer i is local unless i % n == n − 1 (n = 0: every layer local). */
export function isSlidingLayer(i: number, period: number): boolean {
  return period === 0 || i % period < period - 1;
}

export function gemma2Architecture(descriptor: ModelDescriptor): Architecture {
  const meta = descriptor.gguf?.metadata ?? {};
  const base = gemmaFamilyBase(descriptor, 'gemma2');
  const h = base.hyper;
  const window = num(meta, 'gemma2.attention.sliding_window') ?? 4096;
  const period = num(meta, 'gemma2.attention.sliding_window_pattern') ?? 2;
  const layer = base.layer;
  return {
    ...base,
    output: base.tokenEmbedding,
    layer: (i) => ({ ...layer(i), postAttnNorm: `blk.${i}.post_attention_norm.weight`, postFfnNorm: `blk.${i}.post_ffw_norm.weight` }),
    slidingWindow: (i) => (isSlidingLayer(i, period) ? window : 0),
    attentionScale: 1 / Math.sqrt(h.nLayer === 46 ? Math.floor(h.nEmbd / h.nHead) : h.headDim),
    attentionSoftCap: num(meta, 'gemma2.attn_logit_softcapping') ?? 0,
    finalSoftCap: num(meta, 'gemma2.final_logit_softcapping') ?? 0,
  };
}
