// The GGUF tokenizers in real Chromium: llama.cpp's vectors for an SPM and two BPE vocabularies, and ~100 KB of
// mixed text tokenized and streamed back exactly. (How fast is measured by bench/tokenize.ts, not asserted here.)
import { describe, expect, test } from 'vitest';
import { server } from 'vitest/browser';
import { readGguf } from '../../../src/lib/formats/gguf.ts';
import { MemoryByteSource } from '../../../src/lib/formats/memory-source.ts';
import { tokenizerFromGguf } from '../../../src/lib/tokenizer/index.ts';
import { benchmarkText } from '../../../bench/tokenize-corpus.ts';
import { randomTexts } from '../../node/tokenizer/random-text.ts';

const root = server.config.root.replace(/\/$/, '');
const base = `/@fs${root.replace(/\/[^/]+$/, '')}/shared/fixtures/tokenizers`;
const present = await fetch(`${base}/ggml-vocab-gpt-2.gguf.inp`, { method: 'HEAD' }).then((r) => r.ok, () => false);

async function load(name: string) {
  const file = `${base}/ggml-vocab-${name}.gguf`;
  const bytes = new Uint8Array(await (await fetch(file)).arrayBuffer());
  const descriptor = await readGguf(new MemoryByteSource(bytes, `ggml-vocab-${name}.gguf`));
  const inp = await (await fetch(`${file}.inp`)).text();
  const out = await (await fetch(`${file}.out`)).text();
  const texts = inp.split('\n__ggml_vocab_test__\n');
  if (texts[texts.length - 1] === '') texts.pop();
  const lines = out.split('\n');
  const cases = texts.map((text, i) => ({ text, ids: lines[i]!.trim() === '' ? [] : lines[i]!.trim().split(/\s+/).map(Number) }));
  return { tokenizer: tokenizerFromGguf(descriptor.gguf!.metadata), cases };
}

describe.runIf(present)('tokenizers in Chromium', () => {
  test.each(['llama-spm', 'gpt-2', 'deepseek-llm'])('%s: llama.cpp vectors equal; 100 KB streams back exactly', async (name) => {
    const { tokenizer, cases } = await load(name);
    const wrong = cases.filter((c) => JSON.stringify(tokenizer.encode(c.text, { addSpecial: false, parseSpecial: false })) !== JSON.stringify(c.ids));
    expect(wrong).toEqual([]);

    // SentencePiece spells spaces '▁': keep that character out so the text can come back byte for byte.
    const text = benchmarkText(cases.map((c) => c.text), randomTexts(500, 9), 102_400).replaceAll('\u2581', '_');
    expect(new TextEncoder().encode(text).length).toBeGreaterThanOrEqual(100_000);
    const started = performance.now();
    const ids = tokenizer.encode(text, { addSpecial: false, parseSpecial: false });
    const ms = performance.now() - started;
    console.log(`${name}: ${ids.length} tokens from ${text.length} chars in ${ms.toFixed(0)} ms (Chromium)`);
    const decoder = tokenizer.streamDecoder({ stripLeadingSpace: tokenizer.kind === 'spm' });
    let back = '';
    for (const id of ids) back += decoder.push(id);
    back += decoder.flush();
    expect(back).toBe(text);
  });
});
