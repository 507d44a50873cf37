/**
 * What the companion's HTTP + SSE layer costs: greedy decoding of the same prompt with node-llama-cpp called directly,
 * and through `rbee-web companion` (in-process server, CompanionClient over fetch), in the same run, alternating,
 * median of several runs. Both use the same llama.cpp build and thread count.
 *
 *   npx tsx bench/companion-overhead.ts [--model path.gguf] [--tokens 256] [--runs 5] [--threads 1]
 */
import { getLlama, LlamaLogLevel } from 'node-llama-cpp';
import { AccessPolicy } from '../src/server/access-policy.ts';
import { LlamaBackend } from '../src/server/llama-backend.ts';
import { startCompanionServer } from '../src/server/server.ts';
import { CompanionClient } from '../src/lib/companion/client.ts';
import { fixture } from '../tests/support/fixtures.ts';

const arg = (name: string, dflt: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : dflt;
};
const MODEL = arg('model', fixture('models/stories260K.gguf'));
const TOKENS = Number(arg('tokens', '256'));
const RUNS = Number(arg('runs', '5'));
const THREADS = Number(arg('threads', '1'));
const PROMPT = 'Once upon a time';
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error });
const model = await llama.loadModel({ modelPath: MODEL });
const context = await model.createContext({ threads: THREADS, contextSize: 2048 });
const sequence = context.getSequence();

async function direct(): Promise<{ ms: number; text: string }> {
  await sequence.clearHistory();
  const start = performance.now();
  const out = [];
  for await (const token of sequence.evaluate([model.tokens.bos!, ...model.tokenize(PROMPT, false)], { temperature: 0 })) {
    if (model.isEogToken(token) || out.push(token) >= TOKENS) break;
  }
  return { ms: performance.now() - start, text: model.detokenize(out) };
}

const backend = await LlamaBackend.load({ modelPath: MODEL, threads: THREADS, contextSize: 2048, gpu: 'cpu' });
const token = 'bench-token-0000';
const companion = await startCompanionServer({ backend, policy: new AccessPolicy({ token, allowedOrigins: [], loopbackOnly: true }), port: 0 });
const client = new CompanionClient({ url: companion.url, token });

async function viaCompanion(): Promise<{ ms: number; text: string }> {
  const start = performance.now();
  const result = await client.generate({ prompt: PROMPT, maxTokens: TOKENS, temperature: 0 });
  return { ms: performance.now() - start, text: result.text };
}

const times = { direct: [] as number[], companion: [] as number[] };
for (let run = 0; run < RUNS; run++) {
  const a = await direct();
  const b = await viaCompanion();
  if (a.text !== b.text) throw new Error('companion text differs from direct llama.cpp');
  times.direct.push(a.ms);
  times.companion.push(b.ms);
}
const row = (name: string, ms: number): string => `${name.padEnd(28)} ${ms.toFixed(1).padStart(8)} ms  ${((TOKENS * 1000) / ms).toFixed(0).padStart(6)} tok/s`;
console.log(`${MODEL.split('/').pop()}, ${TOKENS} greedy tokens, threads ${THREADS}, median of ${RUNS} (same text both ways)`);
console.log(row('node-llama-cpp direct', median(times.direct)));
console.log(row('companion (HTTP + SSE)', median(times.companion)));
await companion.close();
await backend.close();
await context.dispose();
await llama.dispose();
