/**
 * Llama (also Mistral, Llama 2 and 3, TinyLlama, SmolLM, …) from GGUF v1–v3 metadata: `llama.*` keys, tensor names
 * `blk.N.attn_q.weight` …, RMSNorm, SiLU-gated FFN, rotary embeddings on interleaved pairs (the GGUF converter
 * permutes Q and K so ggml's "normal" rope applies), grouped-query attention, output tied to token_embd when the
 * file has no output.weight.
 */
import { RbeeError } from '../../errors.ts';
import type { GgufValue, ModelDescriptor } from '../../formats/descriptor.ts';
import type { Architecture, RopeConfig } from './architecture.ts';

export function num(meta: Record<string, GgufValue>, key: string): number | undefined {
  const v = meta[key];
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  return undefined;
}

function required(meta: Record<string, GgufValue>, key: string): number {
  const v = num(meta, key);
  if (v === undefined || !Number.isFinite(v) || v <= 0) {
    throw new RbeeError('bad-value', `The model's metadata lacks ${key}, which the forward pass needs.`, {
      hint: 'The file may be truncated or written by an old converter; re-download or re-convert it.',
    });
  }
  return v;
}

/**
 * Mistral: its 7B-class GGUF files are 'llama' with `llama.attention.sliding_window`, which llama.cpp does not read
 * for this architecture (full causal attention), so neither do we: the tokens stay equal to llama.cpp's.
 *
 * `prefix` is the metadata key prefix: the other families (qwen2.ts, gemma.ts, …) start from the same hyperparameters
 * under their own `<arch>.` keys and change what differs.
 */
export function llamaArchitecture(descriptor: ModelDescriptor, prefix = 'llama'): Architecture {
  const meta = descriptor.gguf?.metadata ?? {};
  const p = (key: string) => `${prefix}.${key}`;
  const nEmbd = required(meta, p('embedding_length'));
  const nHead = required(meta, p('attention.head_count'));
  const nHeadKv = num(meta, p('attention.head_count_kv')) ?? nHead;
  const headDim = num(meta, p('attention.key_length')) ?? nEmbd / nHead;
  const byName = new Map(descriptor.tensors.map((t) => [t.name, t]));
  const embd = byName.get('token_embd.weight');
  if (!embd) throw new RbeeError('bad-value', 'The model has no token_embd.weight tensor.');
  const tokens = meta['tokenizer.ggml.tokens'];
  const nVocab = num(meta, p('vocab_size')) ?? (Array.isArray(tokens) ? tokens.length : embd.dims[1]!);
  const scalingType = String(meta[p('rope.scaling.type')] ?? 'none');
  const factor = num(meta, p('rope.scaling.factor')) ?? 1;
  const linearScale = num(meta, p('rope.scale_linear')); // GGUF v1/v2-era key for linear scaling
  const contextLength = num(meta, p('context_length')) ?? 2048;
  const rope: RopeConfig = {
    layout: 'interleaved',
    nRot: num(meta, p('rope.dimension_count')) ?? headDim,
    freqBase: num(meta, p('rope.freq_base')) ?? 10000,
    scaling:
      scalingType === 'linear' || scalingType === 'yarn' || scalingType === 'llama3'
        ? scalingType
        : linearScale && linearScale !== 1
          ? 'linear'
          : 'none',
    factor: linearScale && scalingType === 'none' ? linearScale : factor,
    originalContextLength: num(meta, p('rope.scaling.original_context_length')) ?? contextLength,
    attnFactor: num(meta, p('rope.scaling.attn_factor')) ?? 1,
    betaFast: num(meta, p('rope.scaling.yarn_beta_fast')) ?? 32,
    betaSlow: num(meta, p('rope.scaling.yarn_beta_slow')) ?? 1,
    lowFreqFactor: num(meta, p('rope.scaling.low_freq_factor')) ?? 1,
    highFreqFactor: num(meta, p('rope.scaling.high_freq_factor')) ?? 4,
    ...(byName.has('rope_freqs.weight') ? { freqFactorsTensor: 'rope_freqs.weight' } : {}),
  };
  return {
    name: prefix,
    hyper: {
      nEmbd,
      nLayer: required(meta, p('block_count')),
      nHead,
      nHeadKv,
      headDim,
      nFf: required(meta, p('feed_forward_length')),
      nVocab,
      normEps: num(meta, p('attention.layer_norm_rms_epsilon')) ?? 1e-5,
      contextLength,
      rope,
    },
    tokenEmbedding: 'token_embd.weight',
    outputNorm: 'output_norm.weight',
    output: byName.has('output.weight') ? 'output.weight' : 'token_embd.weight',
    layer: (i) => ({
      attnNorm: `blk.${i}.attn_norm.weight`,
      ...(byName.has(`blk.${i}.attn_qkv.weight`)
        ? { qkv: `blk.${i}.attn_qkv.weight` }
        : { q: `blk.${i}.attn_q.weight`, k: `blk.${i}.attn_k.weight`, v: `blk.${i}.attn_v.weight` }),
      ...(byName.has(`blk.${i}.attn_q.bias`) ? { qBias: `blk.${i}.attn_q.bias` } : {}),
      ...(byName.has(`blk.${i}.attn_k.bias`) ? { kBias: `blk.${i}.attn_k.bias` } : {}),
      ...(byName.has(`blk.${i}.attn_v.bias`) ? { vBias: `blk.${i}.attn_v.bias` } : {}),
      o: `blk.${i}.attn_output.weight`,
      ffnNorm: `blk.${i}.ffn_norm.weight`,
      gate: `blk.${i}.ffn_gate.weight`,
      up: `blk.${i}.ffn_up.weight`,
      down: `blk.${i}.ffn_down.weight`,
    }),
    activation: 'silu',
    embeddingScale: 1,
  };
}
