/**
 * Scale: an 8B-shaped GGUF far beyond what wasm engines open (a single file over 2 GB) loads and decodes in headless
 * Chromium through the app's own worker, streamed from the file over HTTP Range (never whole in memory).
 *
 *   npx tsx bench/scale.ts [--tokens 3] [--context 256] [--wllama]
 *
 * The file: Llama-3-8B's shape (dim 4096, 32 layers, FFN 14336, 32/8 heads, 128,256-token vocabulary, rope base
 * 500000) with llama.cpp's Q4_K_M type mix (Q4_K matrices; Q6_K for output.weight and for attn_v / ffn_down in the
 * layers llama.cpp's use_more_bits picks), ≈ 4.9 GB. Every weight is zero: the header and tensor table are written,
 * then the file is extended with ftruncate, so it is sparse and costs no disk (the kernels' work does not depend on
 * the values). Generated once into the temp directory and reused.
 *
 * Reports load time, prefill and decode tok/s, and the inference worker's peak JS heap (+ ArrayBuffer backing
 * stores) during load and generation, against the limit: 1.5 × the largest tensor.
 *
 * --wllama: also hands the same file (picked in a file input, as a user's dropped file, in the same browser) to
 * wllama 3.8.1 with a 3-minute limit and prints what it answers (it cannot open a single file over 2 GB).
 */
import { existsSync, statSync } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { openBrowserSession } from '../src/cli/browser-harness/run-in-browser.ts';
import { ggmlTypeByName } from '../src/lib/formats/ggml-types.ts';
import type { GenerationResult } from '../src/lib/engine/worker-protocol.ts';
import { writeGguf, type GgufTyped, type GgufWriterTensor } from '../tests/support/gguf-writer.ts';
import { syntheticSpmVocabulary } from '../tests/support/model-generator.ts';
import { WllamaPeer } from './wllama-peer.ts';

const args = process.argv.slice(2);
const opt = (name: string, fallback: number): number => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback);
const TOKENS = opt('--tokens', 3);
const CONTEXT = opt('--context', 256);

/** Llama-3-8B's hyperparameters. */
const SHAPE = { dim: 4096, layers: 32, ffn: 14336, heads: 32, kvHeads: 8, vocab: 128256, context: 8192, ropeBase: 500000 };
/** The heap limit the issue sets: the worker may hold at most one tensor and a half in JS memory at a time. */
const HEAP_LIMIT_TENSORS = 1.5;

/** llama.cpp's use_more_bits (llama-quant.cpp): the layers Q4_K_M gives Q6_K attn_v and ffn_down. */
const useMoreBits = (i: number, n: number): boolean => i < n / 8 || i >= (7 * n) / 8 || (i - Math.floor(n / 8)) % 3 === 2;

function tensorTable(): GgufWriterTensor[] {
  const { dim, layers, ffn, heads, kvHeads, vocab } = SHAPE;
  const kvDim = (dim / heads) * kvHeads;
  const tensor = (name: string, dims: number[], typeName: string): GgufWriterTensor => {
    const type = ggmlTypeByName(typeName)!;
    const elements = dims.reduce((a, b) => a * b, 1);
    return { name, dims, type: type.id, dataSize: (elements / type.blockSize) * type.typeSize };
  };
  const list = [tensor('token_embd.weight', [dim, vocab], 'Q4_K')];
  for (let i = 0; i < layers; i++) {
    const more = useMoreBits(i, layers);
    list.push(
      tensor(`blk.${i}.attn_norm.weight`, [dim], 'F32'),
      tensor(`blk.${i}.attn_q.weight`, [dim, dim], 'Q4_K'),
      tensor(`blk.${i}.attn_k.weight`, [dim, kvDim], 'Q4_K'),
      tensor(`blk.${i}.attn_v.weight`, [dim, kvDim], more ? 'Q6_K' : 'Q4_K'),
      tensor(`blk.${i}.attn_output.weight`, [dim, dim], 'Q4_K'),
      tensor(`blk.${i}.ffn_norm.weight`, [dim], 'F32'),
      tensor(`blk.${i}.ffn_gate.weight`, [dim, ffn], 'Q4_K'),
      tensor(`blk.${i}.ffn_up.weight`, [dim, ffn], 'Q4_K'),
      tensor(`blk.${i}.ffn_down.weight`, [ffn, dim], more ? 'Q6_K' : 'Q4_K'),
    );
  }
  list.push(tensor('output_norm.weight', [dim], 'F32'), tensor('output.weight', [dim, vocab], 'Q6_K'));
  return list;
}

/** Writes the header and tensor table, then extends the file to its full size with ftruncate (a sparse file). */
async function writeSparseModel(path: string, tensors: GgufWriterTensor[]): Promise<number> {
  const u32 = (value: number): GgufTyped => ({ type: 'u32', value });
  const f32 = (value: number): GgufTyped => ({ type: 'f32', value });
  const vocab = syntheticSpmVocabulary(SHAPE.vocab);
  const header = writeGguf({
    version: 3,
    metadata: [
      ['general.architecture', { type: 'string', value: 'llama' }],
      ['general.name', { type: 'string', value: 'rbee scale test: Llama-3-8B shape, Q4_K_M mix, zero weights' }],
      ['general.file_type', u32(15)], // Q4_K_M
      ['llama.context_length', u32(SHAPE.context)],
      ['llama.embedding_length', u32(SHAPE.dim)],
      ['llama.block_count', u32(SHAPE.layers)],
      ['llama.feed_forward_length', u32(SHAPE.ffn)],
      ['llama.rope.dimension_count', u32(SHAPE.dim / SHAPE.heads)],
      ['llama.rope.freq_base', f32(SHAPE.ropeBase)],
      ['llama.attention.head_count', u32(SHAPE.heads)],
      ['llama.attention.head_count_kv', u32(SHAPE.kvHeads)],
      ['llama.attention.layer_norm_rms_epsilon', f32(1e-5)],
      ['tokenizer.ggml.model', { type: 'string', value: 'llama' }],
      ['tokenizer.ggml.tokens', { type: 'array', itemType: 'string', value: vocab.tokens }],
      ['tokenizer.ggml.scores', { type: 'array', itemType: 'f32', value: vocab.scores }],
      ['tokenizer.ggml.token_type', { type: 'array', itemType: 'i32', value: vocab.types }],
      ['tokenizer.ggml.bos_token_id', u32(1)],
      ['tokenizer.ggml.eos_token_id', u32(2)],
    ],
    tensors,
    omitData: true,
  });
  // Data follows the header; each tensor starts at a multiple of the alignment (32), as writeGguf lays them out.
  let end = 0;
  for (const t of tensors) end = Math.ceil(end / 32) * 32 + t.dataSize!;
  const size = header.byteLength + end;
  const file = await open(path, 'w');
  try {
    await file.write(header, 0, header.byteLength, 0);
    await file.truncate(size);
  } finally {
    await file.close();
  }
  return size;
}

const gb = (b: number) => `${(b / 1e9).toFixed(2)} GB`;
const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`;

async function main(): Promise<void> {
  const tensors = tensorTable();
  const largest = tensors.reduce((a, t) => (t.dataSize! > a.dataSize! ? t : a));
  const dir = join(tmpdir(), 'rbee-bench-models');
  await mkdir(dir, { recursive: true });
  const path = join(dir, 'rbee-scale-llama3-8b-shape-q4_k_m-zeros.gguf');
  if (!existsSync(path)) {
    process.stderr.write(`writing ${basename(path)} (sparse)…\n`);
    await writeSparseModel(path, tensors);
  }
  const fileBytes = statSync(path).size;
  const onDisk = statSync(path).blocks * 512;
  process.stderr.write(`${basename(path)}: ${gb(fileBytes)} (${mb(onDisk)} on disk), largest tensor ${largest.name} ${mb(largest.dataSize!)}\n`);

  const session = await openBrowserSession();
  try {
    const url = session.serveFolder(dirname(path)) + encodeURIComponent(basename(path));
    const heap = session.sampleWorkerHeap();
    let lastReport = 0;
    const [out] = await session.run(
      [
        {
          model: { model: { kind: 'remote', source: url } },
          engine: 'webgpu',
          contextLength: CONTEXT,
          generations: [{ prompt: { tokens: [1, 450, 4996] }, sampling: { temperature: 0 }, maxTokens: TOKENS, stopTokens: [], cachePrompt: false }],
        },
      ],
      {
        onEvent: (e) => {
          if (e.type !== 'progress' || Date.now() - lastReport < 10_000) return;
          lastReport = Date.now();
          process.stderr.write(`  loading: ${gb(e.bytesUploaded)} of ${gb(e.totalBytes)}, ${e.tensorsUploaded}/${e.totalTensors} tensors\n`);
        },
      },
    );
    const peak = await heap.stop();
    if (!out || 'error' in out) throw new Error(out && 'error' in out ? `${out.error.code}: ${out.error.message}` : 'no result');
    const g = out.results[0]!;
    if ('error' in g) throw new Error(`generation: ${g.error.code}: ${g.error.message}`);
    const t = (g as GenerationResult).timings;
    const limit = HEAP_LIMIT_TENSORS * largest.dataSize!;
    const weightsPerToken = tensors.filter((x) => x.name !== 'token_embd.weight').reduce((a, x) => a + x.dataSize!, 0);
    const summary = {
      date: new Date().toISOString(),
      file: basename(path),
      fileBytes,
      largestTensor: { name: largest.name, bytes: largest.dataSize },
      contextLength: out.model.contextLength,
      loadSeconds: out.model.loadSeconds,
      promptTokens: t.promptTokens,
      generatedTokens: t.generatedTokens,
      prefillTokensPerSecond: t.prefillTokensPerSecond,
      decodeTokensPerSecond: t.decodeTokensPerSecond,
      weightBytesPerToken: weightsPerToken,
      peakWorkerHeapBytes: peak,
      heapLimitBytes: limit,
      heapWithinLimit: peak < limit,
      adapter: out.model.adapter,
    };
    console.log(
      [
        `Scale (${summary.date.slice(0, 16).replace('T', ' ')} UTC, headless Chromium, ${out.model.adapter.vendor} ${out.model.adapter.architecture}; ` +
          `the app's worker streaming the file over HTTP Range in 8 MiB chunks; context ${out.model.contextLength}; greedy):`,
        '',
        '| file | size | largest tensor | load | prefill | decode | peak worker heap | limit (1.5 × largest tensor) |',
        '|---|---:|---:|---:|---:|---:|---:|---:|',
        `| Llama-3-8B shape, Q4_K_M mix, zero weights (sparse) | ${gb(fileBytes)} | ${mb(largest.dataSize!)} (${largest.name}) | ${out.model.loadSeconds.toFixed(1)} s | ` +
          `${t.prefillTokensPerSecond.toFixed(3)} tok/s (${t.promptTokens} tokens) | ${t.decodeTokensPerSecond.toFixed(3)} tok/s (${t.generatedTokens - 1} tokens) | ` +
          `${mb(peak)} | ${mb(limit)} ${peak < limit ? '✓' : '✗ EXCEEDED'} |`,
        '',
        'wllama 3.8.1 (llama.cpp → WebAssembly) cannot load it: its wasm memory is capped at 4 GiB, less than the weights (--wllama shows its answer).',
      ].join('\n'),
    );
    if (args.includes('--wllama')) {
      const peer = await WllamaPeer.open(session);
      const answer = await Promise.race([
        peer
          .run({ modelPath: path, threads: 1, prompt: 'Once upon a time', maxTokens: 2, contextLength: CONTEXT, verbose: true })
          .then((r) => `loaded in ${r.loadSeconds.toFixed(1)} s and decoded at ${r.decodeTokensPerSecond.toFixed(3)} tok/s`)
          .catch((e: unknown) => `refused: ${((e as Error).message ?? String(e)).split('\n')[0]}`),
        new Promise<string>((ok) => setTimeout(() => ok('no answer within 3 minutes'), 180_000)),
      ]);
      await peer.close();
      console.log(`wllama 3.8.1 on the same file: ${answer}`);
      Object.assign(summary, { wllama: answer });
    }
    console.log(JSON.stringify(summary));
    if (!summary.heapWithinLimit) process.exitCode = 1;
  } finally {
    await session.close();
  }
}

await main();
process.exit(process.exitCode ?? 0);
