/**
 * A SafeTensors model (config.json + model.safetensors or shards) seen the way the architectures read a GGUF file:
 * Hugging Face tensor names mapped to llama.cpp's (model.layers.N.self_attn.q_proj.weight → blk.N.attn_q.weight …)
 * and config.json mapped to the `<arch>.*` metadata keys llama.cpp's converter writes. The tensors keep their
 * dtype (F32 / F16 / BF16 run through the same kernels as GGUF F32 / F16 / BF16), file index and byte range, so
 * weights stream from the shards exactly as from a GGUF file.
 *
 * Two things differ from a converted GGUF and are the architecture's business (see architectureFor):
 * - rotary layout: Hugging Face keeps q/k in the NeoX (rotate-half) order for every family, where the GGUF llama
 *   converter permutes them to Meta's interleaved pairs;
 * - Gemma's RMSNorm multiplies by (1 + w): the GGUF converter stores w + 1, Hugging Face stores w.
 */
import { RbeeError } from '../../errors.ts';
import type { GgufValue, ModelDescriptor, TensorInfo } from '../../formats/descriptor.ts';

const LAYER_NAMES: Readonly<Record<string, string>> = {
  'input_layernorm.weight': 'attn_norm.weight',
  'self_attn.q_proj.weight': 'attn_q.weight',
  'self_attn.k_proj.weight': 'attn_k.weight',
  'self_attn.v_proj.weight': 'attn_v.weight',
  'self_attn.q_proj.bias': 'attn_q.bias',
  'self_attn.k_proj.bias': 'attn_k.bias',
  'self_attn.v_proj.bias': 'attn_v.bias',
  'self_attn.qkv_proj.weight': 'attn_qkv.weight',
  'self_attn.o_proj.weight': 'attn_output.weight',
  'self_attn.q_norm.weight': 'attn_q_norm.weight',
  'self_attn.k_norm.weight': 'attn_k_norm.weight',
  'mlp.gate_proj.weight': 'ffn_gate.weight',
  'mlp.up_proj.weight': 'ffn_up.weight',
  'mlp.gate_up_proj.weight': 'ffn_up.weight',
  'mlp.down_proj.weight': 'ffn_down.weight',
  'pre_feedforward_layernorm.weight': 'ffn_norm.weight',
  'post_feedforward_layernorm.weight': 'post_ffw_norm.weight',
};

/** Gemma 2/3 have four norms per layer: post_attention_layernorm is the post-attention norm, not the FFN's. */
function layerName(arch: string, rest: string): string | undefined {
  if (rest === 'post_attention_layernorm.weight') return arch === 'gemma2' || arch === 'gemma3' ? 'post_attention_norm.weight' : 'ffn_norm.weight';
  return LAYER_NAMES[rest];
}

/** llama.cpp's name for a Hugging Face tensor name, or undefined for tensors the forward pass does not use. */
export function ggufTensorName(arch: string, hfName: string): string | undefined {
  // Multimodal checkpoints (Gemma 3) keep the text model under language_model.
  const name = hfName.replace(/^(model\.)?language_model\./, '').replace(/^model\./, '');
  if (name === 'embed_tokens.weight') return 'token_embd.weight';
  if (name === 'norm.weight') return 'output_norm.weight';
  if (name === 'lm_head.weight' || hfName === 'lm_head.weight') return 'output.weight';
  const m = /^layers\.(\d+)\.(.+)$/.exec(name);
  if (!m) return undefined;
  const mapped = layerName(arch, m[2]!);
  return mapped ? `blk.${m[1]}.${mapped}` : undefined;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** The GGUF-shaped view of a SafeTensors model: renamed tensors and `<arch>.*` metadata from config.json. */
export function ggufViewOfSafetensors(descriptor: ModelDescriptor): ModelDescriptor {
  const raw = descriptor.safetensors?.config;
  if (!raw) {
    throw new RbeeError('bad-value', `${descriptor.name} has no config.json beside its weights.`, {
      hint: 'Open the folder (or repository) with config.json and the .safetensors files together.',
    });
  }
  const config = (typeof raw.text_config === 'object' && raw.text_config !== null ? { ...raw, ...(raw.text_config as Record<string, unknown>) } : raw) as Record<string, unknown>;
  const arch = descriptor.architecture;
  const tensors: TensorInfo[] = [];
  for (const t of descriptor.tensors) {
    const name = ggufTensorName(arch, t.name);
    if (name) tensors.push({ ...t, name });
  }
  const meta: Record<string, GgufValue> = { 'general.architecture': arch, 'general.name': descriptor.name };
  const set = (key: string, v: unknown) => {
    const n = num(v);
    if (n !== undefined) meta[`${arch}.${key}`] = n;
  };
  const headDim = num(config.head_dim) ?? (num(config.hidden_size) ?? 0) / (num(config.num_attention_heads) ?? 1);
  set('embedding_length', config.hidden_size);
  set('block_count', config.num_hidden_layers);
  set('feed_forward_length', config.intermediate_size);
  set('attention.head_count', config.num_attention_heads);
  set('attention.head_count_kv', config.num_key_value_heads ?? config.num_attention_heads);
  set('attention.key_length', headDim);
  set('rope.dimension_count', Math.round(headDim * (num(config.partial_rotary_factor) ?? 1)));
  set('rope.freq_base', config.rope_theta);
  set('attention.layer_norm_rms_epsilon', config.rms_norm_eps);
  set('context_length', config.max_position_embeddings);
  set('vocab_size', config.vocab_size);
  set('attn_logit_softcapping', config.attn_logit_softcapping);
  set('final_logit_softcapping', config.final_logit_softcapping);
  if (arch === 'gemma2' || arch === 'gemma3') set('attention.sliding_window', config.sliding_window);
  if (arch === 'gemma3') {
    set('rope.freq_base_swa', config.rope_local_base_freq);
    set('attention.sliding_window_pattern', config.sliding_window_pattern ?? slidingPatternOf(config.layer_types));
  }
  const scaling = (config.rope_scaling ?? undefined) as Record<string, unknown> | undefined;
  if (scaling && typeof scaling === 'object') {
    const type = String(scaling.rope_type ?? scaling.type ?? 'none');
    if (type === 'longrope' || type === 'su') {
      throw new RbeeError('unsupported-architecture', 'LongRoPE (Phi-3 128k) SafeTensors models do not run on the WebGPU engine yet.', {
        hint: 'Open the GGUF conversion of this model, which carries the rope factors as tensors.',
      });
    }
    if (type === 'linear' || type === 'yarn' || type === 'llama3') meta[`${arch}.rope.scaling.type`] = type;
    set('rope.scaling.factor', scaling.factor);
    set('rope.scaling.original_context_length', scaling.original_max_position_embeddings);
    set('rope.scaling.low_freq_factor', scaling.low_freq_factor);
    set('rope.scaling.high_freq_factor', scaling.high_freq_factor);
  }
  return { ...descriptor, tensors, gguf: { version: 3, tensorCount: tensors.length, alignment: 0, littleEndian: true, dataOffsets: [], metadata: meta, headerBytes: 0 } };
}

/** Transformers ≥ 4.5x lists each layer's kind: the period of 'full_attention' layers is the sliding pattern. */
function slidingPatternOf(layerTypes: unknown): number | undefined {
  if (!Array.isArray(layerTypes)) return undefined;
  const first = layerTypes.indexOf('full_attention');
  return first >= 0 ? first + 1 : undefined;
}
