// Quantization labels read once (quant-labels.ts): the file list's label, the matrix's file type and the preference
// that picks a repository's default file and a verdict's recommended sibling are the same facts.
import { expect, test } from 'vitest';
import { fileTypeFromName } from '../../../src/lib/compat/check.ts';
import { defaultCandidate, groupModelFiles } from '../../../src/lib/loaders/model-candidates.ts';
import { LABEL_MAIN_TYPE, PREFERRED_QUANTIZATIONS, preferenceOf, quantizationOf } from '../../../src/lib/loaders/quant-labels.ts';

test('labels from file names: K-quant mixes, plain K types, IQ, MXFP4, fp16 spellings, split parts and folders', () => {
  expect(quantizationOf('Meta-Llama-3-8B-Instruct.Q4_K_M.gguf')).toBe('Q4_K_M');
  expect(quantizationOf('models/model-Q4_K.gguf')).toBe('Q4_K');
  expect(quantizationOf('gpt-oss-20b-MXFP4_MOE.gguf')).toBe('MXFP4_MOE');
  expect(quantizationOf('phi-3-mini-fp16.gguf')).toBe('F16');
  expect(quantizationOf('model-bf16-00001-of-00003.gguf')).toBe('BF16');
  expect(quantizationOf('q4/model.gguf')).toBeUndefined();
  expect(quantizationOf('README.md')).toBeUndefined();
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
