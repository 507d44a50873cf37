/**
 * Random-weight GGUF models of the families beside Llama — Qwen2, Qwen3, Gemma, Gemma 2, Gemma 3, Phi-3 — with
 * llama.cpp's tensor names and metadata keys for each architecture, for the family parity test against llama.cpp.
 * Written at test time, deterministic for a seed; built from the same random tensors as model-generator.ts (norm
 * weights sized so every product gives outputs of about unit RMS).
 *
 * Each family is small (n_embd 256, 2 layers, vocabulary 512) but carries what makes it different, at values where
 * a mistake shows:
 * - qwen2: q/k/v biases, NeoX rope (base 1e6), output tied to token_embd (no output.weight);
 * - qwen3: per-head q/k norms, head_dim 128 from key_length (q is 512 wide with n_embd 256);
 * - gemma: √n_embd embedding scale, GELU gate, tied output, head_dim 64 from key_length, GQA;
 * - gemma2: post-attention/post-FFN norms, attention soft-cap 2 and final soft-cap 40 (both bite at these
 *   sizes), sliding window 4 on layer 0 (pattern 2), head_dim 128;
 * - gemma3: q/k norms, post-norms, window 4 on layer 0, local rope base 10000 and global base 1e6 with linear
 *   scaling ×2;
 * - phi3: fused attn_qkv, fused ffn_up (gate rows then up rows), NeoX rope with LongRoPE short/long factors and
 *   rope.scaling.attn_factor 1.19.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SeededRandom } from '../../src/lib/engine/sampling.ts';
import { ggmlTypeByName } from '../../src/lib/formats/ggml-types.ts';
import { dequantize } from './dequant-reference.ts';
import { writeGguf, type GgufTyped, type GgufWriterTensor } from './gguf-writer.ts';
import { f32Tensor, FILE_TYPE, normWeight, randomTensor, syntheticSpmVocabulary, type GeneratedWeightType } from './model-generator.ts';

export const FAMILIES = ['qwen2', 'qwen3', 'gemma', 'gemma2', 'gemma3', 'phi3'] as const;
export type Family = (typeof FAMILIES)[number];

export interface FamilyModelOptions {
  family: Family;
  weightType: GeneratedWeightType;
  /** Every tensor dequantized to F32 (same weights exactly): llama.cpp then computes without rounding activations. */
  f32Twin?: boolean;
  seed?: number;
  /** Spread of the logits before any soft-cap; default 8. */
  logitStd?: number;
}

interface Shape {
  nHead: number;
  nHeadKv: number;
  headDim: number;
  tiedOutput: boolean;
}

const N_EMBD = 256;
const N_FF = 512;
const N_LAYER = 2;
const N_VOCAB = 512;
const CONTEXT = 512;

const SHAPES: Record<Family, Shape> = {
  qwen2: { nHead: 8, nHeadKv: 2, headDim: 32, tiedOutput: true },
  qwen3: { nHead: 4, nHeadKv: 2, headDim: 128, tiedOutput: false },
  gemma: { nHead: 4, nHeadKv: 2, headDim: 64, tiedOutput: true },
  gemma2: { nHead: 4, nHeadKv: 2, headDim: 128, tiedOutput: true },
  gemma3: { nHead: 4, nHeadKv: 2, headDim: 128, tiedOutput: true },
  phi3: { nHead: 8, nHeadKv: 8, headDim: 32, tiedOutput: false },
};

/** The GGUF bytes of a random-weight model of `family`. */
export function generateFamilyGguf(options: FamilyModelOptions): Uint8Array {
  const { family, weightType } = options;
  const shape = SHAPES[family];
  const random = new SeededRandom(options.seed ?? 7);
  const logitStd = options.logitStd ?? 8;
  const wt = ggmlTypeByName(weightType)!.id;
  const qDim = shape.nHead * shape.headDim;
  const kvDim = shape.nHeadKv * shape.headDim;
  const normFor = (rms: number, n: number) => 1 / (Math.sqrt(n) * rms);
  const tensors: GgufWriterTensor[] = [];
  // Gemma scales the embeddings by √n_embd and ties the output to them: unless the layers add more than the scaled
  // embedding, the last token's own logit wins every step and the model only repeats its input. Larger FFN (Gemma)
  // and post-norm (Gemma 2/3) outputs keep the layers in charge.
  const postNorms = family === 'gemma2' || family === 'gemma3';
  const ffnBoost = family === 'gemma' ? 3 : 1;

  const embd = randomTensor(weightType, N_EMBD * N_VOCAB, random);
  // <unk>, <s>, </s>: all-zero rows, so a random model never ends on EOS (see model-generator.ts).
  const embdRowBytes = embd.data.byteLength / N_VOCAB;
  if (shape.tiedOutput) embd.data.fill(0, 0, 3 * embdRowBytes);
  tensors.push({ name: 'token_embd.weight', dims: [N_EMBD, N_VOCAB], type: wt, data: embd.data });
  let outputRms = embd.rms;
  if (!shape.tiedOutput) {
    const output = randomTensor(weightType, N_EMBD * N_VOCAB, random);
    output.data.fill(0, 0, 3 * (output.data.byteLength / N_VOCAB));
    tensors.push({ name: 'output.weight', dims: [N_EMBD, N_VOCAB], type: wt, data: output.data });
    outputRms = output.rms;
  }
  tensors.push({ name: 'output_norm.weight', dims: [N_EMBD], type: 0, data: normWeight(N_EMBD, logitStd * normFor(outputRms, N_EMBD), random) });

  const bias = (n: number) => {
    const b = new Float32Array(n);
    for (let i = 0; i < n; i++) b[i] = (random.next() * 2 - 1) * 0.5;
    return f32Tensor(b);
  };
  for (let l = 0; l < N_LAYER; l++) {
    const q = randomTensor(weightType, N_EMBD * qDim, random);
    const k = randomTensor(weightType, N_EMBD * kvDim, random);
    const v = randomTensor(weightType, N_EMBD * kvDim, random);
    const o = randomTensor(weightType, qDim * N_EMBD, random);
    const gate = randomTensor(weightType, N_EMBD * N_FF, random);
    const up = randomTensor(weightType, N_EMBD * N_FF, random);
    const down = randomTensor(weightType, N_FF * N_EMBD, random);
    const blk = `blk.${l}`;
    tensors.push({ name: `${blk}.attn_norm.weight`, dims: [N_EMBD], type: 0, data: normWeight(N_EMBD, normFor(q.rms, N_EMBD), random) });
    if (family === 'phi3') {
      tensors.push({ name: `${blk}.attn_qkv.weight`, dims: [N_EMBD, qDim + 2 * kvDim], type: wt, data: concat(q.data, k.data, v.data) });
    } else {
      tensors.push(
        { name: `${blk}.attn_q.weight`, dims: [N_EMBD, qDim], type: wt, data: q.data },
        { name: `${blk}.attn_k.weight`, dims: [N_EMBD, kvDim], type: wt, data: k.data },
        { name: `${blk}.attn_v.weight`, dims: [N_EMBD, kvDim], type: wt, data: v.data },
      );
    }
    if (family === 'qwen2') {
      tensors.push(
        { name: `${blk}.attn_q.bias`, dims: [qDim], type: 0, data: bias(qDim) },
        { name: `${blk}.attn_k.bias`, dims: [kvDim], type: 0, data: bias(kvDim) },
        { name: `${blk}.attn_v.bias`, dims: [kvDim], type: 0, data: bias(kvDim) },
      );
    }
    if (family === 'qwen3' || family === 'gemma3') {
      tensors.push(
        { name: `${blk}.attn_q_norm.weight`, dims: [shape.headDim], type: 0, data: normWeight(shape.headDim, 1, random) },
        { name: `${blk}.attn_k_norm.weight`, dims: [shape.headDim], type: 0, data: normWeight(shape.headDim, 1, random) },
      );
    }
    tensors.push({ name: `${blk}.attn_output.weight`, dims: [qDim, N_EMBD], type: wt, data: o.data });
    if (postNorms) {
      tensors.push({ name: `${blk}.post_attention_norm.weight`, dims: [N_EMBD], type: 0, data: normWeight(N_EMBD, 2, random) });
    }
    tensors.push({ name: `${blk}.ffn_norm.weight`, dims: [N_EMBD], type: 0, data: normWeight(N_EMBD, ffnBoost * normFor(gate.rms, N_EMBD), random) });
    if (family === 'phi3') {
      tensors.push({ name: `${blk}.ffn_up.weight`, dims: [N_EMBD, 2 * N_FF], type: wt, data: concat(gate.data, up.data) });
    } else {
      tensors.push(
        { name: `${blk}.ffn_gate.weight`, dims: [N_EMBD, N_FF], type: wt, data: gate.data },
        { name: `${blk}.ffn_up.weight`, dims: [N_EMBD, N_FF], type: wt, data: up.data },
      );
    }
    tensors.push({ name: `${blk}.ffn_down.weight`, dims: [N_FF, N_EMBD], type: wt, data: down.data });
    if (postNorms) {
      tensors.push({ name: `${blk}.post_ffw_norm.weight`, dims: [N_EMBD], type: 0, data: normWeight(N_EMBD, 4, random) });
    }
  }
  if (family === 'phi3') {
    const factors = (lo: number, hi: number) => {
      const f = new Float32Array(shape.headDim / 2);
      for (let i = 0; i < f.length; i++) f[i] = lo + (hi - lo) * (i / (f.length - 1)) * (0.9 + 0.2 * random.next());
      return f32Tensor(f);
    };
    tensors.push(
      { name: 'rope_factors_long.weight', dims: [shape.headDim / 2], type: 0, data: factors(1, 40) },
      { name: 'rope_factors_short.weight', dims: [shape.headDim / 2], type: 0, data: factors(1, 3) },
    );
  }

  if (options.f32Twin) {
    for (const t of tensors) {
      if (t.type === 0) continue;
      const elements = t.dims.reduce((a, b) => a * b, 1);
      t.data = f32Tensor(dequantize(t.type, t.data!, elements, 1));
      t.type = 0;
    }
  }

  const u32 = (value: number): GgufTyped => ({ type: 'u32', value });
  const f32 = (value: number): GgufTyped => ({ type: 'f32', value });
  const str = (value: string): GgufTyped => ({ type: 'string', value });
  const a = (key: string) => `${family}.${key}`;
  const metadata: [string, GgufTyped | { type: 'array'; itemType: 'string' | 'f32' | 'i32'; value: unknown[] }][] = [
    ['general.architecture', str(family)],
    ['general.name', str(`rbee random model ${weightType}`)],
    ['general.file_type', u32(options.f32Twin ? 0 : FILE_TYPE[weightType])],
    [a('context_length'), u32(CONTEXT)],
    [a('embedding_length'), u32(N_EMBD)],
    [a('block_count'), u32(N_LAYER)],
    [a('feed_forward_length'), u32(N_FF)],
    [a('attention.head_count'), u32(shape.nHead)],
    [a('attention.head_count_kv'), u32(shape.nHeadKv)],
    [a('attention.key_length'), u32(shape.headDim)],
    [a('attention.value_length'), u32(shape.headDim)],
    [a('rope.dimension_count'), u32(shape.headDim)],
    [a('attention.layer_norm_rms_epsilon'), f32(1e-6)],
  ];
  if (family === 'qwen2' || family === 'qwen3') metadata.push([a('rope.freq_base'), f32(1e6)]);
  if (family === 'gemma2') {
    metadata.push(
      [a('attention.sliding_window'), u32(4)],
      [a('attn_logit_softcapping'), f32(2)],
      [a('final_logit_softcapping'), f32(40)],
    );
  }
  if (family === 'gemma3') {
    metadata.push(
      [a('attention.sliding_window'), u32(4)],
      [a('attention.sliding_window_pattern'), u32(2)],
      [a('rope.freq_base'), f32(1e6)],
      [a('rope.freq_base_swa'), f32(10000)],
      [a('rope.scaling.type'), str('linear')],
      [a('rope.scaling.factor'), f32(2)],
    );
  }
  if (family === 'phi3') {
    metadata.push([a('rope.scaling.original_context_length'), u32(256)], [a('rope.scaling.attn_factor'), f32(1.19)]);
  }
  const vocab = syntheticSpmVocabulary(N_VOCAB);
  metadata.push(
    ['tokenizer.ggml.model', str('llama')],
    ['tokenizer.ggml.tokens', { type: 'array', itemType: 'string', value: vocab.tokens }],
    ['tokenizer.ggml.scores', { type: 'array', itemType: 'f32', value: vocab.scores }],
    ['tokenizer.ggml.token_type', { type: 'array', itemType: 'i32', value: vocab.types }],
    ['tokenizer.ggml.bos_token_id', u32(1)],
    ['tokenizer.ggml.eos_token_id', u32(2)],
    ['tokenizer.ggml.unknown_token_id', u32(0)],
  );
  return writeGguf({ version: 3, metadata: metadata as never, tensors });
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/** Writes a family model to `dir`; returns its path. */
export async function writeFamilyModel(dir: string, options: FamilyModelOptions): Promise<string> {
  const path = join(dir, `rbee-${options.family}-${options.weightType.toLowerCase()}${options.f32Twin ? '-f32-twin' : ''}.gguf`);
  await writeFile(path, generateFamilyGguf(options));
  return path;
}
