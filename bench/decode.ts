/**
 * Decode and prefill speed of rbee-web's WebGPU engine (headless Chromium, the app's own worker) beside three runs of
 * llama.cpp on the same files, with the same prompt and the same number of tokens, in one run:
 *   - wllama 3.8.1 (llama.cpp compiled to WebAssembly) in the same browser, 1 thread: the peer the ratios are against;
 *   - wllama with all cores (navigator.hardwareConcurrency threads; needs cross-origin isolation, which the harness
 *     server gives every page here with COOP/COEP — if the page is not isolated the run says so);
 *   - llama.cpp native (node-llama-cpp 3.21.1, CPU, threads: 1).
 * Plus the engine's roofline fraction (weight bytes read per decoded token × tokens/s ÷ the same adapter's measured
 * buffer-copy bandwidth) and the inference worker's peak JS heap (+ ArrayBuffers) during load.
 *
 *   npx tsx bench/decode.ts [--decode N] [--prompt N] [--runs N] [--only stories|q4k|q8] [--no-q8]
 *   npx tsx bench/decode.ts --chat [--only stories|mid|q4k|q8]
 *
 * Cases: stories260K (fixture) with a ~150-token prompt (its prefill case) and 64 decoded tokens, and random-weight
 * Llamas in Q4_K and Q8_0 (dim 1024, 12 layers, FFN 2816, 16/4 heads, 32k vocabulary: ≥ 100 MB, so per-dispatch
 * overhead does not hide the kernels) with a 32-token prompt and 16 decoded tokens, generated into the temp
 * directory once and reused. Prints a markdown table and, as its last line, one JSON object with every figure.
 *
 * --runs N: N rounds per case, each engine once a round (interleaved, so a change in the machine's load hits them
 * alike); every figure is the median of its rounds (default 1).
 *
 * What each side measures (all greedy, end-of-generation ignored, the second of two identical runs in a loaded
 * engine, the whole prompt evaluated both times):
 *   - rbee-web: prefill = prompt tokens ÷ (request start → the first token's logits read back); decode = generated
 *     tokens after the first ÷ the time from the first token to the last (GenerationTimings).
 *   - wllama: llama.cpp's own `timings` — prompt_per_second = prompt_n ÷ prompt_ms (the prompt in one batch, its last
 *     logits included), predicted_per_second = predicted_n ÷ predicted_ms (first sample to last).
 *   - llama.cpp native: prefill = all but the last prompt token ÷ their evaluation; decode = tokens ÷ the loop that
 *     evaluates the last prompt token and then each generated one (tests/support/oracle.ts oracleTiming).
 * wllama takes a text prompt only, so the prompt is made as text that llama.cpp tokenizes to exactly the ids the
 * other two get (BOS first); wllama's prompt_n is checked against it.
 *
 * --chat: time to first token of a chat's third turn (system prompt, two user/assistant exchanges, a third user
 * message, through the model's chat template or its fallback) with the KV cache kept from turn 2 (prompt caching)
 * and with the whole conversation evaluated again, in the same warmed-up worker. The conversation is the model's
 * own greedy replies: worked out first, one turn per session, then replayed in one session.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { Token } from 'node-llama-cpp';
import { openBrowserSession, type BrowserSession } from '../src/cli/browser-harness/run-in-browser.ts';
import type { GenerateRequestOptions, GenerationResult } from '../src/lib/engine/worker-protocol.ts';
import type { ChatMessage } from '../src/lib/tokenizer/types.ts';
import { readGguf } from '../src/lib/formats/gguf.ts';
import { NodeFileSource } from '../src/lib/formats/node-file-source.ts';
import { fixture, HAS_FIXTURES } from '../tests/support/fixtures.ts';
import { LLAMA_1024X12, writeGeneratedModel, type GeneratedModelOptions } from '../tests/support/model-generator.ts';
import { oracleLlama, oracleTiming, type OracleTiming } from '../tests/support/oracle.ts';
import { WllamaPeer } from './wllama-peer.ts';
import type { DecodeProfile } from '../src/lib/engine/decode-profile.ts';
import type { WllamaBenchResult } from './wllama-page.ts';

const args = process.argv.slice(2);
const flag = (name: string, fallback: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
/** The issue's prefill case: stories260K with a ~150-token prompt. */
const PROMPT_SMALL = flag('--prompt', 150);
const PROMPT_LARGE = Math.min(PROMPT_SMALL, 32);
const DECODE_SMALL = flag('--decode', 64);
const DECODE_LARGE = Math.max(8, Math.round(DECODE_SMALL / 4));
/** Rounds per case (each engine once a round, interleaved); every figure is the median over them. */
const RUNS = Math.max(1, flag('--runs', 1));

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const BIG = LLAMA_1024X12;

interface BenchModel {
  key: string;
  label: string;
  path: string;
  promptTokens: number;
  decodeTokens: number;
}

/** A middle size for --chat, where the 1024×12 models take tens of minutes per turn on a software adapter. */
const MID: Omit<GeneratedModelOptions, 'weightType'> = { ...BIG, embeddingLength: 512, feedForwardLength: 1536, blockCount: 6, headCount: 8, headCountKv: 2 };

async function models(chat = false): Promise<BenchModel[]> {
  const list: BenchModel[] = [];
  if (HAS_FIXTURES)
    list.push({ key: 'stories', label: 'stories260K (F32)', path: fixture('models/stories260K.gguf'), promptTokens: PROMPT_SMALL, decodeTokens: DECODE_SMALL });
  const dir = join(tmpdir(), 'rbee-bench-models');
  await mkdir(dir, { recursive: true });
  const generated = [
    ['q4k', 'Q4_K', BIG, '1024x12'],
    ...(args.includes('--no-q8') ? [] : ([['q8', 'Q8_0', BIG, '1024x12']] as const)),
    ...(chat ? ([['mid', 'Q4_K', MID, '512x6']] as const) : []),
  ] as const;
  for (const [key, type, shape, size] of generated) {
    const file = join(dir, `rbee-bench-${type.toLowerCase()}-${size}.gguf`);
    if ((!only || only === key) && !existsSync(file)) {
      process.stderr.write(`generating ${basename(file)}…\n`);
      await writeGeneratedModel(dir, { ...shape, weightType: type }, basename(file));
    }
    list.push({ key, label: `random llama ${size.replace('x', '×')} (${type})`, path: file, promptTokens: PROMPT_LARGE, decodeTokens: DECODE_LARGE });
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

/**
 * A prompt of about `n` tokens as ids and as the text llama.cpp tokenizes to exactly those ids (after BOS): ordinary
 * ids spread over the vocabulary (past the specials and byte tokens), detokenized and tokenized again until stable.
 */
async function benchPrompt(path: string, n: number, vocab: number): Promise<{ ids: number[]; text: string }> {
  const llama = await oracleLlama();
  const model = await llama.loadModel({ modelPath: path, vocabOnly: true });
  try {
    const bos = model.tokens.bos ?? 1;
    let body: number[] = Array.from({ length: n - 1 }, (_, i) => 259 + ((i * 37) % (vocab - 259)));
    let text = '';
    for (let round = 0; round < 4; round++) {
      text = model.detokenize(body as Token[]);
      const again = [...model.tokenize(text, false)] as number[];
      if (again.length === body.length && again.every((t, i) => t === body[i])) break;
      body = again;
    }
    return { ids: [bos, ...body], text };
  } finally {
    await model.dispose();
  }
}

const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`;
const f = (n: number | undefined, digits = 1) => (n !== undefined && Number.isFinite(n) ? n.toFixed(digits) : '—');
const fx = (n: number | undefined) => (n !== undefined && Number.isFinite(n) ? `${n.toFixed(2)}×` : '—');

type Rates = { prefill: number; decode: number };
interface CaseResult {
  model: string;
  file: string;
  fileBytes: number;
  promptTokens: number;
  decodeTokens: number;
  weightBytesPerToken: number;
  rbeeWeb?: Rates & { loadSeconds: number; peakWorkerHeapBytes: number; roofline: number; profile?: DecodeProfile };
  wllama1?: Rates & { threads: number; loadSeconds: number };
  wllamaAll?: Rates & { threads: number; multithread: boolean; crossOriginIsolated: boolean };
  llamaCppNative?: Rates & { threads: number };
  /** Rounds the medians are over. */
  rounds?: number;
  failures: string[];
}

/** Runs one engine; a failure becomes a line in the output and a '—' in the table, never the end of the run. */
async function attempt<T>(what: string, failures: string[], f: () => Promise<T>): Promise<T | undefined> {
  try {
    return await f();
  } catch (e) {
    const line = `${what} failed: ${((e as Error).message ?? String(e)).split('\n')[0]}`;
    process.stderr.write(`${line}\n`);
    failures.push(line);
    return undefined;
  }
}

async function rbeeWebRun(session: BrowserSession, m: BenchModel, prompt: number[], perToken: number, bandwidth: number): Promise<NonNullable<CaseResult['rbeeWeb']>> {
  const url = session.serveFolder(dirname(m.path)) + encodeURIComponent(basename(m.path));
  const heap = session.sampleWorkerHeap();
  const [out] = await session.run([
    {
      model: { model: { kind: 'remote', source: url } },
      engine: 'webgpu',
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
      // Then where a decode step's time goes (the engine's own profile: host timings of the real decode path and,
      // where the adapter has timestamp queries, GPU time per kernel).
      profile: { steps: Math.min(16, m.decodeTokens) },
    },
  ]);
  const peakWorkerHeapBytes = await heap.stop();
  if (!out || 'error' in out) throw new Error(out && 'error' in out ? `${out.error.code}: ${out.error.message}` : 'no result');
  const measured = out.results[1]!;
  if ('error' in measured) throw new Error(`${measured.error.code}: ${measured.error.message}`);
  const t = (measured as GenerationResult).timings;
  return {
    prefill: t.prefillTokensPerSecond,
    decode: t.decodeTokensPerSecond,
    loadSeconds: out.model.loadSeconds,
    peakWorkerHeapBytes,
    roofline: (perToken * t.decodeTokensPerSecond) / bandwidth,
    ...(out.profile && !('error' in out.profile) ? { profile: out.profile } : {}),
  };
}

function checkWllamaPrompt(r: WllamaBenchResult, ids: number[], failures: string[], what: string): void {
  if (r.promptTokens !== ids.length) {
    const line = `${what}: evaluated ${r.promptTokens} prompt tokens, the others ${ids.length} (text round trip differs)`;
    process.stderr.write(`${line}\n`);
    failures.push(line);
  }
}

async function main(): Promise<void> {
  const list = await models();
  const results: CaseResult[] = [];
  const allThreads = Math.max(2, cpus().length);
  const session = await openBrowserSession({ crossOriginIsolated: true });
  const peer = await WllamaPeer.open(session);
  let bandwidth = NaN;
  try {
    bandwidth = await session.copyBandwidth(256 << 20, 8);
    process.stderr.write(`buffer copy bandwidth: ${(bandwidth / 1e9).toFixed(1)} GB/s (read + write)\n`);
    if (!session.crossOriginIsolated)
      process.stderr.write('the pages are not cross-origin isolated: wllama cannot use more than one thread here\n');
    for (const m of list) {
      const failures: string[] = [];
      const { perToken, file } = await weightBytesPerToken(m.path);
      const prompt = await benchPrompt(m.path, m.promptTokens, m.key === 'stories' ? 512 : BIG.vocabSize!);
      const r: CaseResult = {
        model: m.label,
        file: basename(m.path),
        fileBytes: file,
        promptTokens: prompt.ids.length,
        decodeTokens: m.decodeTokens,
        weightBytesPerToken: perToken,
        failures,
      };
      const url = session.serveFolder(dirname(m.path)) + encodeURIComponent(basename(m.path));
      const wllamaRequest = { modelUrl: url, prompt: prompt.text, maxTokens: m.decodeTokens + 1, contextLength: 256 };
      // Each engine once per round, rounds interleaved, so a change in the machine's load hits every engine alike;
      // each figure is the median of its rounds.
      const rounds: { rbee?: NonNullable<CaseResult['rbeeWeb']>; w1?: WllamaBenchResult; wn?: WllamaBenchResult; cpu?: OracleTiming }[] = [];
      for (let round = 0; round < RUNS; round++) {
        const of = RUNS > 1 ? ` (round ${round + 1} of ${RUNS})` : '';
        process.stderr.write(`${m.label}: rbee-web (WebGPU)${of}…\n`);
        const rbee = await attempt(`${m.label}: rbee-web`, failures, () => rbeeWebRun(session, m, prompt.ids, perToken, bandwidth));
        process.stderr.write(`${m.label}: wllama, 1 thread${of}…\n`);
        const w1 = await attempt(`${m.label}: wllama 1 thread`, failures, () => peer.run({ ...wllamaRequest, threads: 1 }));
        if (w1) checkWllamaPrompt(w1, prompt.ids, failures, `${m.label}: wllama 1 thread`);
        process.stderr.write(`${m.label}: wllama, ${allThreads} threads${of}…\n`);
        const wn = await attempt(`${m.label}: wllama ${allThreads} threads`, failures, () => peer.run({ ...wllamaRequest, threads: allThreads }));
        if (wn) {
          checkWllamaPrompt(wn, prompt.ids, failures, `${m.label}: wllama ${allThreads} threads`);
          if (!wn.multithread) failures.push(`${m.label}: wllama ran on 1 thread (cross-origin isolated: ${wn.crossOriginIsolated})`);
        }
        process.stderr.write(`${m.label}: llama.cpp native${of}…\n`);
        const cpu = await attempt(`${m.label}: llama.cpp native`, failures, () => oracleTiming(m.path, prompt.ids, m.decodeTokens));
        rounds.push({ ...(rbee ? { rbee } : {}), ...(w1 ? { w1 } : {}), ...(wn ? { wn } : {}), ...(cpu ? { cpu } : {}) });
      }
      const rbees = rounds.flatMap((x) => (x.rbee ? [x.rbee] : []));
      if (rbees.length) {
        const prefill = median(rbees.map((x) => x.prefill));
        const decode = median(rbees.map((x) => x.decode));
        r.rbeeWeb = { ...rbees.at(-1)!, prefill, decode, roofline: (perToken * decode) / bandwidth };
      }
      const w1s = rounds.flatMap((x) => (x.w1 ? [x.w1] : []));
      if (w1s.length)
        r.wllama1 = {
          prefill: median(w1s.map((x) => x.prefillTokensPerSecond)),
          decode: median(w1s.map((x) => x.decodeTokensPerSecond)),
          threads: w1s[0]!.threads,
          loadSeconds: median(w1s.map((x) => x.loadSeconds)),
        };
      const wns = rounds.flatMap((x) => (x.wn ? [x.wn] : []));
      if (wns.length)
        r.wllamaAll = {
          prefill: median(wns.map((x) => x.prefillTokensPerSecond)),
          decode: median(wns.map((x) => x.decodeTokensPerSecond)),
          threads: wns[0]!.threads,
          multithread: wns.every((x) => x.multithread),
          crossOriginIsolated: wns.every((x) => x.crossOriginIsolated),
        };
      const cpus = rounds.flatMap((x) => (x.cpu ? [x.cpu] : []));
      if (cpus.length)
        r.llamaCppNative = { prefill: median(cpus.map((x) => x.prefillTokensPerSecond)), decode: median(cpus.map((x) => x.decodeTokensPerSecond)), threads: cpus[0]!.threads };
      r.rounds = RUNS;
      results.push(r);
    }
  } finally {
    await peer.close();
    await session.close();
  }
  printResults(results, bandwidth, allThreads);
}

/** The engine's decode profile as a few lines and a per-kernel table. */
function profileLines(model: string, p: DecodeProfile): string[] {
  const ms = (n: number | undefined) => (n === undefined ? '—' : n.toFixed(2));
  return [
    `${model}, rbee-web decode profile (${p.steps} steps): ${p.dispatches} dispatches, ${p.submits} submit, ${p.readbackBytes} bytes read back per step; ` +
      `step ${ms(p.stepMs)} ms = encode ${ms(p.encodeMs)} + wait ${ms(p.waitMs)} + read ${ms(p.readMs)} ms` +
      (p.timestamps ? `; GPU ${ms(p.gpuMs)} ms per step over the kernels (each op in its own timestamped pass)` : '; no GPU timestamps on this adapter'),
    '',
    '| kernel | dispatches / step | GPU ms / step |',
    '|---|---:|---:|',
    ...p.kernels.map((k) => `| ${k.name} | ${k.dispatches} | ${ms(k.gpuMs)} |`),
  ];
}

function printResults(results: CaseResult[], bandwidth: number, allThreads: number): void {
  const rows: string[] = [];
  const ratios: Record<string, number | undefined> = {};
  for (const r of results) {
    for (const phase of ['decode', 'prefill'] as const) {
      const ours = r.rbeeWeb?.[phase];
      const ratio = ours !== undefined && r.wllama1 ? ours / r.wllama1[phase] : undefined;
      ratios[`${r.file}:${phase}`] = ratio;
      const what = phase === 'decode' ? `decode ${r.decodeTokens}` : `prefill ${r.promptTokens}-token prompt`;
      rows.push(
        `| ${r.model} | ${mb(r.fileBytes)} | ${what} | ${f(ours)} | ${f(r.wllama1?.[phase])} | ${f(r.wllamaAll?.[phase])} | ` +
          `${f(r.llamaCppNative?.[phase])} | ${fx(ratio)} | ${phase === 'decode' && r.rbeeWeb ? `${f(100 * r.rbeeWeb.roofline, 2)} %` : ''} |`,
      );
    }
  }
  const isolated = results.find((r) => r.wllamaAll)?.wllamaAll;
  console.log(
    [
      `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC. Greedy, second of two identical runs, whole prompt evaluated each time` +
        (RUNS > 1 ? `; medians of ${RUNS} interleaved rounds. ` : '. ') +
        `rbee-web: headless Chromium, the app's worker, WebGPU. wllama 3.8.1 (llama.cpp → WebAssembly, CPU) in the same browser, same file ` +
        `(from a Blob): 1 thread, and ${allThreads} threads` +
        (isolated ? (isolated.multithread ? ' (page cross-origin isolated)' : ' — NOT isolated, so it ran on 1 thread') : '') +
        `. llama.cpp native: node-llama-cpp 3.21.1, CPU, threads: 1. Ratio = rbee-web ÷ wllama 1 thread. ` +
        `Roofline = weight bytes per token × rbee-web tok/s ÷ the adapter's buffer-copy bandwidth (${f(bandwidth / 1e9)} GB/s).`,
      '',
      `| model | file | case | rbee-web tok/s | wllama 1T tok/s | wllama ${allThreads}T tok/s | llama.cpp native 1T tok/s | rbee-web ÷ wllama 1T | roofline |`,
      '|---|---|---|---:|---:|---:|---:|---:|---:|',
      ...rows,
      '',
      ...results.flatMap((r) =>
        r.rbeeWeb ? [`${r.model}: rbee-web load ${f(r.rbeeWeb.loadSeconds, 2)} s, peak worker heap ${mb(r.rbeeWeb.peakWorkerHeapBytes)}; wllama load ${f(r.wllama1?.loadSeconds, 2)} s`] : [],
      ),
      ...results.flatMap((r) => (r.rbeeWeb?.profile ? ['', ...profileLines(r.model, r.rbeeWeb.profile)] : [])),
      '',
      ...results.flatMap((r) => r.failures),
    ].join('\n'),
  );
  console.log(JSON.stringify({ date: new Date().toISOString(), bandwidthBytesPerSecond: bandwidth, wllamaAllThreads: allThreads, cases: results, ratios }));
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
        const [out] = await session.run([{ model: { model: { kind: 'remote', source: url } }, engine: 'webgpu', contextLength: 1024, generations }]);
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
