/**
 * Quantization labels, the words in GGUF file names ("…-Q4_K_M.gguf", "….f16.gguf") and in llama.cpp's
 * `general.file_type`: read from a name once, mapped to the weight type that decides where a file runs, and ranked
 * once — the default file of a repository (model-candidates.ts) and the sibling a verdict recommends (compat/check.ts)
 * follow the same order.
 */

const QUANT = /(?:^|[-._])(I?Q\d(?:_[A-Z0-9]+)*|TQ\d_\d|MXFP4(?:_MOE)?|BF16|F16|FP16|F32|FP32)(?=[-._]|$)/i;

/** The quantization label in a file name ("Meta-Llama-3-8B-Instruct.Q4_K_M.gguf" → "Q4_K_M"), if it has one. */
export function quantizationOf(fileName: string): string | undefined {
  const base = fileName.slice(fileName.lastIndexOf('/') + 1);
  const stem = base.replace(/\.(gguf|safetensors)$/i, '').replace(/-\d{5}-of-\d{5}$/, '');
  const m = QUANT.exec(stem);
  if (!m) return undefined;
  const q = m[1]!.toUpperCase();
  return q === 'FP16' ? 'F16' : q === 'FP32' ? 'F32' : q;
}

/** What a label's weights mostly are (the type that decides where it runs); labels of llama.cpp's quantizer. */
export const LABEL_MAIN_TYPE: Readonly<Record<string, string>> = {
  F32: 'F32',
  F16: 'F16',
  BF16: 'BF16',
  Q4_0: 'Q4_0',
  Q4_1: 'Q4_1',
  Q4_1_SOME_F16: 'Q4_1',
  Q5_0: 'Q5_0',
  Q5_1: 'Q5_1',
  Q8_0: 'Q8_0',
  Q2_K: 'Q2_K',
  Q2_K_S: 'Q2_K',
  Q3_K: 'Q3_K',
  Q3_K_S: 'Q3_K',
  Q3_K_M: 'Q3_K',
  Q3_K_L: 'Q3_K',
  Q4_K: 'Q4_K',
  Q4_K_S: 'Q4_K',
  Q4_K_M: 'Q4_K',
  Q5_K: 'Q5_K',
  Q5_K_S: 'Q5_K',
  Q5_K_M: 'Q5_K',
  Q6_K: 'Q6_K',
  IQ1_S: 'IQ1_S',
  IQ1_M: 'IQ1_M',
  IQ2_XXS: 'IQ2_XXS',
  IQ2_XS: 'IQ2_XS',
  IQ2_S: 'IQ2_S',
  IQ2_M: 'IQ2_S',
  IQ3_XXS: 'IQ3_XXS',
  IQ3_XS: 'IQ3_S',
  IQ3_S: 'IQ3_S',
  IQ3_M: 'IQ3_S',
  IQ4_NL: 'IQ4_NL',
  IQ4_XS: 'IQ4_XS',
  TQ1_0: 'TQ1_0',
  TQ2_0: 'TQ2_0',
  MXFP4: 'MXFP4',
  MXFP4_MOE: 'MXFP4',
};

/**
 * When several files of a model would do, the one people usually want first in a browser, where every byte is
 * downloaded: the 4-bit K-quants and Q5_K_M (small and close to full quality), the other 4-bit types, then the larger
 * ones, the older 5-bit types, the 3-bit mixes, and unquantized last.
 */
export const PREFERRED_QUANTIZATIONS = [
  'Q4_K_M', 'Q4_K_S', 'Q5_K_M', 'Q4_0', 'IQ4_NL', 'Q5_K_S', 'Q6_K', 'Q8_0', 'Q4_1', 'Q5_0', 'Q5_1', 'Q3_K_L', 'Q3_K_M',
  'F16', 'BF16', 'F32',
] as const;

/** A label's place in PREFERRED_QUANTIZATIONS (labels not in it after all of them). */
export function preferenceOf(label: string | undefined): number {
  const i = label === undefined ? -1 : (PREFERRED_QUANTIZATIONS as readonly string[]).indexOf(label);
  return i < 0 ? PREFERRED_QUANTIZATIONS.length : i;
}
