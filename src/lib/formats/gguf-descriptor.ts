/**
 * GGUF header(s) → ModelDescriptor: the llama.cpp metadata keys (`general.*`, `<arch>.*`, `tokenizer.*`) mapped onto
 * the normalised fields every other part reads. Split models arrive as several parts; metadata comes from the first
 * (llama.cpp writes the model's KVs there) and tensors from all, each tagged with its part.
 */
import { RbeeError } from '../errors.ts';
import type { ByteSource } from './byte-source.ts';
import type { GgufValue, ModelDescriptor, RopeSettings, TensorInfo, TokenizerKind, WeightTypeShare } from './descriptor.ts';
import { LLAMA_FILE_TYPES } from './ggml-types.ts';
import type { GgufHeader } from './gguf.ts';

/**
 * llama.cpp's rope type per architecture (llama_model_rope_type): "normal" rope rotates consecutive pairs of a
 * head's values (what we call interleaved); NeoX rope rotates pairs half a head apart. Architectures that use no
 * rope (learned or ALiBi positions) get no rope settings. Anything not listed is NeoX, as in llama.cpp.
 */
const ROPE_INTERLEAVED = new Set([
  'llama',
  'mistral',
  'llada',
  'llama4',
  'deci',
  'baichuan',
  'starcoder',
  'internlm2',
  'minicpm',
  'xverse',
  'command-r',
  'cohere2',
  'olmo',
  'arctic',
  'deepseek',
  'deepseek2',
  'plm',
  'chatglm',
  'glm4',
  'granite',
  'granitemoe',
  'granitehybrid',
  'chameleon',
  'bailingmoe',
  'neo-bert',
  'smollm3',
  'arcee',
  'ernie4_5',
  'ernie4_5-moe',
]);
const ROPE_NONE = new Set([
  'gpt2',
  'gptj',
  'mpt',
  'refact',
  'bloom',
  'mamba',
  'mamba2',
  'jamba',
  'jina-bert-v2',
  't5',
  't5encoder',
  'jais',
  'rwkv6',
  'rwkv6qwen2',
  'rwkv7',
  'arwkv7',
  'wavtokenizer-dec',
  'nemotron_h',
]);

/** tokenizer.ggml.model → tokenizer kind (llama.cpp llama_vocab::load). */
const TOKENIZER_KINDS: Record<string, TokenizerKind> = {
  llama: 'spm',
  gpt2: 'bpe',
  bert: 'wpm',
  t5: 'ugm',
  rwkv: 'rwkv',
  no_vocab: 'none',
  none: 'none',
};

export function ropeLayout(architecture: string): RopeSettings['layout'] | undefined {
  if (ROPE_NONE.has(architecture)) return undefined;
  return ROPE_INTERLEAVED.has(architecture) ? 'interleaved' : 'neox';
}

const num = (v: GgufValue | undefined): number | undefined => {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'bigint') return Number(v);
  // Per-layer values (e.g. OpenELM's head counts): the largest, which is what memory estimates need.
  if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number')) return Math.max(...(v as number[]));
  return undefined;
};
const str = (v: GgufValue | undefined): string | undefined => (typeof v === 'string' ? v : undefined);

export function ggufDescriptor(parts: { source: ByteSource; header: GgufHeader }[]): ModelDescriptor {
  const first = parts.find((p) => (p.header.metadata['split.no'] ?? 0) === 0) ?? parts[0]!;
  const md = first.header.metadata;
  const warnings = parts.flatMap((p) => p.header.warnings);
  const defects = parts.flatMap((p) => p.header.defects);
  const architecture = (str(md['general.architecture']) ?? 'unknown').toLowerCase();
  const a = (key: string): GgufValue | undefined => md[`${architecture}.${key}`];

  const tensors: TensorInfo[] = [];
  const seen = new Set<string>();
  parts.forEach((p, file) => {
    for (const t of p.header.tensors) {
      if (seen.has(t.name)) {
        throw new RbeeError('duplicate-tensor', `The tensor "${t.name}" appears in more than one part of the split model.`, {
          hint: 'The parts come from different splits; download matching parts.',
        });
      }
      seen.add(t.name);
      tensors.push(file === 0 ? t : { ...t, file });
    }
  });
  const declared = num(md['split.tensors.count']);
  if (parts.length > 1 && declared !== undefined && declared !== tensors.length) {
    warnings.push(`The split model declares ${declared} tensors; its parts hold ${tensors.length}.`);
  }

  let parameterCount = 0;
  let totalWeightBytes = 0;
  const shares = new Map<string, WeightTypeShare>();
  for (const t of tensors) {
    parameterCount += t.dims.reduce((x, y) => x * y, 1);
    totalWeightBytes += t.size ?? 0;
    const share = shares.get(t.typeName) ?? { type: t.typeName, tensors: 0, bytes: 0 };
    share.tensors++;
    share.bytes += t.size ?? 0;
    shares.set(t.typeName, share);
  }
  const weightTypes = [...shares.values()].sort((x, y) => y.bytes - x.bytes || y.tensors - x.tensors);

  // llama.cpp marks a file type it guessed (rather than was told) with bit 10.
  const ft = num(md['general.file_type']);
  const fileType = ft === undefined ? undefined : (LLAMA_FILE_TYPES[ft & ~1024] ?? `unknown(${ft})`);

  const embeddingLength = num(a('embedding_length'));
  const headCount = num(a('attention.head_count'));
  const keyLength = num(a('attention.key_length'));
  const headDim = keyLength ?? (embeddingLength && headCount ? embeddingLength / headCount : undefined);

  const layout = ropeLayout(architecture);
  let rope: RopeSettings | undefined;
  if (layout) {
    rope = { layout };
    const set = <K extends keyof RopeSettings>(k: K, v: RopeSettings[K] | undefined): void => {
      if (v !== undefined) rope![k] = v;
    };
    set('freqBase', num(a('rope.freq_base')));
    set('dimensionCount', num(a('rope.dimension_count')));
    set('scalingType', str(a('rope.scaling.type')));
    set('scalingFactor', num(a('rope.scaling.factor')));
    set('originalContextLength', num(a('rope.scaling.original_context_length')));
  }

  const tokens = md['tokenizer.ggml.tokens'];
  const tokenizerModel = str(md['tokenizer.ggml.model']);
  const tokenizer = tokenizerModel === undefined ? undefined : (TOKENIZER_KINDS[tokenizerModel] ?? tokenizerModel);
  const hasChatTemplate = Object.keys(md).some((k) => k === 'tokenizer.chat_template' || k.startsWith('tokenizer.chat_template.'));

  const isAdapter = str(md['general.type']) === 'adapter';
  const fileName = first.source.name.replace(/(-\d{5}-of-\d{5})?\.gguf$/i, '');

  const d: ModelDescriptor = {
    source: parts[0]!.source.location,
    name: displayName(str(md['general.name']), architecture, fileName),
    format: 'gguf',
    kind: isAdapter ? 'adapter' : 'model',
    architecture,
    parameterCount,
    weightTypes,
    hasChatTemplate,
    totalWeightBytes,
    files: parts.map((p) => ({ location: p.source.location, size: p.header.fileSize })),
    tensors,
    gguf: {
      version: first.header.version,
      tensorCount: tensors.length,
      alignment: first.header.alignment,
      littleEndian: first.header.littleEndian,
      dataOffsets: parts.map((p) => p.header.dataOffset),
      metadata: md,
      headerBytes: parts.reduce((s, p) => s + p.header.headerBytes, 0),
    },
    warnings,
    ...(defects.length > 0 ? { defects } : {}),
  };
  const optional: Partial<ModelDescriptor> = {
    fileType,
    contextLength: num(a('context_length')),
    embeddingLength,
    blockCount: num(a('block_count')),
    headCount,
    headCountKv: num(a('attention.head_count_kv')) ?? headCount,
    headDim,
    feedForwardLength: num(a('feed_forward_length')),
    rope,
    vocabSize: Array.isArray(tokens) ? tokens.length : num(a('vocab_size')),
    tokenizer,
  };
  for (const [k, v] of Object.entries(optional)) if (v !== undefined) (d as unknown as Record<string, unknown>)[k] = v;
  return d;
}

/**
 * The name to show: general.name, unless it says no more than the architecture ("llama" for stories260K, as many
 * converters write it) — then the file's name, which tells models apart.
 */
export function displayName(generalName: string | undefined, architecture: string, fileName: string): string {
  const name = generalName?.trim();
  if (!name) return fileName;
  return name.toLowerCase() === architecture.trim().toLowerCase() && fileName ? fileName : name;
}
