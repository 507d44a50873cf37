/**
 * Tokenizer benchmark: ~100 KB of mixed text (bench/tokenize-corpus.ts) per llama.cpp test vocabulary, tokenized by
 * our GGUF tokenizer in Chromium and in Node, and by llama.cpp itself (node-llama-cpp, CPU build) in the same run.
 * Also checks that our ids equal llama.cpp's for the whole text.
 *
 *   npx tsx bench/tokenize.ts [--runs 5] [--vocab gpt-2,llama-spm]
 *
 * "cold" is the first call on a fresh tokenizer (no JIT warm-up, empty word cache); "warm" the best of the later runs
 * (the best, not the median, so that other processes on a shared machine distort the figures less; same rule for all).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { build } from 'esbuild';
import { getLlama, LlamaLogLevel } from 'node-llama-cpp';
import { chromium } from 'playwright';
import { tokenizerFromGguf } from '../src/lib/tokenizer/index.ts';
import { chromiumArgs, chromiumPath } from '../src/cli/browser-harness/chromium.js';
import { HAS_FIXTURES, REPO_ROOT } from '../tests/support/fixtures.ts';
import { randomTexts } from '../tests/node/tokenizer/random-text.ts';
import { VOCABS, vectors, vocabMetadata, vocabPath, type VocabName } from '../tests/node/tokenizer/vocab-fixtures.ts';
import { benchmarkText } from './tokenize-corpus.ts';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const RUNS = Number(arg('runs') ?? 5);
const only = arg('vocab')?.split(',');
const vocabs = VOCABS.filter((v) => !only || only.includes(v));

const best = (xs: number[]) => Math.min(...xs);
const ms = (x: number) => `${x.toFixed(0)} ms`;

function timeRuns(f: () => unknown): { cold: number; warm: number } {
  let t = performance.now();
  f();
  const cold = performance.now() - t;
  const warm: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    t = performance.now();
    f();
    warm.push(performance.now() - t);
  }
  return { cold, warm: best(warm) };
}

/** Our tokenizer bundled for the page, fed the vocabulary bytes; returns the same timings measured in Chromium. */
async function chromiumTimings(texts: Map<VocabName, string>): Promise<Map<VocabName, { cold: number; warm: number; tokens: number }>> {
  const bundle = await build({
    stdin: {
      contents: `export { tokenizerFromGguf } from './src/lib/tokenizer/gguf-tokenizer.ts';
                 export { readGguf } from './src/lib/formats/gguf.ts';
                 export { MemoryByteSource } from './src/lib/formats/memory-source.ts';`,
      resolveDir: REPO_ROOT,
      loader: 'ts',
    },
    bundle: true,
    format: 'iife',
    globalName: 'rbeeTokenizer',
    platform: 'browser',
    write: false,
    logLevel: 'silent',
  });
  const browser = await chromium.launch({ executablePath: chromiumPath(), args: chromiumArgs });
  const out = new Map<VocabName, { cold: number; warm: number; tokens: number }>();
  try {
    const page = await browser.newPage();
    await page.route('http://bench.invalid/**', async (route) => {
      const path = new URL(route.request().url()).pathname;
      if (path === '/') return route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>tokenize bench</title>' });
      const name = path.slice(1) as VocabName;
      return route.fulfill({ contentType: 'application/octet-stream', body: readFileSync(vocabPath(name)) });
    });
    await page.goto('http://bench.invalid/');
    await page.addScriptTag({ content: bundle.outputFiles[0]!.text });
    for (const [name, text] of texts) {
      const r = await page.evaluate(
        async ({ name, text, runs }) => {
          const lib = (globalThis as unknown as { rbeeTokenizer: typeof import('../src/lib/tokenizer/gguf-tokenizer.ts') & typeof import('../src/lib/formats/gguf.ts') & typeof import('../src/lib/formats/memory-source.ts') }).rbeeTokenizer;
          const bytes = new Uint8Array(await (await fetch(`/${name}`)).arrayBuffer());
          const descriptor = await lib.readGguf(new lib.MemoryByteSource(bytes, name));
          const tokenizer = lib.tokenizerFromGguf(descriptor.gguf!.metadata);
          let t = performance.now();
          const ids = tokenizer.encode(text, { addSpecial: false, parseSpecial: false });
          const cold = performance.now() - t;
          const warm: number[] = [];
          for (let i = 0; i < runs; i++) {
            t = performance.now();
            tokenizer.encode(text, { addSpecial: false, parseSpecial: false });
            warm.push(performance.now() - t);
          }
          return { cold, warm: Math.min(...warm), tokens: ids.length };
        },
        { name, text, runs: RUNS },
      );
      out.set(name, r);
    }
  } finally {
    await browser.close();
  }
  return out;
}

async function main(): Promise<void> {
  if (!HAS_FIXTURES) {
    console.log('No ../shared/fixtures here: nothing to benchmark.');
    return;
  }
  const texts = new Map<VocabName, string>();
  for (const name of vocabs) texts.set(name, benchmarkText(vectors(name).map((v) => v.text), randomTexts(500, 9), 102_400));
  const bytes = new TextEncoder().encode(texts.get(vocabs[0]!)!).length;

  const browser = await chromiumTimings(texts);
  const llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.disabled });
  const rows: string[] = [];
  for (const name of vocabs) {
    const text = texts.get(name)!;
    const ours = tokenizerFromGguf(await vocabMetadata(name));
    let ids: number[] = [];
    const node = timeRuns(() => (ids = ours.encode(text, { addSpecial: false, parseSpecial: false })));
    const model = await llama.loadModel({ modelPath: vocabPath(name), vocabOnly: true });
    let reference: number[] = [];
    const cpp = timeRuns(() => (reference = Array.from(model.tokenize(text, false))));
    await model.dispose();
    const same = ids.length === reference.length && ids.every((id, i) => id === reference[i]);
    const c = browser.get(name)!;
    rows.push(
      `| ${name} | ${ids.length} | ${ms(c.cold)} / ${ms(c.warm)} | ${ms(node.cold)} / ${ms(node.warm)} | ${ms(cpp.cold)} / ${ms(cpp.warm)} | ${same ? 'yes' : 'NO'} |`,
    );
  }
  await llama.dispose();
  console.log(`\nTokenizing ${(bytes / 1024).toFixed(0)} KiB of mixed text (cold / warm = best of ${RUNS}; no BOS, special tokens not parsed)\n`);
  console.log('| vocabulary | tokens | rbee-web, Chromium | rbee-web, Node | llama.cpp (node-llama-cpp, CPU) | same ids |');
  console.log('|---|---|---|---|---|---|');
  for (const row of rows) console.log(row);
  console.log(`\nChromium ${resolve(chromiumPath() ?? 'playwright')}, Node ${process.version}, ${new Date().toISOString()}`);
}

await main();
