// Fuzz: 12,000 mutated and truncated GGUF headers (seeded, so a failure reproduces). Each must end in a descriptor or
// an RbeeError — never a TypeError/RangeError, a hang or an unbounded allocation — and quickly.
import { describe, expect, it } from 'vitest';
import { writeGguf, type GgufTyped } from '../../support/gguf-writer.ts';
import { readGguf } from '../../../src/lib/formats/gguf.ts';
import { MemoryByteSource } from '../../../src/lib/formats/memory-source.ts';
import { isRbeeError } from '../../../src/lib/errors.ts';
import { seeded } from '../../support/seeded-random.ts';


const metadata: [string, GgufTyped][] = [
  ['general.architecture', { type: 'string', value: 'llama' }],
  ['general.name', { type: 'string', value: 'fuzz' }],
  ['general.alignment', { type: 'u32', value: 32 }],
  ['llama.context_length', { type: 'u32', value: 4096 }],
  ['llama.rope.freq_base', { type: 'f32', value: 10000 }],
  ['x.u64', { type: 'u64', value: 7n }],
  ['x.i64', { type: 'i64', value: -7n }],
  ['x.f64', { type: 'f64', value: 1.25 }],
  ['x.bool', { type: 'bool', value: false }],
  ['x.nested', { type: 'array', itemType: 'array', value: [{ type: 'array', itemType: 'u16', value: [1, 2] }] }],
  ['split.count', { type: 'u16', value: 1 }],
  ['tokenizer.ggml.model', { type: 'string', value: 'gpt2' }],
  ['tokenizer.ggml.tokens', { type: 'array', itemType: 'string', value: Array.from({ length: 40 }, (_, i) => `t${i}`) }],
  ['tokenizer.ggml.scores', { type: 'array', itemType: 'f32', value: Array.from({ length: 40 }, (_, i) => -i) }],
  ['tokenizer.chat_template', { type: 'string', value: '{% for m in messages %}{{ m.content }}{% endfor %}' }],
];
const tensors = [
  { name: 'token_embd.weight', dims: [32, 40], type: 8, data: new Uint8Array(40 * 34) },
  { name: 'blk.0.attn_q.weight', dims: [256, 2], type: 12, data: new Uint8Array(2 * 144) },
  { name: 'output_norm.weight', dims: [32], type: 0, data: new Uint8Array(128) },
];
const BASES = [
  writeGguf({ version: 3, metadata, tensors }),
  writeGguf({ version: 3, bigEndian: true, metadata, tensors }),
  writeGguf({ version: 2, metadata, tensors }),
  writeGguf({ version: 1, metadata, tensors }),
];
const HUGE = [2n ** 60n, 2n ** 63n, 2n ** 64n - 1n, 10n ** 12n, 2n ** 32n - 1n, 2n ** 31n, 1n << 24n, 65536n, 0n];

function mutate(rand: () => number, base: Uint8Array, headerEnd: number): Uint8Array {
  const kind = rand();
  let bytes = base.slice();
  const at = (): number => Math.floor(rand() * Math.min(bytes.byteLength, headerEnd));
  if (kind < 0.3) {
    const flips = 1 + Math.floor(rand() * 8);
    for (let i = 0; i < flips; i++) bytes[at()] = Math.floor(rand() * 256);
  } else if (kind < 0.6) {
    // A length / count field (or anything) set to a huge value, in either byte order, 4 or 8 bytes wide.
    const view = new DataView(bytes.buffer);
    const pos = Math.max(0, Math.min(at(), bytes.byteLength - 8));
    const v = HUGE[Math.floor(rand() * HUGE.length)]!;
    if (rand() < 0.5) view.setBigUint64(pos, v, rand() < 0.7);
    else view.setUint32(pos, Number(v & 0xffffffffn), rand() < 0.7);
  } else if (kind < 0.85) {
    bytes = bytes.subarray(0, Math.floor(rand() * (headerEnd + 64)));
  } else {
    for (let i = 0; i < 3; i++) bytes[at()] ^= 1 << Math.floor(rand() * 8);
    bytes = bytes.subarray(0, Math.floor(rand() * bytes.byteLength));
  }
  return bytes;
}

describe('GGUF fuzz', () => {
  it('12,000 mutated and truncated headers end in a descriptor or an RbeeError', async () => {
    const rand = seeded(0x5eed);
    const headerEnds = BASES.map((b) => b.byteLength - 40 * 34 - 2 * 144 - 128);
    const outcomes = new Map<string, number>();
    let slowest = 0;
    const started = performance.now();
    for (let i = 0; i < 12_000; i++) {
      const which = i % BASES.length;
      const bytes = mutate(rand, BASES[which]!, headerEnds[which]!);
      const initialRead = [16, 100, 1024, 1 << 20][Math.floor(rand() * 4)]!;
      const t0 = performance.now();
      let outcome: string;
      try {
        await readGguf(new MemoryByteSource(bytes, 'fuzz.gguf'), { initialRead });
        outcome = 'descriptor';
      } catch (e) {
        if (!isRbeeError(e)) throw new Error(`case ${i}: ${String(e)} (${(e as Error)?.stack ?? ''})`, { cause: e });
        expect(e.message.length).toBeGreaterThan(0);
        outcome = e.code;
      }
      slowest = Math.max(slowest, performance.now() - t0);
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
    const elapsed = performance.now() - started;
    // The fuzz reaches the parser's main outcomes, not just the magic check.
    for (const code of ['descriptor', 'truncated', 'limit-exceeded', 'bad-value', 'bad-offset']) {
      expect(outcomes.get(code) ?? 0, `${code} in ${JSON.stringify([...outcomes])}`).toBeGreaterThan(50);
    }
    expect(slowest).toBeLessThan(1000);
    expect(elapsed).toBeLessThan(20_000);
  });
});
