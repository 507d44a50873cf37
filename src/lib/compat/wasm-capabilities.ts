/**
 * GPU-free facts about the CPU engine — llama.cpp's WebAssembly build (@wllama/wllama) — that the matrix and the check
 * read: what it runs, and the limits a model must fit under. The engine itself is src/lib/runtime/wasm-engine.ts.
 */

const GiB = 1024 ** 3;

/**
 * The largest single file the WebAssembly build loads: wllama hands each file to llama.cpp through a 32-bit file
 * interface, so one file (one part of a split GGUF) may not exceed 2 GiB. A split GGUF (`-00001-of-0000N.gguf`) of a
 * larger model loads, part by part.
 */
export const WASM_MAX_FILE_BYTES = 2 * GiB;

/**
 * wasm32 addresses at most 4 GiB; weights, the KV cache and llama.cpp's compute buffers all live in that one memory.
 * Browsers may grant less (mobile Safari caps memory far lower), so this is the most, not a promise.
 */
export const WASM_MEMORY_BYTES = 4 * GiB;

/** llama.cpp keeps its KV cache in f16 by default (wllama's cache_type_k/v): 2 bytes an element, half our f32 cache. */
export const WASM_KV_BYTES_PER_ELEMENT = 2;

/**
 * llama.cpp's own allowance for compute buffers and the wasm runtime itself (its heap, the tokenizer, the sampler):
 * measured peak beyond weights + KV cache on stories260K and a 114 MB Q4_K Llama stays under 64 MiB; 256 MiB leaves
 * room for a 150k-token vocabulary's logits and larger graphs.
 */
export const WASM_RUNTIME_OVERHEAD_BYTES = 256 * 1024 ** 2;

/** The verb the UI uses for the backend, e.g. in the matrix column and the verdict. */
export const WASM_BACKEND_LABEL = 'CPU (WebAssembly)';
