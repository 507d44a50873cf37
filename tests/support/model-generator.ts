/**
 * Random-weight Llama GGUF files in every weight type the engine supports, for the parity tests against llama.cpp
 * and for the benchmark. Written at test time (never committed), deterministic for a given seed.
 *
 * Quantized tensors are random bits — every bit pattern of a block is a valid block, which exercises every branch of
 * a decoder — except the f16 scale fields, which are set to finite values of a sensible size (never NaN/Inf, never
 * f16 subnormals). Because different types then give weights of different sizes, the RMSNorm weights before each
 * matrix are chosen so that every matrix product sees inputs of the right size to give outputs of about unit RMS, and
 * the output norm sets the logits' spread (`logitStd`): wide enough that greedy top-1 margins are usually clear.
 *
 *   const bytes = generateLlamaGguf({ weightType: 'Q4_K' });
 *   const path = await writeGeneratedModel(dir, { weightType: 'Q8_0', embeddingLength: 1024, blockCount: 12 });
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ggmlTypeByName } from '../../src/lib/formats/ggml-types.ts';
import { SeededRandom } from '../../src/lib/engine/sampling.ts';
import { dequantize } from './dequant-reference.ts';
import { writeGguf, type GgufTyped, type GgufWriterTensor } from './gguf-writer.ts';

/** The weight types the engine must run (issue 3), in the order the parity test reports them. */
export const GENERATED_WEIGHT_TYPES = [
  'F32',
  'F16',
  'BF16',
  'Q8_0',
  'Q4_0',
  'Q4_1',
  'Q5_0',
  'Q5_1',
  'Q2_K',
  'Q3_K',
  'Q4_K',
  'Q5_K',
  'Q6_K',
  'IQ4_NL',
] as const;
export type GeneratedWeightType = (typeof GENERATED_WEIGHT_TYPES)[number];

export interface GeneratedModelOptions {
  /** Type of every matrix (attention, FFN). */
  weightType: GeneratedWeightType;
  /** Type of token_embd.weight (default: weightType — llama.cpp's quantizer quantizes it too). */
  embeddingType?: GeneratedWeightType;
  /** Type of output.weight (default: weightType). */
  outputType?: GeneratedWeightType;
  /** Multiples of 256 (the K-quant block) — default 256. */
  embeddingLength?: number;
  /** Multiple of 256 — default 512. */
  feedForwardLength?: number;
  blockCount?: number; // default 2
  headCount?: number; // default 8
  headCountKv?: number; // default 2 (grouped-query attention)
  vocabSize?: number; // default 512 (synthetic SentencePiece vocabulary)
  contextLength?: number; // default 512
  ropeFreqBase?: number; // default 10000
  /** Spread (standard deviation) of the logits; default 8. */
  logitStd?: number;
  seed?: number; // default 1
  name?: string;
  /**
   * Write the same model with every tensor dequantized to F32 (same seed, same weights, exactly): llama.cpp runs
   * it without rounding activations, the reference for our quantized kernels.
   */
  f32Twin?: boolean;
}

/**
 * The 1024 × 12 Llama shape of bench/decode.ts's generated models (114 MB at Q4_K, 32k vocabulary): big enough that
 * the products, not per-dispatch overhead, decide the speed; tests that need "a 114 MB Q4_K Llama" use it too.
 */
export const LLAMA_1024X12: Omit<GeneratedModelOptions, 'weightType'> = {
  embeddingLength: 1024,
  feedForwardLength: 2816,
  blockCount: 12,
  headCount: 16,
  headCountKv: 4,
  vocabSize: 32000,
  contextLength: 512,
  seed: 7,
};

/** llama.cpp's `general.file_type` for a file whose matrices are all of this type. */
export const FILE_TYPE: Record<GeneratedWeightType, number> = {
  F32: 0,
  F16: 1,
  Q4_0: 2,
  Q4_1: 3,
  Q8_0: 7,
  Q5_0: 8,
  Q5_1: 9,
  Q2_K: 10,
  Q3_K: 12,
  Q4_K: 15,
  Q5_K: 17,
  Q6_K: 18,
  IQ4_NL: 25,
  BF16: 32,
};

/** Target RMS of a weight before the f16-normal clamp below. */
const TARGET_WEIGHT_RMS = 0.05;
/** Smallest block scale we write: far from the f16 subnormal range (< 6.1e-5), where decoders may flush to zero. */
const MIN_BLOCK_SCALE = 2 ** -12;

/**
 * How a quantized block keeps its scales: byte offsets of the f16 `d` and of the f16 min field (if any) and what the
 * min is relative to `d` (chosen to centre the block's values near zero), and the RMS of a block's values for d = 1
 * with uniformly random bits (worked out from each format's decoding formula).
 */
interface BlockScales {
  d: number;
  min?: { offset: number; ratio: number };
  unitRms: number;
}

const BLOCK_SCALES: Partial<Record<GeneratedWeightType, BlockScales>> = {
  Q4_0: { d: 0, unitRms: 4.64 }, // d·(q−8), q ∈ 0..15
  Q4_1: { d: 0, min: { offset: 2, ratio: -7.5 }, unitRms: 4.61 }, // d·q + m
  Q5_0: { d: 0, unitRms: 9.25 }, // d·(q−16), q ∈ 0..31
  Q5_1: { d: 0, min: { offset: 2, ratio: -15.5 }, unitRms: 9.23 },
  Q8_0: { d: 0, unitRms: 73.9 }, // d·q, q ∈ −128..127
  IQ4_NL: { d: 0, unitRms: 67.4 }, // d·kvalues[q], the non-linear 16-value grid
  Q2_K: { d: 80, min: { offset: 82, ratio: 1.5 }, unitRms: 13.9 }, // d·sc·q − dmin·m, 4-bit sc/m, q ∈ 0..3
  Q3_K: { d: 108, unitRms: 43.3 }, // d·(sc−32)·q, 6-bit sc, q ∈ −4..3
  Q4_K: { d: 0, min: { offset: 2, ratio: 7.5 }, unitRms: 258 }, // d·sc·q − dmin·m, 6-bit sc/m, q ∈ 0..15
  Q5_K: { d: 0, min: { offset: 2, ratio: 15.5 }, unitRms: 527 }, // q ∈ 0..31
  Q6_K: { d: 208, unitRms: 1366 }, // d·sc·(q−32), 8-bit signed sc, q ∈ 0..63
};

/** A tensor's bytes with random weights of about `rms` RMS... or, for quantized types, as close as the format allows. */
export interface RandomTensor {
  data: Uint8Array;
  /** The RMS the weights actually have (for the norms that compensate). */
  rms: number;
}

export function randomTensor(type: GeneratedWeightType, elements: number, random: SeededRandom): RandomTensor {
  const info = ggmlTypeByName(type)!;
  const bytes = new Uint8Array((elements / info.blockSize) * info.typeSize);
  if (type === 'F32' || type === 'F16' || type === 'BF16') {
    const half = TARGET_WEIGHT_RMS * Math.sqrt(3); // uniform on [−half, half] has RMS half/√3
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < elements; i++) {
      const v = (random.next() * 2 - 1) * half;
      if (type === 'F32') view.setFloat32(i * 4, v, true);
      else view.setUint16(i * 2, type === 'F16' ? f32ToF16(v) : f32ToBf16(v), true);
    }
    return { data: bytes, rms: TARGET_WEIGHT_RMS };
  }
  const scales = BLOCK_SCALES[type]!;
  fillRandom(bytes, random);
  const d = Math.max(TARGET_WEIGHT_RMS / scales.unitRms, MIN_BLOCK_SCALE);
  const view = new DataView(bytes.buffer);
  const blocks = elements / info.blockSize;
  for (let b = 0; b < blocks; b++) {
    const base = b * info.typeSize;
    // Size varies ±25% per block; the sign is random, so no format's off-centre grid (Q4_0's q−8 has mean −½)
    // leaves a common-mode bias that would make every hidden state alike and the model repeat one token.
    const blockD = d * (0.75 + 0.5 * random.next()) * (random.next() < 0.5 ? -1 : 1);
    view.setUint16(base + scales.d, f32ToF16(blockD), true);
    if (scales.min) view.setUint16(base + scales.min.offset, f32ToF16(blockD * scales.min.ratio), true);
  }
  return { data: bytes, rms: d * scales.unitRms };
}

function fillRandom(bytes: Uint8Array, random: SeededRandom): void {
  const whole = bytes.byteLength >>> 2;
  const words = new Uint32Array(bytes.buffer, bytes.byteOffset, whole);
  for (let i = 0; i < whole; i++) words[i] = random.nextUint32();
  for (let i = whole * 4; i < bytes.byteLength; i++) bytes[i] = random.nextUint32() & 0xff;
}

export function f32Tensor(values: Float32Array): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

/** A norm weight: `scale` with ±20% per element, so a kernel that ignores the weight or mis-indexes it shows. */
export function normWeight(n: number, scale: number, random: SeededRandom): Uint8Array {
  const w = new Float32Array(n);
  for (let i = 0; i < n; i++) w[i] = scale * (0.8 + 0.4 * random.next());
  return f32Tensor(w);
}

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** IEEE half, round to nearest even (finite inputs in half range only, which is all we write). */
export function f32ToF16(value: number): number {
  f32Scratch[0] = value;
  const x = u32Scratch[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  let e = exp - 127 + 15;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rest > mid || (rest === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++; // may carry into the exponent: still correct
  return sign | half;
}

/** bfloat16: the top half of an f32, round to nearest even. */
export function f32ToBf16(value: number): number {
  f32Scratch[0] = value;
  const x = u32Scratch[0]!;
  const rounded = x + 0x7fff + ((x >>> 16) & 1);
  return (rounded >>> 16) & 0xffff;
}

/**
 * A SentencePiece ("llama") vocabulary llama.cpp accepts: <unk>, <s>, </s>, the 256 byte-fallback tokens and then
 * plain pieces (letters, '▁'-prefixed words) with decreasing scores. Pieces are synthetic but unique.
 */
export function syntheticSpmVocabulary(size: number): { tokens: string[]; scores: number[]; types: number[] } {
  const tokens = ['<unk>', '<s>', '</s>'];
  const types = [2, 3, 3]; // unknown, control, control
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
    types.push(6); // byte
  }
  const letters = 'etaoinshrdlcumwfgypbvkjxqz';
  const word = (n: number): string => {
    let s = '';
    do {
      s += letters[n % 26];
      n = Math.floor(n / 26);
    } while (n > 0);
    return s;
  };
  const seen = new Set(tokens);
  for (let i = 0; tokens.length < size; i++) {
    const piece = i % 3 === 1 ? word(i) : `▁${word(i)}`;
    if (seen.has(piece)) continue;
    seen.add(piece);
    tokens.push(piece);
    types.push(1); // normal
  }
  tokens.length = size;
  types.length = size;
  const scores = tokens.map((_, i) => (i < 259 ? 0 : -(i - 259)));
  return { tokens, scores, types };
}

/** The GGUF bytes of a random-weight Llama model. */
export function generateLlamaGguf(options: GeneratedModelOptions): Uint8Array {
  const o = {
    embeddingLength: 256,
    feedForwardLength: 512,
    blockCount: 2,
    headCount: 8,
    headCountKv: 2,
    vocabSize: 512,
    contextLength: 512,
    ropeFreqBase: 10000,
    logitStd: 8,
    seed: 1,
    ...options,
  };
  const { embeddingLength: nEmbd, feedForwardLength: nFf, headCount, headCountKv, vocabSize } = o;
  for (const [what, v] of [
    ['embeddingLength', nEmbd],
    ['feedForwardLength', nFf],
  ] as const) {
    if (v % 256 !== 0) throw new Error(`${what} must be a multiple of 256 (the K-quant block), not ${v}`);
  }
  if (nEmbd % headCount !== 0 || headCount % headCountKv !== 0) throw new Error('heads must divide the embedding and each other');
  const headDim = nEmbd / headCount;
  const random = new SeededRandom(o.seed);
  const embeddingType = o.embeddingType ?? o.weightType;
  const outputType = o.outputType ?? o.weightType;
  const type = (name: GeneratedWeightType) => ggmlTypeByName(name)!.id;

  const tensors: GgufWriterTensor[] = [];
  // Norm scale so that a matrix of weight RMS `rms` over n inputs gives outputs of unit RMS: 1 / (√n · rms).
  const normFor = (rms: number, n: number) => 1 / (Math.sqrt(n) * rms);

  const embd = randomTensor(embeddingType, nEmbd * vocabSize, random);
  tensors.push({ name: 'token_embd.weight', dims: [nEmbd, vocabSize], type: type(embeddingType), data: embd.data });
  const output = randomTensor(outputType, nEmbd * vocabSize, random);
  // <unk>, <s>, </s> get all-zero rows (logit 0, never near the top): a random model then never ends on EOS and
  // every comparison runs its full length. All-zero bytes are a zero row in every type (scales 0 ⇒ values 0).
  const rowBytes = output.data.byteLength / vocabSize;
  output.data.fill(0, 0, 3 * rowBytes);
  tensors.push({ name: 'output_norm.weight', dims: [nEmbd], type: 0, data: normWeight(nEmbd, o.logitStd * normFor(output.rms, nEmbd), random) });
  tensors.push({ name: 'output.weight', dims: [nEmbd, vocabSize], type: type(outputType), data: output.data });

  const wt = type(o.weightType);
  for (let l = 0; l < o.blockCount; l++) {
    const q = randomTensor(o.weightType, nEmbd * nEmbd, random);
    const k = randomTensor(o.weightType, nEmbd * headCountKv * headDim, random);
    const v = randomTensor(o.weightType, nEmbd * headCountKv * headDim, random);
    const out = randomTensor(o.weightType, nEmbd * nEmbd, random);
    const gate = randomTensor(o.weightType, nEmbd * nFf, random);
    const up = randomTensor(o.weightType, nEmbd * nFf, random);
    const down = randomTensor(o.weightType, nFf * nEmbd, random);
    tensors.push(
      { name: `blk.${l}.attn_norm.weight`, dims: [nEmbd], type: 0, data: normWeight(nEmbd, normFor(q.rms, nEmbd), random) },
      { name: `blk.${l}.attn_q.weight`, dims: [nEmbd, nEmbd], type: wt, data: q.data },
      { name: `blk.${l}.attn_k.weight`, dims: [nEmbd, headCountKv * headDim], type: wt, data: k.data },
      { name: `blk.${l}.attn_v.weight`, dims: [nEmbd, headCountKv * headDim], type: wt, data: v.data },
      { name: `blk.${l}.attn_output.weight`, dims: [nEmbd, nEmbd], type: wt, data: out.data },
      { name: `blk.${l}.ffn_norm.weight`, dims: [nEmbd], type: 0, data: normWeight(nEmbd, normFor(gate.rms, nEmbd), random) },
      { name: `blk.${l}.ffn_gate.weight`, dims: [nEmbd, nFf], type: wt, data: gate.data },
      { name: `blk.${l}.ffn_up.weight`, dims: [nEmbd, nFf], type: wt, data: up.data },
      { name: `blk.${l}.ffn_down.weight`, dims: [nFf, nEmbd], type: wt, data: down.data },
    );
  }

  if (o.f32Twin) {
    for (const t of tensors) {
      if (t.type === 0) continue;
      const elements = t.dims.reduce((a, b) => a * b, 1);
      t.data = f32Tensor(dequantize(t.type, t.data!, elements, 1));
      t.type = 0;
    }
  }

  const vocab = syntheticSpmVocabulary(vocabSize);
  const u32 = (value: number): GgufTyped => ({ type: 'u32', value });
  const f32 = (value: number): GgufTyped => ({ type: 'f32', value });
  return writeGguf({
    version: 3,
    metadata: [
      ['general.architecture', { type: 'string', value: 'llama' }],
      ['general.name', { type: 'string', value: o.name ?? `rbee random llama ${o.weightType}` }],
      ['general.file_type', u32(o.f32Twin ? 0 : FILE_TYPE[o.weightType])],
      ['llama.context_length', u32(o.contextLength)],
      ['llama.embedding_length', u32(nEmbd)],
      ['llama.block_count', u32(o.blockCount)],
      ['llama.feed_forward_length', u32(nFf)],
      ['llama.rope.dimension_count', u32(headDim)],
      ['llama.rope.freq_base', f32(o.ropeFreqBase)],
      ['llama.attention.head_count', u32(headCount)],
      ['llama.attention.head_count_kv', u32(headCountKv)],
      ['llama.attention.layer_norm_rms_epsilon', f32(1e-5)],
      ['tokenizer.ggml.model', { type: 'string', value: 'llama' }],
      ['tokenizer.ggml.tokens', { type: 'array', itemType: 'string', value: vocab.tokens }],
      ['tokenizer.ggml.scores', { type: 'array', itemType: 'f32', value: vocab.scores }],
      ['tokenizer.ggml.token_type', { type: 'array', itemType: 'i32', value: vocab.types }],
      ['tokenizer.ggml.bos_token_id', u32(1)],
      ['tokenizer.ggml.eos_token_id', u32(2)],
      ['tokenizer.ggml.unknown_token_id', u32(0)],
    ],
    tensors,
  });
}

/** Writes a generated model to `dir` and returns its path (`<name or rbee-random-TYPE>.gguf`). */
export async function writeGeneratedModel(dir: string, options: GeneratedModelOptions, fileName?: string): Promise<string> {
  const path = join(dir, fileName ?? `rbee-random-${options.weightType.toLowerCase()}${options.f32Twin ? '-f32-twin' : ''}.gguf`);
  await writeFile(path, generateLlamaGguf(options));
  return path;
}
