/**
 * Header inspection over HTTP: rbee-web's readGguf vs @huggingface/gguf, in the same run, against the local Range
 * server (tests/support/range-server.ts). For each file: bytes the server sent, requests it answered, and wall time
 * (median of several runs, the two parsers alternating).
 *
 *   npx tsx bench/inspect-header.ts [--runs 7] [--latency 0]
 *
 * Files: every GGUF fixture under ../shared/fixtures, and a generated file shaped like Qwen2-1.5B-Instruct Q4_K_M
 * (151,936 tokens, 151,387 BPE merges, 339 tensor infos, a ~1 GB sparse file whose header is several MB).
 * `--latency N` delays every response by N ms (a rough stand-in for a real network's round trip).
 */
import { mkdtempSync, readdirSync, rmSync, truncateSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gguf } from '@huggingface/gguf';
import { readGguf } from '../src/lib/formats/gguf.ts';
import { HttpByteSource } from '../src/lib/formats/http-source.ts';
import { startRangeServer } from '../tests/support/range-server.ts';
import { writeGguf, type GgufTyped, type GgufWriterTensor } from '../tests/support/gguf-writer.ts';
import { FIXTURES } from '../tests/support/fixtures.ts';
import { ggmlTensorBytes } from '../src/lib/formats/ggml-types.ts';

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const RUNS = arg('runs', 7);
const LATENCY = arg('latency', 0);

/** Deterministic pseudo-random byte-level BPE vocabulary and merges, with Qwen2's sizes. */
function largeVocabModel(): { header: Uint8Array; size: number } {
  let seed = 42;
  const rand = (): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.,;:()[]{}';
  const word = (n: number): string => {
    let s = '';
    for (let i = 0; i < n; i++) s += alphabet[Math.floor(rand() * alphabet.length)];
    return s;
  };
  const N = 151_936;
  const tokens: string[] = [];
  for (let i = 0; i < N; i++) tokens.push(`${rand() < 0.6 ? 'Ġ' : ''}${word(1 + Math.floor(rand() * rand() * 14))}`);
  const merges: string[] = [];
  for (let i = 0; i < 151_387; i++) merges.push(`${rand() < 0.5 ? 'Ġ' : ''}${word(1 + Math.floor(rand() * 5))} ${word(1 + Math.floor(rand() * 6))}`);
  const u32 = (value: number): GgufTyped => ({ type: 'u32', value });
  const metadata: [string, GgufTyped][] = [
    ['general.architecture', { type: 'string', value: 'qwen2' }],
    ['general.type', { type: 'string', value: 'model' }],
    ['general.name', { type: 'string', value: 'Qwen2-shaped 1.5B (generated)' }],
    ['qwen2.block_count', u32(28)],
    ['qwen2.context_length', u32(32768)],
    ['qwen2.embedding_length', u32(1536)],
    ['qwen2.feed_forward_length', u32(8960)],
    ['qwen2.attention.head_count', u32(12)],
    ['qwen2.attention.head_count_kv', u32(2)],
    ['qwen2.rope.freq_base', { type: 'f32', value: 1000000 }],
    ['qwen2.attention.layer_norm_rms_epsilon', { type: 'f32', value: 1e-6 }],
    ['general.file_type', u32(15)],
    ['tokenizer.ggml.model', { type: 'string', value: 'gpt2' }],
    ['tokenizer.ggml.pre', { type: 'string', value: 'qwen2' }],
    ['tokenizer.ggml.tokens', { type: 'array', itemType: 'string', value: tokens }],
    ['tokenizer.ggml.token_type', { type: 'array', itemType: 'i32', value: tokens.map((_, i) => (i >= 151_643 ? 3 : 1)) }],
    ['tokenizer.ggml.merges', { type: 'array', itemType: 'string', value: merges }],
    ['tokenizer.ggml.eos_token_id', u32(151645)],
    ['tokenizer.ggml.padding_token_id', u32(151643)],
    ['tokenizer.ggml.bos_token_id', u32(151643)],
    ['tokenizer.ggml.add_bos_token', { type: 'bool', value: false }],
    [
      'tokenizer.chat_template',
      { type: 'string', value: `{%- for message in messages %}${'{{- "<|im_start|>" + message.role + "\\n" + message.content + "<|im_end|>\\n" }}'.repeat(30)}{%- endfor %}` },
    ],
    ['general.quantization_version', u32(2)],
  ];
  const E = 1536;
  const F = 8960;
  const KV = 256;
  const Q4K = 12;
  const Q6K = 14;
  const tensors: GgufWriterTensor[] = [];
  const add = (name: string, dims: number[], type: number): void => {
    tensors.push({ name, dims, type, dataSize: ggmlTensorBytes(type, dims.reduce((a, b) => a * b, 1))! });
  };
  add('token_embd.weight', [E, N], Q6K);
  for (let l = 0; l < 28; l++) {
    const b = `blk.${l}`;
    add(`${b}.attn_norm.weight`, [E], 0);
    add(`${b}.attn_q.weight`, [E, E], Q4K);
    add(`${b}.attn_q.bias`, [E], 0);
    add(`${b}.attn_k.weight`, [E, KV], Q4K);
    add(`${b}.attn_k.bias`, [KV], 0);
    add(`${b}.attn_v.weight`, [E, KV], Q6K);
    add(`${b}.attn_v.bias`, [KV], 0);
    add(`${b}.attn_output.weight`, [E, E], Q4K);
    add(`${b}.ffn_norm.weight`, [E], 0);
    add(`${b}.ffn_gate.weight`, [E, F], Q4K);
    add(`${b}.ffn_up.weight`, [E, F], Q4K);
    add(`${b}.ffn_down.weight`, [F, E], Q6K);
  }
  add('output_norm.weight', [E], 0);
  add('output.weight', [E, N], Q6K);
  const header = writeGguf({ metadata, tensors, omitData: true });
  let end = 0;
  let offset = 0;
  for (const t of tensors) {
    end = offset + t.dataSize!;
    offset = Math.ceil(end / 32) * 32;
  }
  return { header, size: header.byteLength + end };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mb = (n: number): string => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} MB` : `${(n / 1e3).toFixed(1)} kB`);

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'rbee-bench-'));
  try {
    const files: Record<string, string> = {};
    if (existsSync(FIXTURES)) {
      for (const sub of ['models', 'tokenizers']) {
        for (const f of readdirSync(join(FIXTURES, sub)).filter((x) => x.endsWith('.gguf'))) files[`/${f}`] = join(FIXTURES, sub, f);
      }
    }
    const big = largeVocabModel();
    const bigPath = join(dir, 'qwen2-shaped-1.5b-Q4_K_M.gguf');
    writeFileSync(bigPath, big.header);
    truncateSync(bigPath, big.size); // sparse: the weights read as zeros and take no disk space
    files['/qwen2-shaped-1.5b-Q4_K_M.gguf'] = bigPath;

    const server = await startRangeServer(files, { latencyMs: LATENCY });
    const rows: string[] = [];
    const notes: string[] = [];
    try {
      for (const path of Object.keys(files)) {
        const url = `${server.url}${path}`;
        const hf = { ms: [] as number[], bytes: 0, requests: 0 };
        const ours = { ms: [] as number[], bytes: 0, requests: 0, header: 0, size: 0 };
        for (let run = 0; run < RUNS; run++) {
          for (const which of run % 2 ? (['ours', 'hf'] as const) : (['hf', 'ours'] as const)) {
            server.resetStats();
            const t0 = performance.now();
            if (which === 'hf') {
              const r = await gguf(url);
              hf.ms.push(performance.now() - t0);
              if (r.tensorInfos.length < 0) throw new Error('unreachable');
            } else {
              const d = await readGguf(new HttpByteSource(url));
              ours.ms.push(performance.now() - t0);
              ours.header = d.gguf!.dataOffsets[0]!;
              ours.size = d.files[0]!.size;
            }
            // Let cancelled or finished responses settle before reading the counters.
            await new Promise((r) => setTimeout(r, 20));
            const s = server.stats.get(path)!;
            const into = which === 'hf' ? hf : ours;
            into.bytes = s.bytesSent;
            into.requests = s.requests;
          }
        }
        const hm = median(hf.ms);
        const om = median(ours.ms);
        rows.push(
          `| ${path.slice(1)} | ${mb(ours.size)} | ${mb(ours.header)} | ${mb(hf.bytes)} | ${mb(ours.bytes)} | ${(ours.bytes / hf.bytes).toFixed(2)} | ${hf.requests} | ${ours.requests} | ${hm.toFixed(1)} | ${om.toFixed(1)} | ${(hm / om).toFixed(2)}× |`,
        );
        if (ours.bytes > hf.bytes || ours.requests > hf.requests) notes.push(`${path.slice(1)}: rbee-web did not beat @huggingface/gguf on bytes or requests`);
      }
    } finally {
      await server.close();
    }
    console.log(`Header inspection over HTTP (local Range server${LATENCY ? `, ${LATENCY} ms per response` : ''}; median of ${RUNS} runs; bytes = body bytes the server sent)\n`);
    console.log('| file | file size | header | bytes: @huggingface/gguf | bytes: rbee-web | ratio | requests: hf | requests: rbee-web | ms: hf | ms: rbee-web | speed-up |');
    console.log('|---|---|---|---|---|---|---|---|---|---|---|');
    for (const row of rows) console.log(row);
    if (notes.length) console.log(`\n${notes.join('\n')}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
