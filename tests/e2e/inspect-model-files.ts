// Model files the end-to-end tests serve: the real stories260K fixture, plus small GGUF files written here for the
// cases no real file covers (hostile metadata, thousands of tensors, broken headers).
import { readFileSync } from 'node:fs';
import { writeGguf, type GgufTyped } from '../support/gguf-writer.ts';
import { fixture } from '../support/fixtures.ts';

export const STORIES = fixture('models/stories260K.gguf');
export const TINY_RANDOM = fixture('models/llama-2-tiny-random.gguf');

export const HOSTILE = '<img src=x onerror="window.__xss=1">';

const llamaMetadata = (name: string): [string, GgufTyped][] => [
  ['general.architecture', { type: 'string', value: 'llama' }],
  ['general.name', { type: 'string', value: name }],
  ['llama.context_length', { type: 'u32', value: 256 }],
  ['llama.embedding_length', { type: 'u32', value: 8 }],
  ['llama.block_count', { type: 'u32', value: 1 }],
  ['llama.attention.head_count', { type: 'u32', value: 2 }],
];

/** A GGUF whose name, a metadata string, a string array and a tensor name carry HTML that must stay text. */
export function hostileGguf(): Uint8Array {
  return writeGguf({
    metadata: [
      ...llamaMetadata(HOSTILE),
      // Multi-line, like every real chat template: the page folds it until asked.
      ['tokenizer.chat_template', { type: 'string', value: `{{ '${HOSTILE}' }}\n<script>window.__xss=2</script>` }],
      ['tokenizer.ggml.tokens', { type: 'array', itemType: 'string', value: ['<b>bold</b>', HOSTILE, 'a'] }],
    ],
    tensors: [{ name: '<svg onload="window.__xss=3">', dims: [8, 2], type: 0, dataSize: 64 }],
  });
}

/** A llama-shaped GGUF with `count` small F32 tensors: the tensor table must stay fast. */
export function manyTensorsGguf(count: number): Uint8Array {
  return writeGguf({
    metadata: llamaMetadata('many tensors'),
    tensors: Array.from({ length: count }, (_, i) => ({ name: `blk.${i}.attn_q.weight`, dims: [8], type: 0, dataSize: 32 })),
  });
}

/** A llama-shaped GGUF with 16 MiB of weights after a small header: opening it must not download them. */
export function bigWeightsGguf(): Uint8Array {
  return writeGguf({
    metadata: llamaMetadata('big weights'),
    tensors: [{ name: 'token_embd.weight', dims: [1024, 4096], type: 0, dataSize: 1024 * 4096 * 4 }],
  });
}

/** The first bytes of a real GGUF: a header that stops in the middle. */
export function truncatedGguf(): Uint8Array {
  return new Uint8Array(readFileSync(STORIES).subarray(0, 200));
}

/** A pre-GGUF llama.cpp file (GGJT magic, as the old .bin files have). */
export function legacyGgjt(): Uint8Array {
  const bytes = new Uint8Array(64);
  bytes.set([0x74, 0x6a, 0x67, 0x67, 3, 0, 0, 0]); // 'tjgg' = uint32 'ggjt' little-endian, version 3
  return bytes;
}
