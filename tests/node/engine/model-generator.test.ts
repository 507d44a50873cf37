import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ggmlTensorBytes } from '../../../src/lib/formats/ggml-types.ts';
import { readGguf } from '../../../src/lib/formats/gguf.ts';
import { MemoryByteSource } from '../../../src/lib/formats/memory-source.ts';
import {
  f32ToBf16,
  f32ToF16,
  GENERATED_WEIGHT_TYPES,
  generateLlamaGguf,
  syntheticSpmVocabulary,
  writeGeneratedModel,
} from '../../support/model-generator.ts';
import { f16ToF32 } from '../../support/dequant-reference.ts';
import { oracleGreedy } from '../../support/oracle.ts';

describe('half-precision encoders', () => {
  test('f16: exact values, rounding to nearest even, overflow, subnormals', () => {
    expect(f32ToF16(1)).toBe(0x3c00);
    expect(f32ToF16(-2)).toBe(0xc000);
    expect(f32ToF16(65504)).toBe(0x7bff);
    expect(f32ToF16(1e6)).toBe(0x7c00);
    expect(f32ToF16(2 ** -24)).toBe(0x0001);
    expect(f32ToF16(1 + 2 ** -11)).toBe(0x3c00); // halfway: even
    expect(f32ToF16(1 + 3 * 2 ** -11)).toBe(0x3c02); // halfway: even (up)
    for (const v of [0.1, -0.033, 3.14159, 1234.5, 6.2e-5]) expect(Math.abs(f16ToF32(f32ToF16(v)) - v) / Math.abs(v)).toBeLessThan(1e-3);
  });

  test('bf16: the top half of an f32, rounded', () => {
    expect(f32ToBf16(1)).toBe(0x3f80);
    expect(f32ToBf16(-0.5)).toBe(0xbf00);
    expect(f32ToBf16(1 + 2 ** -8)).toBe(0x3f80); // halfway: even
  });
});

test('the synthetic SentencePiece vocabulary has specials, 256 byte tokens and unique pieces', () => {
  const v = syntheticSpmVocabulary(512);
  expect(v.tokens.length).toBe(512);
  expect(new Set(v.tokens).size).toBe(512);
  expect(v.tokens.slice(0, 4)).toEqual(['<unk>', '<s>', '</s>', '<0x00>']);
  expect(v.tokens[258]).toBe('<0xFF>');
  expect(v.types.filter((t) => t === 6).length).toBe(256);
});

describe('generated GGUF files', () => {
  test.each(GENERATED_WEIGHT_TYPES)('%s: a llama header, tensors of the right size and type, finite block scales', async (type) => {
    const bytes = generateLlamaGguf({ weightType: type });
    const d = await readGguf(new MemoryByteSource(bytes, `${type}.gguf`));
    expect(d.architecture).toBe('llama');
    expect(d.headCountKv).toBe(2);
    expect(d.blockCount).toBe(2);
    expect(d.tokenizer).toBe('spm');
    const q = d.tensors.find((t) => t.name === 'blk.0.attn_q.weight')!;
    expect(q.typeName).toBe(type);
    expect(d.tensors.find((t) => t.name === 'blk.1.ffn_down.weight')!.typeName).toBe(type);
    expect(d.tensors.find((t) => t.name === 'output_norm.weight')!.typeName).toBe('F32');
    // Every block's f16 scale (at the start for most formats) decodes to a finite, non-subnormal number.
    const size = ggmlTensorBytes(q.type, q.dims[0]! * q.dims[1]!)!;
    expect(q.size).toBe(size);
    const data = bytes.subarray(q.offset, q.offset + size);
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const dOffset: Partial<Record<string, [number, number]>> = {
      Q4_0: [0, 18], Q4_1: [0, 20], Q5_0: [0, 22], Q5_1: [0, 24], Q8_0: [0, 34], IQ4_NL: [0, 18],
      Q2_K: [80, 84], Q3_K: [108, 110], Q4_K: [0, 144], Q5_K: [0, 176], Q6_K: [208, 210],
    };
    const at = dOffset[type];
    if (at) {
      for (let b = 0; b * at[1] < size; b++) {
        const scale = f16ToF32(view.getUint16(b * at[1] + at[0], true));
        expect(Number.isFinite(scale)).toBe(true);
        expect(Math.abs(scale)).toBeGreaterThanOrEqual(2 ** -14);
      }
    }
  });

  test('the same seed writes the same bytes; another seed other weights', () => {
    const a = generateLlamaGguf({ weightType: 'Q4_K', seed: 5 });
    const same = (x: Uint8Array, y: Uint8Array) => Buffer.from(x).equals(Buffer.from(y));
    expect(same(generateLlamaGguf({ weightType: 'Q4_K', seed: 5 }), a)).toBe(true);
    expect(same(generateLlamaGguf({ weightType: 'Q4_K', seed: 6 }), a)).toBe(false);
  });

  test('llama.cpp loads a generated model and is confident in its top token (logits neither flat nor NaN)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rbee-gen-test-'));
    try {
      const path = await writeGeneratedModel(dir, { weightType: 'Q4_K' });
      const run = await oracleGreedy(path, [1, 300, 301, 302], 8);
      expect(run.tokens.length).toBe(8);
      const mean = run.steps.reduce((s, x) => s + x.probability, 0) / run.steps.length;
      expect(mean).toBeGreaterThan(0.3); // 512 tokens: a flat distribution would give ~0.002
      expect(run.tokens.every((t) => t > 2)).toBe(true); // specials are silenced
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
