/**
 * Decode and prefill speed of the WebGPU engine (headless Chromium, the app's own worker) against llama.cpp on the
 * CPU (node-llama-cpp, 1 thread, same prompt ids, same number of tokens, no per-token probabilities), in one run,
 * on the same files; the engine's roofline fraction (weight bytes read per decoded token × tokens/s ÷ the same
 * adapter's measured buffer-copy bandwidth) and the inference worker's peak JS heap (+ ArrayBuffers) during load.
 *
 *   npx tsx bench/decode.ts [--decode N] [--prompt N] [--only stories|q4k|q8]
 *   npx tsx bench/decode.ts --chat [--only stories|mid|q4k|q8]
 *
 * Models: stories260K (fixture) and random-weight Llamas in Q4_K and Q8_0 (dim 1024, 12 layers, FFN 2816, 16/4
 * heads, 32k vocabulary: ≥ 100 MB, so per-dispatch overhead does not hide the kernels), generated into the temp
 * directory once and reused. Prints a markdown table.
 *
 * --chat: time to first token of a chat's third turn (system prompt, two user/assistant exchanges, a third user
 * message, through the model's chat template or its fallback) with the KV cache kept from turn 2 (prompt caching)
 * and with the whole conversation evaluated again, in the same warmed-up worker. The conversation is the model's
 * own greedy replies: worked out first, one turn per session, then replayed in one session.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { openBrowserSession } from '../src/cli/browser-harness/run-in-browser.ts';
import type { GenerateRequestOptions, GenerationResult } from '../src/lib/inference/protocol.ts';
import type { ChatMessage } from '../src/lib/tokenizer/types.ts';
import { readGguf } from '../src/lib/loaders/gguf.ts';
import { NodeFileSource } from '../src/lib/loaders/node-file-source.ts';
import { fixture, HAS_FIXTURES } from '../tests/support/fixtures.ts';
import { writeGeneratedModel, type GeneratedModelOptions } from '../tests/support/model-generator.ts';
import { oracleTiming } from '../tests/support/oracle.ts';

const args = process.argv.slice(2);
const flag = (name: string, fallback: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
const PROMPT_TOKENS = flag('--prompt', 32);
const DECODE_SMALL = flag('--decode', 64);
const DECODE_LARGE = Math.max(8, Math.round(DECODE_SMALL / 4));

const BIG: Omit<GeneratedModelOptions, 'weightType'> = {
  embeddingLength: 1024,
  feedForwardLength: 2816,
  blockCount: 12,
  headCount: 16,
  headCountKv: 4,
  vocabSize: 32000,
  contextLength: 512,
  seed: 7,
};

interface BenchModel {
  key: string;
  label: string;
  path: string;
  decodeTokens: number;
}

/** A middle size for --chat, where the 1024×12 models take tens of minutes per turn on a software adapter. */
const MID: Omit<GeneratedModelOptions, 'weightType'> = { ...BIG, embeddingLength: 512, feedForwardLength: 1536, blockCount: 6, headCount: 8, headCountKv: 2 };

async function models(chat = false): Promise<BenchModel[]> {
  const list: BenchModel[] = [];
  if (HAS_FIXTURES) list.push({ key: 'stories', label: 'stories260K (F32)', path: fixture('models/stories260K.gguf'), decodeTokens: DECODE_SMALL });
  const dir = join(tmpdir(), 'rbee-bench-models');
  await mkdir(dir, { recursive: true });
  const generated = [
    ['q4k', 'Q4_K', BIG, '1024x12'],
    ['q8', 'Q8_0', BIG, '1024x12'],
    ...(chat ? ([['mid', 'Q4_K', MID, '512x6']] as const) : []),
  ] as const;
  for (const [key, type, shape, size] of generated) {
    const file = join(dir, `rbee-bench-${type.toLowerCase()}-${size}.gguf`);
    if ((!only || only === key) && !existsSync(file)) {
      process.stderr.write(`generating ${basename(file)}…\n`);
      await writeGeneratedModel(dir, { ...shape, weightType: type }, basename(file));
    }
    list.push({ key, label: `random llama ${size.replace('x', '×')} (${type})`, path: file, decodeTokens: DECODE_LARGE });
  }
  return list.filter((m) => !only || m.key === only);
}

/** Bytes one decode step reads: every matrix once (the embedding only one row), norms included. */
async function weightBytesPerToken(path: string): Promise<{ perToken: number; file: number }> {
  const source = await NodeFileSource.open(path);
  try {
    const d = await readGguf(source);
    const hasOutput = d.tensors.some((t) => t.name === 'output.weight');
    let bytes = 0;
    for (const t of d.tensors) {
      if (t.name === 'token_embd.weight') bytes += hasOutput ? (t.size ?? 0) / (t.dims[1] ?? 1) : (t.size ?? 0);
      else bytes += t.size ?? 0;
    }
    return { perToken: bytes, file: d.files[0]!.size };
  } finally {
    await source.close();
  }
}

function promptIds(vocab: number): number[] {
  // BOS, then ordinary ids spread over the vocabulary (past the specials and byte tokens).
  return [1, ...Array.from({ length: PROMPT_TOKENS - 1 }, (_, i) => 259 + ((i * 37) % (vocab - 259)))];
}

const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`;
const f = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '—');

async function main(): Promise<void> {
  const list = await models();
  const rows: string[] = [];
  const session = await openBrowserSession();
  try {
    const bandwidth = await session.copyBandwidth(256 << 20, 8);
    process.stderr.write(`buffer copy bandwidth: ${(bandwidth / 1e9).toFixed(1)} GB/s (read + write)\n`);
    for (const m of list) {
      const { perToken, file } = await weightBytesPerToken(m.path);
      const vocab = m.key === 'stories' ? 512 : BIG.vocabSize!;
      const prompt = promptIds(vocab);
      process.stderr.write(`${m.label}: llama.cpp…\n`);
      const cpu = await oracleTiming(m.path, prompt, m.decodeTokens);
      process.stderr.write(`${m.label}: WebGPU…\n`);
      const url = session.serveFolder(dirname(m.path)) + encodeURIComponent(basename(m.path));
      const heap = session.sampleWorkerHeap();
      const [out] = await session.run([
        {
          model: { kind: 'url', url },
          contextLength: 256,
          // The first generation warms the pipelines up (shader compilation); the second is measured.
          // Same prompt twice: cachePrompt off, or the second run would keep all but one prompt token.
          generations: [0, 1].map(() => ({
            prompt: { tokens: prompt },
            sampling: { temperature: 0 },
            maxTokens: m.decodeTokens + 1,
            stopTokens: [],
            cachePrompt: false,
          })),
        },
      ]);
      const peakHeap = await heap.stop();
      if (!out || 'error' in out) throw new Error(`${m.label}: ${out && 'error' in out ? out.error.message : 'no result'}`);
      const measured = out.results[1]!;
      if ('error' in measured) throw new Error(`${m.label}: ${measured.error.message}`);
      const t = (measured as GenerationResult).timings;
      const roofline = (perToken * t.decodeTokensPerSecond) / bandwidth;
      rows.push(
        `| ${m.label} | ${mb(file)} | ${f(t.prefillTokensPerSecond)} | ${f(t.decodeTokensPerSecond)} | ${f(cpu.prefillTokensPerSecond)} | ` +
          `${f(cpu.decodeTokensPerSecond)} | ${f(t.prefillTokensPerSecond / cpu.prefillTokensPerSecond, 2)} | ` +
          `${f(t.decodeTokensPerSecond / cpu.decodeTokensPerSecond, 2)} | ${f((perToken * t.decodeTokensPerSecond) / 1e9, 2)} | ` +
          `${f(100 * roofline)}% | ${mb(peakHeap)} | ${f(out.model.loadSeconds)} s |`,
      );
    }
    console.log(
      [
        `Prompt ${PROMPT_TOKENS} tokens; decode ${DECODE_SMALL} tokens (stories) / ${DECODE_LARGE} (generated), greedy. ` +
          `WebGPU: ${new Date().toISOString().slice(0, 10)}, headless Chromium, second of two runs (the first compiles pipelines). ` +
          `llama.cpp: node-llama-cpp 3.21.1, CPU, 1 thread. Buffer-copy bandwidth of the adapter: ${(bandwidth / 1e9).toFixed(1)} GB/s.`,
        '',
        '| model | file | WebGPU prefill tok/s | WebGPU decode tok/s | llama.cpp prefill tok/s | llama.cpp decode tok/s | prefill ratio | decode ratio | weights read GB/s | roofline | peak worker heap | load |',
        '|---|---|---|---|---|---|---|---|---|---|---|---|',
        ...rows,
      ].join('\n'),
    );
  } finally {
    await session.close();
  }
}

const SYSTEM =
  'You are a friendly storyteller for young children. Answer in short, simple sentences, with happy endings, ' +
  'and always name the animals in the story. Never use scary words. Keep each answer to a few lines, and ask ' +
  'the child a small question at the end so that the story can go on together.';
const USER_TURNS = ['Tell me a story about a cat and a dog.', 'What did they find in the garden?', 'And what happened at night?'];

/** Time to first token of turn 3, with and without the KV cache of turn 2. */
async function chatTurns(): Promise<void> {
  const list = await models(true);
  const rows: string[] = [];
  const session = await openBrowserSession();
  try {
    for (const m of list) {
      const url = session.serveFolder(dirname(m.path)) + encodeURIComponent(basename(m.path));
      const replyTokens = m.key === 'stories' ? 48 : 16;
      const turn = (messages: ChatMessage[], cachePrompt = true): GenerateRequestOptions => ({
        prompt: { messages },
        sampling: { temperature: 0 },
        maxTokens: replyTokens,
        stopTokens: [],
        cachePrompt,
      });
      const one = async (generations: GenerateRequestOptions[]): Promise<GenerationResult[]> => {
        const [out] = await session.run([{ model: { kind: 'url', url }, contextLength: 1024, generations }]);
        if (!out || 'error' in out) throw new Error(`${m.label}: ${out && 'error' in out ? out.error.message : 'no result'}`);
        return out.results.map((r) => {
          if ('error' in r) throw new Error(`${m.label}: ${r.error.message}`);
          return r;
        });
      };
      // The conversation: each reply is the model's greedy answer to the conversation before it.
      process.stderr.write(`${m.label}: working out the conversation…\n`);
      const messages: ChatMessage[] = [{ role: 'system', content: SYSTEM }];
      const prompts: ChatMessage[][] = [];
      for (const [i, user] of USER_TURNS.entries()) {
        messages.push({ role: 'user', content: user });
        prompts.push([...messages]);
        if (i === USER_TURNS.length - 1) break;
        const [reply] = await one([turn([...messages], false)]);
        messages.push({ role: 'assistant', content: reply!.text });
      }
      process.stderr.write(`${m.label}: replaying it…\n`);
      const results = await one([
        // Pipelines compiled first (an unrelated prompt), then turns 1–3 as the chat sends them, then turn 3 again
        // with the cache off.
        { prompt: { tokens: [1, 300, 301, 302] }, sampling: { temperature: 0 }, maxTokens: 4, stopTokens: [], cachePrompt: false },
        ...prompts.map((p) => turn(p)),
        turn(prompts[2]!, false),
      ]);
      const [t1, t2, cached, uncached] = results.slice(1);
      const replies = messages.filter((x) => x.role === 'assistant').map((x) => x.content);
      if (cached!.text !== uncached!.text || t1!.text !== replies[0] || t2!.text !== replies[1])
        process.stderr.write(`${m.label}: a reply differs with and without the cache!\n`);
      const ms = (r: GenerationResult) => f(1000 * (r.timings.firstTokenSeconds ?? 0));
      rows.push(
        `| ${m.label} | ${t1!.timings.promptTokens} / ${t2!.timings.promptTokens} / ${cached!.timings.promptTokens} | ` +
          `${cached!.timings.promptTokensReused} | ${cached!.timings.promptTokensEvaluated} | ${ms(cached!)} ms | ${ms(uncached!)} ms | ` +
          `${f((uncached!.timings.firstTokenSeconds ?? 0) / (cached!.timings.firstTokenSeconds ?? 1), 1)}× |`,
      );
    }
    console.log(
      [
        `Time to first token of a chat's third turn, greedy, ${new Date().toISOString().slice(0, 10)}, headless Chromium, ` +
          "in the app's worker (from the request to the first token: tokenizing, prefill, first sample).",
        '',
        '| model | prompt tokens turn 1 / 2 / 3 | turn 3 reused | turn 3 evaluated | TTFT with cache | TTFT without | speed-up |',
        '|---|---|---|---|---|---|---|',
        ...rows,
      ].join('\n'),
    );
  } finally {
    await session.close();
  }
}

if (args.includes('--chat')) await chatTurns();
else await main();
process.exit(0);
