// Descriptors shaped like real models, built in code so the check's arithmetic can be followed by hand.
import type { ModelDescriptor, TensorInfo } from '../../../src/lib/formats/descriptor.ts';
import { ggmlTensorBytes, ggmlTypeByName } from '../../../src/lib/formats/ggml-types.ts';

export interface TensorSpec {
  name: string;
  dims: number[];
  type: string;
}

/** A descriptor whose weight-type mix, sizes and total follow from the tensors given. */
export function descriptorOf(fields: Partial<ModelDescriptor> & { tensorSpecs?: TensorSpec[] }): ModelDescriptor {
  const { tensorSpecs = [], ...rest } = fields;
  let offset = 0;
  const tensors: TensorInfo[] = tensorSpecs.map((spec) => {
    const info = ggmlTypeByName(spec.type);
    const elements = spec.dims.reduce((a, b) => a * b, 1);
    const size = info ? ggmlTensorBytes(info.id, elements) : undefined;
    const t: TensorInfo = { name: spec.name, dims: spec.dims, type: info?.id ?? 77, typeName: info?.name ?? spec.type, offset, size, file: 0 };
    offset += size ?? 0;
    return t;
  });
  const mix = new Map<string, { tensors: number; bytes: number }>();
  for (const t of tensors) {
    const m = mix.get(t.typeName) ?? { tensors: 0, bytes: 0 };
    m.tensors += 1;
    m.bytes += t.size ?? 0;
    mix.set(t.typeName, m);
  }
  return {
    source: '/models/test.gguf',
    name: 'test model',
    format: 'gguf',
    kind: 'model',
    architecture: 'llama',
    parameterCount: tensors.reduce((a, t) => a + t.dims.reduce((x, y) => x * y, 1), 0),
    weightTypes: [...mix].map(([type, m]) => ({ type, ...m })),
    hasChatTemplate: false,
    totalWeightBytes: offset,
    files: [{ location: '/models/test.gguf', size: offset + 4096 }],
    tensors,
    warnings: [],
    ...rest,
  };
}

/** TinyLlama-1.1B's shape (22 layers, 2048 wide, 32 heads / 4 KV heads of 64, FFN 5632, 32k vocab, 2k context). */
export const TINYLLAMA_SHAPE = {
  architecture: 'llama',
  contextLength: 2048,
  embeddingLength: 2048,
  blockCount: 22,
  headCount: 32,
  headCountKv: 4,
  headDim: 64,
  feedForwardLength: 5632,
  vocabSize: 32000,
} satisfies Partial<ModelDescriptor>;

/** Token embedding, output, and one block's matrices in `type` (enough tensors for the mix; sizes are real). */
export function tinyLlamaTensors(type: string, embdType = 'Q6_K'): TensorSpec[] {
  return [
    { name: 'token_embd.weight', dims: [2048, 32000], type: embdType },
    { name: 'output_norm.weight', dims: [2048], type: 'F32' },
    { name: 'blk.0.attn_q.weight', dims: [2048, 2048], type },
    { name: 'blk.0.attn_k.weight', dims: [2048, 256], type },
    { name: 'blk.0.ffn_up.weight', dims: [2048, 5632], type },
    { name: 'blk.0.attn_norm.weight', dims: [2048], type: 'F32' },
  ];
}
