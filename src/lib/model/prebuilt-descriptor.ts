/**
 * Descriptors for MLC builds and ONNX exports, read from their small JSON files only:
 * - MLC: mlc-chat-config.json (model_type, model_config hyperparameters, quantization, context window,
 *   conversation template) and the tensor cache (each tensor's name, shape, dtype and bytes; the parameter count);
 * - ONNX: config.json (as for SafeTensors), tokenizer_config.json for the chat template. The .onnx graph itself is
 *   not parsed (protobuf, up to gigabytes): tensors stay empty and the parameter count is estimated from the config.
 */
import { RbeeError } from '../errors.ts';
import type { ByteSource } from '../formats/byte-source.ts';
import type { ModelDescriptor, PrebuiltInfo, TensorInfo } from '../formats/descriptor.ts';
import type { ModelCandidate } from './model-candidates.ts';
import type { ModelFileSet } from './model-file-set.ts';
import { mlcQuantizationOf, needsShaderF16 } from './prebuilt-candidates.ts';
import { descriptorFieldsFromConfig } from '../formats/safetensors-config.ts';

type Json = Record<string, unknown>;

/** A JSON side file larger than this is not one of these (a tensor cache of a 70B build is ~1 MB). */
export const PREBUILT_JSON_LIMIT = 32 * 1024 * 1024;

const baseOf = (p: string): string => p.slice(p.lastIndexOf('/') + 1);
const dirOf = (p: string): string => (p.includes('/') ? p.slice(0, p.lastIndexOf('/') + 1) : '');
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

async function readJsonFile(source: ByteSource, signal?: AbortSignal): Promise<Json> {
  const size = await source.size();
  if (size > PREBUILT_JSON_LIMIT) {
    throw new RbeeError('limit-exceeded', `${source.name} is ${size} bytes; a model's JSON file is at most ${PREBUILT_JSON_LIMIT}.`);
  }
  const bytes = await source.read(0, size, signal);
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new RbeeError('bad-json', `${source.name} is not valid JSON.`, { hint: 'The repository may be incomplete or damaged.', cause: e });
  }
  if (!isObject(parsed)) throw new RbeeError('bad-json', `${source.name} is not a JSON object.`);
  return parsed;
}

async function openJson(set: ModelFileSet, path: string, signal?: AbortSignal): Promise<Json | undefined> {
  if (set.listing && !set.listing.some((f) => f.path === path)) return undefined;
  const source = await set.open(path, signal);
  return source ? readJsonFile(source, signal) : undefined;
}

/** Llama-style parameter count from hyperparameters (embeddings, attention, gated FFN, norms): an estimate. */
function estimateParameters(f: ReturnType<typeof descriptorFieldsFromConfig>): number {
  const { embeddingLength: e, blockCount: l, headCount: h, headCountKv: kv, headDim: hd, feedForwardLength: ff, vocabSize: v } = f;
  if (!e || !l || !v) return 0;
  const q = (h ?? 0) * (hd ?? 0);
  const k = (kv ?? h ?? 0) * (hd ?? 0);
  const attention = e * q + 2 * e * k + q * e;
  const ffn = 3 * e * (ff ?? 4 * e);
  const embeddings = v * e * (f.tieWordEmbeddings === false ? 2 : 1);
  return embeddings + l * (attention + ffn + 2 * e) + e;
}

function baseDescriptor(set: ModelFileSet, candidate: ModelCandidate, config: Json, prebuilt: PrebuiltInfo): ModelDescriptor {
  const fields = descriptorFieldsFromConfig(config);
  const sizes = new Map((set.listing ?? []).map((f) => [f.path, f.size]));
  const weightFiles = candidate.files.filter((p) => /\.(bin|onnx)$|\.onnx_data(_\d+)?$/i.test(p));
  const d: ModelDescriptor = {
    source: `${set.label}/${candidate.primary}`,
    name: set.modelName ?? set.label,
    format: candidate.format,
    kind: 'model',
    architecture: fields.architecture,
    parameterCount: estimateParameters(fields),
    weightTypes: [{ type: prebuilt.quantization, tensors: Math.max(1, weightFiles.length), bytes: candidate.size }],
    fileType: prebuilt.quantization,
    hasChatTemplate: false,
    totalWeightBytes: candidate.size,
    files: weightFiles.map((p) => ({ location: `${set.label}/${p}`, size: sizes.get(p) ?? 0 })),
    tensors: [],
    prebuilt,
    warnings: [...fields.warnings],
  };
  for (const key of ['contextLength', 'embeddingLength', 'blockCount', 'headCount', 'headCountKv', 'headDim', 'feedForwardLength', 'rope', 'vocabSize'] as const) {
    if (fields[key] !== undefined) (d as unknown as Record<string, unknown>)[key] = fields[key];
  }
  return d;
}

/** The descriptor of an MLC build (candidate.primary is its mlc-chat-config.json). */
export async function describeMlcBuild(set: ModelFileSet, candidate: ModelCandidate, signal?: AbortSignal): Promise<ModelDescriptor> {
  const dir = dirOf(candidate.primary);
  const chatConfig = await openJson(set, candidate.primary, signal);
  if (!chatConfig) throw new RbeeError('not-found', `${set.label} has no ${candidate.primary}.`);
  const modelConfig = isObject(chatConfig.model_config) ? chatConfig.model_config : {};
  const quantization =
    (typeof chatConfig.quantization === 'string' ? chatConfig.quantization.toLowerCase() : undefined) ??
    candidate.quantization ??
    mlcQuantizationOf(set.label) ??
    'unknown';
  const requiredFeatures = needsShaderF16(quantization) ? ['shader-f16'] : [];
  const repoName = set.hf?.repo ?? set.modelName ?? set.label;
  const f32Name = repoName.replace(/q(\d+)f16/i, 'q$1f32');
  const prebuilt: PrebuiltInfo = {
    engine: 'web-llm',
    quantization,
    requiredFeatures,
    primary: candidate.primary,
    folder: dir,
    config: chatConfig,
    ...(requiredFeatures.length > 0
      ? {
          withoutRequiredFeatures:
            f32Name !== repoName
              ? `Open the ${quantization.replace(/f16/, 'f32')} build instead (${f32Name}): it needs no shader-f16.`
              : `Open a q4f32 build of this model instead (web-llm's catalogue names them …-q4f32_1-MLC): it needs no shader-f16.`,
        }
      : {}),
  };
  // mlc-chat-config.json keeps the HF config under model_config; its own keys (model_type, vocab_size,
  // context_window_size) are the build's.
  const config: Json = { ...modelConfig, model_type: chatConfig.model_type ?? modelConfig.model_type };
  if (typeof chatConfig.vocab_size === 'number') config.vocab_size = chatConfig.vocab_size;
  const d = baseDescriptor(set, candidate, config, prebuilt);
  const window = chatConfig.context_window_size;
  if (typeof window === 'number' && window > 0) d.contextLength = window;
  d.hasChatTemplate = isObject(chatConfig.conv_template) || typeof chatConfig.conv_template === 'string';
  d.tokenizer = candidate.files.some((p) => baseOf(p) === 'tokenizer.json') ? 'tokenizer.json' : 'none';

  const cachePath = candidate.files.find((p) => baseOf(p) === 'tensor-cache.json') ?? candidate.files.find((p) => baseOf(p) === 'ndarray-cache.json');
  const cache = cachePath ? await openJson(set, cachePath, signal) : undefined;
  if (cache) {
    const { tensors, parameters } = mlcTensors(cache, d.files.map((f) => f.location));
    d.tensors = tensors;
    if (parameters > 0) d.parameterCount = parameters;
    d.weightTypes = [{ type: quantization, tensors: tensors.length, bytes: d.totalWeightBytes }];
  } else {
    d.warnings.push('The build has no readable tensor cache: the parameter count is estimated from the config.');
  }
  return d;
}

/**
 * Tensors as the MLC tensor cache lists them (records per shard, each with its tensors), and the parameter count.
 * `files` are the descriptor's weight files: a tensor's `file` indexes them.
 */
function mlcTensors(cache: Json, files: string[]): { tensors: TensorInfo[]; parameters: number } {
  const tensors: TensorInfo[] = [];
  const shards = Array.isArray(cache.records) ? cache.records : [];
  shards.forEach((shard, index) => {
    if (!isObject(shard) || !Array.isArray(shard.records)) return;
    const file = files.findIndex((p) => baseOf(p) === shard.dataPath);
    for (const r of shard.records) {
      if (!isObject(r) || typeof r.name !== 'string' || !Array.isArray(r.shape)) continue;
      tensors.push({
        name: r.name,
        // ggml order (fastest-varying first), as for SafeTensors.
        dims: (r.shape as unknown[]).map(Number).reverse(),
        type: -1,
        typeName: String(r.dtype ?? 'unknown'),
        offset: typeof r.byteOffset === 'number' ? r.byteOffset : 0,
        size: typeof r.nbytes === 'number' ? r.nbytes : undefined,
        file: file >= 0 ? file : index,
      });
    }
  });
  const metadata = isObject(cache.metadata) ? cache.metadata : {};
  // mlc_llm writes ParamSize (the number of tensors), ParamBytes and BitsPerParam (bytes × 8 / the original
  // model's parameter count), so the parameter count is ParamBytes × 8 / BitsPerParam.
  const bytes = metadata.ParamBytes;
  const bits = metadata.BitsPerParam;
  const parameters = typeof bytes === 'number' && typeof bits === 'number' && bits > 0 ? Math.round((bytes * 8) / bits) : 0;
  return { tensors, parameters };
}

/** The descriptor of one ONNX dtype variant (candidate.primary is its onnx/model*.onnx). */
export async function describeOnnxExport(
  set: ModelFileSet,
  candidate: ModelCandidate,
  siblings: readonly ModelCandidate[],
  signal?: AbortSignal,
): Promise<ModelDescriptor> {
  const root = dirOf(candidate.primary).replace(/onnx\/$/, '');
  const config = await openJson(set, `${root}config.json`, signal);
  if (!config) throw new RbeeError('not-found', `${set.label} has no ${root}config.json beside its onnx/ folder.`, { hint: 'transformers.js needs config.json to load an ONNX model.' });
  const quantization = candidate.quantization ?? 'fp32';
  const requiredFeatures = needsShaderF16(quantization) ? ['shader-f16'] : [];
  const variants = siblings
    .filter((c) => c.format === 'onnx' && dirOf(c.primary) === dirOf(candidate.primary))
    .map((c) => ({ quantization: c.quantization ?? 'fp32', primary: c.primary, size: c.size, requiredFeatures: c.requiredFeatures ?? [] }));
  const plain = variants.find((v) => v.requiredFeatures.length === 0 && ['q4', 'q8', 'int8', 'uint8', 'bnb4', 'fp32'].includes(v.quantization));
  const prebuilt: PrebuiltInfo = {
    engine: 'transformers.js',
    quantization,
    requiredFeatures,
    primary: candidate.primary,
    folder: root,
    variants,
    config,
    ...(requiredFeatures.length > 0
      ? {
          withoutRequiredFeatures: plain
            ? `Choose the ${plain.quantization} variant (${plain.primary}) of the same repository: it needs no shader-f16.`
            : 'This repository has no variant without 16-bit floats; transformers.js can still run it on the CPU (WASM), slowly.',
        }
      : {}),
  };
  const d = baseDescriptor(set, candidate, config, prebuilt);
  d.warnings.push('The ONNX graph is not read: the parameter count is estimated from config.json.');
  d.tokenizer = candidate.files.some((p) => baseOf(p) === 'tokenizer.json') ? 'tokenizer.json' : 'none';
  const tokenizerConfig = await openJson(set, `${root}tokenizer_config.json`, signal).catch(() => undefined);
  d.hasChatTemplate = tokenizerConfig !== undefined && tokenizerConfig.chat_template !== undefined && tokenizerConfig.chat_template !== null;
  return d;
}
