/**
 * Every tensor type id llama.cpp's ggml knows (ggml.h `enum ggml_type`), with its block layout: how many elements
 * one block holds and how many bytes it takes. These are facts of the format, used by the GGUF parser (tensor byte
 * sizes), the compatibility matrix (weight-type names) and the engine (upload and decode).
 *
 * Ids that ggml once had and removed (Q4_2, Q4_3, the repacked Q4_0_x_y / IQ4_NL_x_y layouts) are listed with
 * `removed: true` so a file using them gets "re-convert this file" rather than "unknown type".
 */
export interface GgmlTypeInfo {
  readonly id: number;
  readonly name: string;
  /** Elements per block (1 for plain scalar types). */
  readonly blockSize: number;
  /** Bytes per block. */
  readonly typeSize: number;
  readonly quantized: boolean;
  readonly removed?: boolean;
}

const t = (id: number, name: string, blockSize: number, typeSize: number, removed = false): GgmlTypeInfo => ({
  id,
  name,
  blockSize,
  typeSize,
  quantized: blockSize > 1,
  ...(removed ? { removed: true } : {}),
});

const QK_K = 256;

export const GGML_TYPES: readonly GgmlTypeInfo[] = [
  t(0, 'F32', 1, 4),
  t(1, 'F16', 1, 2),
  t(2, 'Q4_0', 32, 2 + 16),
  t(3, 'Q4_1', 32, 2 + 2 + 16),
  t(4, 'Q4_2', 16, 2 + 8, true),
  t(5, 'Q4_3', 16, 2 + 2 + 8, true),
  t(6, 'Q5_0', 32, 2 + 4 + 16),
  t(7, 'Q5_1', 32, 2 + 2 + 4 + 16),
  t(8, 'Q8_0', 32, 2 + 32),
  t(9, 'Q8_1', 32, 4 + 32),
  t(10, 'Q2_K', QK_K, QK_K / 16 + QK_K / 4 + 2 + 2),
  t(11, 'Q3_K', QK_K, QK_K / 8 + QK_K / 4 + 12 + 2),
  t(12, 'Q4_K', QK_K, 2 + 2 + 12 + QK_K / 2),
  t(13, 'Q5_K', QK_K, 2 + 2 + 12 + QK_K / 8 + QK_K / 2),
  t(14, 'Q6_K', QK_K, QK_K / 2 + QK_K / 4 + QK_K / 16 + 2),
  t(15, 'Q8_K', QK_K, 4 + QK_K + (QK_K / 16) * 2),
  t(16, 'IQ2_XXS', QK_K, 2 + (QK_K / 8) * 2),
  t(17, 'IQ2_XS', QK_K, 2 + (QK_K / 8) * 2 + QK_K / 32),
  t(18, 'IQ3_XXS', QK_K, 2 + (3 * QK_K) / 8),
  t(19, 'IQ1_S', QK_K, 2 + QK_K / 8 + (QK_K / 32) * 2),
  t(20, 'IQ4_NL', 32, 2 + 16),
  t(21, 'IQ3_S', QK_K, 2 + QK_K / 4 + QK_K / 32 + QK_K / 8 + QK_K / 64),
  t(22, 'IQ2_S', QK_K, 2 + QK_K / 4 + QK_K / 32 + QK_K / 32),
  t(23, 'IQ4_XS', QK_K, 2 + 2 + QK_K / 64 + QK_K / 2),
  t(24, 'I8', 1, 1),
  t(25, 'I16', 1, 2),
  t(26, 'I32', 1, 4),
  t(27, 'I64', 1, 8),
  t(28, 'F64', 1, 8),
  t(29, 'IQ1_M', QK_K, QK_K / 8 + QK_K / 16 + QK_K / 32),
  t(30, 'BF16', 1, 2),
  t(31, 'Q4_0_4_4', 32, 18, true),
  t(32, 'Q4_0_4_8', 32, 18, true),
  t(33, 'Q4_0_8_8', 32, 18, true),
  t(34, 'TQ1_0', QK_K, 2 + QK_K / 64 + (QK_K - (4 * QK_K) / 64) / 5),
  t(35, 'TQ2_0', QK_K, 2 + QK_K / 4),
  t(36, 'IQ4_NL_4_4', 32, 18, true),
  t(37, 'IQ4_NL_4_8', 32, 18, true),
  t(38, 'IQ4_NL_8_8', 32, 18, true),
  t(39, 'MXFP4', 32, 1 + 16),
];

const BY_ID = new Map(GGML_TYPES.map((info) => [info.id, info]));
const BY_NAME = new Map(GGML_TYPES.map((info) => [info.name, info]));

/** The type with this id, or undefined when llama.cpp does not know it (report it as unknown; never crash). */
export function ggmlType(id: number): GgmlTypeInfo | undefined {
  return BY_ID.get(id);
}

export function ggmlTypeByName(name: string): GgmlTypeInfo | undefined {
  return BY_NAME.get(name.toUpperCase());
}

/** Name for display: the ggml name, or `unknown(<id>)`. */
export function ggmlTypeName(id: number): string {
  return BY_ID.get(id)?.name ?? `unknown(${id})`;
}

/**
 * Bytes a tensor of `elements` elements takes in this type, or undefined when the type is unknown or removed, or
 * when the element count is not a whole number of blocks (the file is then malformed).
 */
export function ggmlTensorBytes(id: number, elements: number): number | undefined {
  const info = BY_ID.get(id);
  if (!info || info.removed) return undefined;
  if (elements % info.blockSize !== 0) return undefined;
  return (elements / info.blockSize) * info.typeSize;
}

/**
 * llama.cpp's `general.file_type` (enum llama_ftype) → the label users know from file names (Q4_K_M, …).
 * Ids 4, 5 and 6 are historic (Q4_1_SOME_F16, Q4_2, Q4_3), 33–35 the removed repacked Q4_0 layouts.
 */
export const LLAMA_FILE_TYPES: Readonly<Record<number, string>> = {
  0: 'F32',
  1: 'F16',
  2: 'Q4_0',
  3: 'Q4_1',
  4: 'Q4_1_SOME_F16',
  7: 'Q8_0',
  8: 'Q5_0',
  9: 'Q5_1',
  10: 'Q2_K',
  11: 'Q3_K_S',
  12: 'Q3_K_M',
  13: 'Q3_K_L',
  14: 'Q4_K_S',
  15: 'Q4_K_M',
  16: 'Q5_K_S',
  17: 'Q5_K_M',
  18: 'Q6_K',
  19: 'IQ2_XXS',
  20: 'IQ2_XS',
  21: 'Q2_K_S',
  22: 'IQ3_XS',
  23: 'IQ3_XXS',
  24: 'IQ1_S',
  25: 'IQ4_NL',
  26: 'IQ3_S',
  27: 'IQ3_M',
  28: 'IQ2_S',
  29: 'IQ2_M',
  30: 'IQ4_XS',
  31: 'IQ1_M',
  32: 'BF16',
  36: 'TQ1_0',
  37: 'TQ2_0',
  38: 'MXFP4_MOE',
};
