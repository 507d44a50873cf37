/**
 * Hugging Face `config.json` → the descriptor's architecture and hyperparameters. Transformers names things per
 * model family; this maps the families we know (and reads the common names for the rest) onto ModelDescriptor.
 *
 * Architecture ids are the HF `model_type` normalised to ours: 'mistral' becomes 'llama' (the Llama family covers
 * Mistral: same tensors and forward pass), 'gemma3_text' becomes 'gemma3'; others stay as written, lower-cased.
 * Hugging Face checkpoints keep the rotate-half ("neox") RoPE layout for every family, unlike GGUF llama files.
 */
import type { ModelDescriptor, RopeSettings } from './descriptor.ts';

/** The descriptor fields config.json supplies, plus what only the loader needs (tied embeddings). */
export type ConfigFields = Pick<
  ModelDescriptor,
  | 'architecture'
  | 'contextLength'
  | 'embeddingLength'
  | 'blockCount'
  | 'headCount'
  | 'headCountKv'
  | 'headDim'
  | 'feedForwardLength'
  | 'rope'
  | 'vocabSize'
  | 'warnings'
> & { tieWordEmbeddings?: boolean };

/** HF model_type → our id, where they differ. */
const MODEL_TYPE_ALIASES: Record<string, string> = {
  mistral: 'llama',
  gemma3_text: 'gemma3',
};

/** HF `architectures[0]` class → model_type, for configs that omit model_type. */
const ARCHITECTURE_CLASSES: Record<string, string> = {
  LlamaForCausalLM: 'llama',
  MistralForCausalLM: 'mistral',
  Qwen2ForCausalLM: 'qwen2',
  Qwen3ForCausalLM: 'qwen3',
  Phi3ForCausalLM: 'phi3',
  GemmaForCausalLM: 'gemma',
  Gemma2ForCausalLM: 'gemma2',
  Gemma3ForCausalLM: 'gemma3_text',
  Gemma3ForConditionalGeneration: 'gemma3',
};

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const positive = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : undefined);
const count = (v: unknown): number | undefined => (typeof v === 'number' && Number.isSafeInteger(v) && v > 0 ? v : undefined);

/** The model_type the config declares (or its architectures class implies), lower-case; undefined when neither. */
export function hfModelType(config: Json): string | undefined {
  if (typeof config.model_type === 'string' && config.model_type !== '') return config.model_type.toLowerCase();
  const classes = config.architectures;
  if (Array.isArray(classes) && typeof classes[0] === 'string') {
    return ARCHITECTURE_CLASSES[classes[0]] ?? classes[0].replace(/For(CausalLM|ConditionalGeneration)$/, '').toLowerCase();
  }
  return undefined;
}

export function normaliseArchitecture(modelType: string): string {
  return MODEL_TYPE_ALIASES[modelType] ?? modelType;
}

export function descriptorFieldsFromConfig(config: Json): ConfigFields {
  const warnings: string[] = [];
  const modelType = hfModelType(config);
  const architecture = modelType === undefined ? 'unknown' : normaliseArchitecture(modelType);
  if (modelType === undefined) warnings.push('config.json names no model_type or architectures: the architecture is unknown.');
  else if (architecture !== modelType) warnings.push(`config.json says model_type '${modelType}', which runs as the '${architecture}' architecture.`);

  // Multimodal wrappers (Gemma 3, Llava-style) keep the language model's hyperparameters in text_config.
  const text = isObject(config.text_config) ? { ...config, ...config.text_config } : config;

  const embeddingLength = count(text.hidden_size) ?? count(text.n_embd) ?? count(text.d_model);
  const headCount = count(text.num_attention_heads) ?? count(text.n_head);
  const headCountKv = count(text.num_key_value_heads) ?? headCount;
  const headDim = count(text.head_dim) ?? (embeddingLength && headCount ? embeddingLength / headCount : undefined);
  const ropeParameters = isObject(text.rope_parameters) ? text.rope_parameters : undefined; // transformers ≥ 5
  const ropeScaling = isObject(text.rope_scaling) ? text.rope_scaling : ropeParameters;
  const freqBase = positive(text.rope_theta) ?? positive(ropeParameters?.rope_theta);
  const partial = positive(text.partial_rotary_factor);
  const scalingType = ropeScaling
    ? String(ropeScaling.rope_type ?? ropeScaling.type ?? 'none')
    : undefined;

  const rope: RopeSettings = { layout: 'neox' };
  if (freqBase !== undefined) rope.freqBase = freqBase;
  if (headDim !== undefined && Number.isInteger(headDim)) rope.dimensionCount = partial !== undefined ? Math.round(headDim * partial) : headDim;
  if (scalingType !== undefined && scalingType !== 'default') rope.scalingType = scalingType;
  const factor = positive(ropeScaling?.factor);
  if (factor !== undefined) rope.scalingFactor = factor;
  const original = count(ropeScaling?.original_max_position_embeddings) ?? count(text.original_max_position_embeddings);
  if (original !== undefined) rope.originalContextLength = original;

  const fields: ConfigFields = { architecture, rope, warnings };
  const set = <K extends keyof ConfigFields>(key: K, value: ConfigFields[K] | undefined): void => {
    if (value !== undefined) fields[key] = value;
  };
  set('contextLength', count(text.max_position_embeddings) ?? count(text.n_positions) ?? count(text.max_sequence_length));
  set('embeddingLength', embeddingLength);
  set('blockCount', count(text.num_hidden_layers) ?? count(text.n_layer));
  set('headCount', headCount);
  set('headCountKv', headCountKv);
  set('headDim', headDim !== undefined && Number.isInteger(headDim) ? headDim : undefined);
  set('feedForwardLength', count(text.intermediate_size) ?? count(text.n_inner));
  set('vocabSize', count(text.vocab_size));
  if (typeof text.tie_word_embeddings === 'boolean') fields.tieWordEmbeddings = text.tie_word_embeddings;
  return fields;
}
