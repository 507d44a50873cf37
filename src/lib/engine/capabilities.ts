/**
 * What the WebGPU engine can run, as plain data (no GPU, no WGSL): the compatibility matrix and the memory estimate
 * are derived from here and from memory-plan.ts rather than re-typed. The kernels check themselves against it:
 * kernels/weight-formats.ts has a decoder for exactly these types (tests/node/engine/capabilities.test.ts).
 */

/**
 * The architectures the engine has a forward pass for, by GGUF `general.architecture` id (architectures/: one file
 * each). `llama` also covers Mistral and Llama 2/3 (same graph, same tensor names).
 */
export const ARCHITECTURES = ['llama', 'qwen2', 'qwen3', 'phi3', 'gemma', 'gemma2', 'gemma3'] as const;
export type ArchitectureId = (typeof ARCHITECTURES)[number];

/** GGUF weight types the kernels decode (matrix-vector, matrix-matrix and embedding lookup for each), by ggml name. */
export const WEIGHT_TYPES_WITH_KERNELS = ['F32', 'F16', 'BF16', 'Q4_0', 'Q4_1', 'Q5_0', 'Q5_1', 'Q8_0', 'Q2_K', 'Q3_K', 'Q4_K', 'Q5_K', 'Q6_K', 'IQ4_NL'] as const;
