// The llama.cpp tokenizer test vocabularies in ../shared/fixtures/tokenizers and their .inp / .out vectors.
import { readFileSync } from 'node:fs';
import type { GgufValue } from '../../../src/lib/formats/descriptor.ts';
import { readGguf } from '../../../src/lib/formats/gguf.ts';
import { NodeFileSource } from '../../../src/lib/formats/node-file-source.ts';
import { fixture } from '../../support/fixtures.ts';

export const VOCABS = ['llama-spm', 'phi-3', 'gpt-2', 'deepseek-llm', 'starcoder', 'mpt'] as const;
export type VocabName = (typeof VOCABS)[number];

export const vocabPath = (name: VocabName): string => fixture(`tokenizers/ggml-vocab-${name}.gguf`);

const metadataCache = new Map<string, Record<string, GgufValue>>();

export async function vocabMetadata(name: VocabName): Promise<Record<string, GgufValue>> {
  let m = metadataCache.get(name);
  if (!m) {
    const source = await NodeFileSource.open(vocabPath(name));
    try {
      m = (await readGguf(source)).gguf!.metadata;
    } finally {
      await source.close();
    }
    metadataCache.set(name, m);
  }
  return m;
}

export interface Vector {
  text: string;
  ids: number[];
}

/** llama.cpp's format: texts joined by "\n__ggml_vocab_test__\n"; one line of space-separated ids per text. */
export function vectors(name: VocabName): Vector[] {
  const inp = readFileSync(`${vocabPath(name)}.inp`, 'utf8');
  const out = readFileSync(`${vocabPath(name)}.out`, 'utf8');
  const texts = inp.split('\n__ggml_vocab_test__\n');
  // The file ends with a separator line; the last piece is then empty or the trailing newline.
  if (texts.length > 0 && (texts[texts.length - 1] === '' || texts[texts.length - 1] === '\n')) texts.pop();
  const lines = out.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return texts.map((text, i) => ({
    text,
    ids: lines[i].trim() === '' ? [] : lines[i].trim().split(/\s+/).map(Number),
  }));
}
