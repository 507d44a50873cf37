// Quantization labels read once (quant-labels.ts): the file list's label, the matrix's file type and the preference
// that picks a repository's default file and a verdict's recommended sibling are the same facts.
import { expect, test } from 'vitest';
import { fileTypeFromName } from '../../../src/lib/compat/check.ts';
import { defaultCandidate, groupModelFiles } from '../../../src/lib/model/model-candidates.ts';
import { LABEL_MAIN_TYPE, PREFERRED_QUANTIZATIONS, preferenceOf, quantizationOf } from '../../../src/lib/formats/quant-labels.ts';

test('labels from the usual file-name spellings: K-quant mixes, plain K types, IQ, MXFP4, fp16, split parts, folders', () => {
  const cases: [string, string | undefined][] = [
    ['Meta-Llama-3-8B-Instruct.Q4_K_M.gguf', 'Q4_K_M'],
    ['qwen2.5-0.5b-instruct-q8_0.gguf', 'Q8_0'],
    ['Llama-3.2-1B-Instruct-IQ2_XXS.gguf', 'IQ2_XXS'],
    ['gemma-2-2b-it-IQ4_XS.gguf', 'IQ4_XS'],
    ['models/model-Q4_K.gguf', 'Q4_K'],
    ['gpt-oss-20b-MXFP4_MOE.gguf', 'MXFP4_MOE'],
    ['phi-3-mini-fp16.gguf', 'F16'],
    ['model.f16.gguf', 'F16'],
    ['model-bf16-00001-of-00003.gguf', 'BF16'],
    ['q4/model.gguf', undefined],
    ['stories260K.gguf', undefined],
    ['README.md', undefined],
  ];
  for (const [name, label] of cases) {
    expect(quantizationOf(name), name).toBe(label);
    expect(fileTypeFromName(name), name).toBe(label);
  }
});

test('the matrix reads the same label as the file list, for every label it maps', () => {
  for (const label of Object.keys(LABEL_MAIN_TYPE)) {
    const name = `SomeModel-7B-${label.toLowerCase()}.gguf`;
    expect(quantizationOf(name), name).toBe(label);
    expect(fileTypeFromName(name), name).toBe(label);
  }
  // A label the matrix does not map is the file list's, not the matrix's.
  expect(quantizationOf('model-Q9_X.gguf')).toBe('Q9_X');
  expect(fileTypeFromName('model-Q9_X.gguf')).toBeUndefined();
});

test("one preference order: a repository's default file is the best-ranked label it has", () => {
  for (const label of PREFERRED_QUANTIZATIONS) expect(LABEL_MAIN_TYPE[label], label).toBeDefined();
  expect(preferenceOf('Q4_K_M')).toBe(0);
  expect(preferenceOf('Q4_K_S')).toBeLessThan(preferenceOf('Q5_K_M'));
  expect(preferenceOf('IQ2_XS')).toBe(PREFERRED_QUANTIZATIONS.length);
  const files = ['Q8_0', 'Q5_K_M', 'Q4_K_S', 'IQ2_XS'].map((q) => ({ path: `m-${q}.gguf`, size: 1 }));
  const candidates = groupModelFiles(files);
  expect(candidates[defaultCandidate(candidates)]!.quantization).toBe('Q4_K_S');
});
