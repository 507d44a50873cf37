/**
 * ModelDescriptor: what a model is, normalised across formats, taken from its header alone (never its weights).
 * The compatibility check, the model page, the CLI's `inspect --json` and the engine's loader all read this shape.
 */
export type ModelFormat = 'gguf' | 'safetensors' | 'mlc' | 'onnx';

/** GGUF metadata values as parsed: numbers (64-bit ints become bigint only past 2^53), strings, booleans, arrays. */
export type GgufValue = number | bigint | string | boolean | GgufValue[];

export interface TensorInfo {
  name: string;
  /** Dimensions as ggml lists them (ne[0] first: the fastest-varying). SafeTensors shapes are reversed to match. */
  dims: number[];
  /** ggml type id (GGUF) or the ggml id of the SafeTensors dtype where one exists (F32 0, F16 1, BF16 30, …). */
  type: number;
  /** ggml / SafeTensors name of the type: 'Q4_K', 'F16', 'unknown(77)'. */
  typeName: string;
  /** Absolute byte offset of the data in its file. */
  offset: number;
  /** Byte size of the data; undefined when the type is unknown (the size cannot be known). */
  size: number | undefined;
  /** Index into `files` for split GGUF / sharded SafeTensors; 0 for single-file models. */
  file: number;
}

export interface WeightTypeShare {
  type: string;
  tensors: number;
  bytes: number;
}

export interface RopeSettings {
  /** 'interleaved' (GGUF llama: Meta's pairs) or 'neox' (halves; Hugging Face, Qwen, Phi, Gemma). */
  layout: 'interleaved' | 'neox';
  freqBase?: number;
  dimensionCount?: number;
  scalingType?: string; // 'none' | 'linear' | 'yarn' | 'llama3' | 'longrope' …
  scalingFactor?: number;
  originalContextLength?: number;
}

export type TokenizerKind = 'spm' | 'bpe' | 'wpm' | 'ugm' | 'rwkv' | 'tokenizer.json' | 'none' | string;

export interface ModelDescriptor {
  /** Where it came from (ByteSource.location of the first file). */
  source: string;
  /** Display name: general.name, the repository, or the file name. */
  name: string;
  format: ModelFormat;
  /** A full model, or a LoRA adapter (which cannot run alone). */
  kind: 'model' | 'adapter';
  /** Lower-case architecture id: 'llama', 'qwen2', 'qwen3', 'phi3', 'gemma', 'gemma2', 'gemma3', or whatever the file says. */
  architecture: string;
  /** Sum of tensor element counts. */
  parameterCount: number;
  weightTypes: WeightTypeShare[];
  /** The file type label (GGUF general.file_type: 'Q4_K_M'), or the dominant dtype for SafeTensors. */
  fileType?: string;
  contextLength?: number;
  embeddingLength?: number;
  blockCount?: number;
  headCount?: number;
  headCountKv?: number;
  headDim?: number;
  feedForwardLength?: number;
  rope?: RopeSettings;
  vocabSize?: number;
  tokenizer?: TokenizerKind;
  hasChatTemplate: boolean;
  totalWeightBytes: number;
  /**
   * The files that make up the model, in order (split GGUF parts, SafeTensors shards). `path` is the file's path in
   * the ModelFileSet it was read through (set by inspectSet), so whoever is handed the descriptor can open the same
   * files from the same reference without reading the header again.
   */
  files: { location: string; size: number; path?: string }[];
  tensors: TensorInfo[];
  /** GGUF only. */
  gguf?: {
    version: number;
    tensorCount: number;
    alignment: number;
    littleEndian: boolean;
    /** Offset of the tensor data section in each file. */
    dataOffsets: number[];
    metadata: Record<string, GgufValue>;
    /** Bytes of header read (metadata + tensor infos), for the benchmark and the UI. */
    headerBytes: number;
  };
  /** SafeTensors only. */
  safetensors?: {
    metadata: Record<string, string>;
    config?: Record<string, unknown>;
    adapterConfig?: Record<string, unknown>;
  };
  /**
   * MLC builds (web-llm) and ONNX exports (transformers.js): ready-made for another engine, described from their
   * JSON files (mlc-chat-config.json + tensor cache, config.json) rather than from tensor headers.
   */
  prebuilt?: PrebuiltInfo;
  /** Notes from parsing that the user should see (e.g. unknown tensor types). */
  warnings: string[];
  /**
   * Why a file that could be read cannot be loaded (a GGUF metadata key written twice, which llama.cpp refuses):
   * the inspector shows everything else, and the verdict is "does not run" with these as its reasons.
   */
  defects?: string[];
}

export interface PrebuiltInfo {
  engine: 'web-llm' | 'transformers.js';
  /** MLC quantization ('q4f16_1', 'q4f32_1') or transformers.js dtype ('q4f16', 'q4', 'fp32'). */
  quantization: string;
  /** GPU features the build needs ('shader-f16' for q4f16 / fp16). */
  requiredFeatures: string[];
  /** The file to load: mlc-chat-config.json, or onnx/model_q4f16.onnx. */
  primary: string;
  /** The folder in the repository the engine loads from ('' for the root). */
  folder: string;
  /** What to open instead on a GPU without the required features, in one sentence. */
  withoutRequiredFeatures?: string;
  /** The other variants in the same repository (ONNX dtypes), by quantization. */
  variants?: { quantization: string; primary: string; size: number; requiredFeatures: string[] }[];
  /** mlc-chat-config.json or config.json as read. */
  config: Record<string, unknown>;
}
