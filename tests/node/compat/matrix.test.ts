import { describe, expect, test } from 'vitest';
import {
  listedWeightTypes,
  listMatrix,
  listMatrixRows,
  matrixCell,
  normaliseArchitecture,
  WEBGPU_CODE_PATHS,
} from '../../../src/lib/compat/matrix.ts';
import { ARCHITECTURES } from '../../../src/lib/engine/capabilities.ts';
import { BACKENDS, MATRIX_FORMATS, weakest } from '../../../src/lib/compat/verdict.ts';

const ENGINE_TYPES = ['F32', 'F16', 'BF16', 'Q4_0', 'Q4_1', 'Q5_0', 'Q5_1', 'Q8_0', 'Q2_K', 'Q3_K', 'Q4_K', 'Q5_K', 'Q6_K', 'IQ4_NL'];
const PLANNED_TYPES = ['IQ1_S', 'IQ1_M', 'IQ2_XXS', 'IQ2_XS', 'IQ2_S', 'IQ3_XXS', 'IQ3_S', 'IQ4_XS', 'TQ1_0', 'TQ2_0', 'MXFP4'];

describe('the matrix, cell by cell', () => {
  test('llama GGUF: the 14 engine types are expected on WebGPU (never verified without a test)', () => {
    for (const type of ENGINE_TYPES) {
      const c = matrixCell('llama', 'gguf', type, 'webgpu');
      // Verified only once a VERIFIED line names its test (honesty.test.ts checks that test exists).
      expect(c.confidence).toBe(c.test ? 'verified' : 'expected');
      expect([c.engine, c.weightType]).toEqual(['webgpu', type]);
      expect(c.reason.length).toBeGreaterThan(10);
    }
  });

  test('IQ, TQ and MXFP4 types are planned on WebGPU with a reason naming the kernel', () => {
    for (const type of PLANNED_TYPES) {
      const c = matrixCell('llama', 'gguf', type, 'webgpu');
      expect(c.confidence).toBe('planned');
      expect(c.reason).toContain(`${type} kernel is planned`);
    }
  });

  test('other types are unsupported, with the reason why', () => {
    expect(matrixCell('llama', 'gguf', 'Q4_2', 'webgpu').reason).toMatch(/removed; re-convert/);
    expect(matrixCell('llama', 'gguf', 'Q8_K', 'companion-cuda').confidence).toBe('unsupported');
    expect(matrixCell('llama', 'gguf', 'I32', 'webgpu').confidence).toBe('unsupported');
    expect(matrixCell('llama', 'gguf', 'unknown(77)', 'webgpu').reason).toMatch(/unknown\(77\) is not a weight type/);
    expect(matrixCell('llama', 'safetensors', 'F8_E4M3', 'webgpu').reason).toMatch(/SafeTensors F8_E4M3 weights are not a dtype/);
  });

  test('architectures without a WebGPU file are planned; the companion runs every GGUF type llama.cpp has', () => {
    for (const arch of ARCHITECTURES.filter((a) => a !== 'llama')) {
      // Q5_K: a type no family parity test covers, so the cell shows the code path's own confidence.
      const c = matrixCell(arch, 'gguf', 'Q5_K', 'webgpu');
      expect(c.confidence).toBe(WEBGPU_CODE_PATHS[arch].gguf.confidence);
      if (c.confidence === 'planned') expect(c.reason).toBe('architecture file not written yet');
    }
    for (const backend of ['companion-cpu', 'companion-cuda', 'companion-metal'] as const) {
      for (const type of [...ENGINE_TYPES, ...PLANNED_TYPES]) {
        const c = matrixCell('gemma3', 'gguf', type, backend);
        expect([c.confidence, c.engine]).toEqual(['expected', 'companion']);
      }
      expect(matrixCell('llama', 'safetensors', 'F16', backend).confidence).toBe('planned');
      expect(matrixCell('llama', 'mlc', '*', backend).confidence).toBe('unsupported');
    }
  });

  test('MLC goes to web-llm and ONNX to transformers.js, both expected (adapters exist, nothing verifies them)', () => {
    expect(matrixCell('qwen2', 'mlc', '*', 'webgpu')).toMatchObject({ engine: 'web-llm', confidence: 'expected' });
    expect(matrixCell('phi3', 'onnx', '*', 'webgpu')).toMatchObject({ engine: 'transformers.js', confidence: 'expected' });
    // Their builds carry their own graph: an architecture outside rbee-web's list is still expected there.
    expect(matrixCell('gpt_neox', 'mlc', 'q4f32_1', 'webgpu')).toMatchObject({ engine: 'web-llm', confidence: 'expected' });
    expect(matrixCell('gpt_neox', 'onnx', 'q4', 'companion-cpu').confidence).toBe('unsupported');
  });

  test('anything outside the architecture list is unsupported on every backend', () => {
    for (const backend of BACKENDS) {
      const c = matrixCell('rwkv6', 'gguf', 'Q4_K', backend);
      expect([c.confidence, c.engine]).toEqual(['unsupported', 'none']);
    }
  });

  test('names from files and configs map onto the engine architectures', () => {
    expect(normaliseArchitecture('mistral')).toBe('llama');
    expect(normaliseArchitecture('LlamaForCausalLM')).toBe('llama');
    expect(normaliseArchitecture('Qwen2ForCausalLM')).toBe('qwen2');
    expect(normaliseArchitecture('gemma3_text')).toBe('gemma3');
    expect(normaliseArchitecture(' Phi3 ')).toBe('phi3');
    expect(normaliseArchitecture('mistral3')).toBeUndefined();
    expect(normaliseArchitecture('gemma3n')).toBeUndefined();
  });

  test('weakest ranks verified > expected > planned > unsupported', () => {
    expect(weakest(['verified', 'expected'])).toBe('expected');
    expect(weakest(['planned', 'expected', 'unsupported'])).toBe('unsupported');
    expect(weakest([])).toBe('verified');
  });
});

describe('the matrix as a whole', () => {
  test('one row per architecture × format × listed type, one cell per backend, each with a reason', () => {
    const rows = listMatrixRows();
    const perArch = MATRIX_FORMATS.reduce((n, f) => n + listedWeightTypes(f).length, 0);
    expect(perArch).toBe(25 + 3 + 1 + 1);
    expect(rows).toHaveLength(ARCHITECTURES.length * perArch);
    for (const row of rows) {
      expect(Object.keys(row.cells)).toEqual([...BACKENDS]);
      for (const b of BACKENDS) {
        expect(row.cells[b]).toEqual(matrixCell(row.architecture, row.format, row.weightType, b));
        expect(row.cells[b].reason).not.toBe('');
      }
    }
    expect(listMatrix()).toHaveLength(rows.length * BACKENDS.length);
  });

  test('every listed GGUF type is either an engine type or a planned one', () => {
    expect([...listedWeightTypes('gguf')].sort()).toEqual([...ENGINE_TYPES, ...PLANNED_TYPES].sort());
  });
});
