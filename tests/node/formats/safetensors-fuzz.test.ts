// Fuzz: 12,000 mutated and truncated SafeTensors files (seeded, so a failure reproduces), each of which must end in a
// descriptor or an RbeeError — never a TypeError/RangeError, a hang, or an allocation from an untrusted length.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isRbeeError, RbeeError } from '../../../src/lib/errors.ts';
import type { ByteSource } from '../../../src/lib/formats/byte-source.ts';
import { readSafetensors } from '../../../src/lib/formats/safetensors.ts';
import { fixture, HAS_FIXTURES } from '../../support/fixtures.ts';
import { seeded } from '../../support/seeded-random.ts';


/**
 * A fuzz case: the length prefix and header bytes, then `dataBytes` of data section that only exists as a size
 * (reads past `head` return zeros) — so mutating a real 850 KB file costs a copy of its header, not of its weights.
 */
interface Sample {
  head: Uint8Array;
  dataBytes: number;
}

class SampleSource implements ByteSource {
  readonly name = 'fuzz.safetensors';
  readonly location = 'memory:fuzz.safetensors';
  readonly stats = { bytesRead: 0, requests: 0 };
  constructor(private readonly sample: Sample) {}
  size(): Promise<number> {
    return Promise.resolve(this.sample.head.byteLength + this.sample.dataBytes);
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    const total = this.sample.head.byteLength + this.sample.dataBytes;
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) throw new RbeeError('bad-offset', 'bad range');
    const out = new Uint8Array(Math.max(0, Math.min(total, offset + length) - offset));
    out.set(this.sample.head.subarray(Math.min(offset, this.sample.head.byteLength), Math.min(offset + out.byteLength, this.sample.head.byteLength)));
    this.stats.requests++;
    return out;
  }
}

function build(headerText: string, dataBytes: number): Sample {
  const json = new TextEncoder().encode(headerText);
  const head = new Uint8Array(8 + json.byteLength);
  new DataView(head.buffer).setBigUint64(0, BigInt(json.byteLength), true);
  head.set(json, 8);
  return { head, dataBytes };
}

function sampleOf(file: Uint8Array): Sample {
  const n = Number(new DataView(file.buffer, file.byteOffset, 8).getBigUint64(0, true));
  return { head: file.slice(0, 8 + n), dataBytes: file.byteLength - 8 - n };
}

const synthetic = build(
  JSON.stringify({
    __metadata__: { format: 'pt' },
    'model.embed_tokens.weight': { dtype: 'BF16', shape: [16, 8], data_offsets: [0, 256] },
    'model.layers.0.self_attn.q_proj.weight': { dtype: 'F16', shape: [8, 8], data_offsets: [256, 384] },
    'model.norm.weight': { dtype: 'F32', shape: [8], data_offsets: [384, 416] },
    'lm_head.weight': { dtype: 'F8_E4M3', shape: [16, 8], data_offsets: [416, 544] },
    scalar: { dtype: 'I64', shape: [], data_offsets: [544, 552] },
    empty: { dtype: 'U8', shape: [0, 4], data_offsets: [552, 552] },
  }),
  552,
);

const TOKENS = ['{', '}', '[', ']', ',', ':', '"', '0', '-1', '1e308', '18446744073709551615', '"F32"', '"dtype"', '"shape"', '"data_offsets"', 'null', 'true', '"__metadata__"', '\\u0000', '\\ud800', '9007199254740993', '4.5'];

/** One mutation of `base`, chosen by the PRNG: byte edits, JSON-token edits, length-prefix edits, truncation. */
function mutate(base: Sample, r: () => number): Sample {
  const headerLength = base.head.byteLength - 8;
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const kind = Math.floor(r() * 7);
  if (kind === 0) {
    // Flip a few bytes of the prefix and header.
    const out = base.head.slice();
    for (let i = 0, n = 1 + Math.floor(r() * 4); i < n; i++) out[Math.floor(r() * out.length)] = Math.floor(r() * 256);
    return { head: out, dataBytes: base.dataBytes };
  }
  if (kind === 1) {
    // Truncate anywhere.
    const cut = Math.floor(r() * (base.head.byteLength + base.dataBytes));
    return cut < base.head.byteLength ? { head: base.head.slice(0, cut), dataBytes: 0 } : { head: base.head, dataBytes: cut - base.head.byteLength };
  }
  if (kind === 2) {
    // A different length prefix: tiny, huge, off by a little.
    const out = base.head.slice();
    const choices = [0n, 1n, 2n, BigInt(headerLength - 1), BigInt(headerLength + 1), 2n ** 60n, 2n ** 64n - 1n, BigInt(Math.floor(r() * 2 ** 32)), 100_000_001n];
    new DataView(out.buffer).setBigUint64(0, pick(choices), true);
    return { head: out, dataBytes: base.dataBytes };
  }
  const text = new TextDecoder().decode(base.head.subarray(8));
  const data = base.dataBytes;
  if (kind === 3) {
    // Replace a number in the header with a hostile one.
    const numbers = [...text.matchAll(/-?\d+(\.\d+)?/g)];
    if (numbers.length === 0) return base;
    const m = pick(numbers);
    const replacement = pick(['-1', '0', '1', '7', '1e308', '1.5', '4294967296', '9007199254740993', '18446744073709551615', String(data), String(data + 1)]);
    return build(text.slice(0, m.index) + replacement + text.slice(m.index! + m[0].length), data);
  }
  if (kind === 4) {
    // Insert or delete a JSON token.
    const at = Math.floor(r() * text.length);
    const edited = r() < 0.5 ? text.slice(0, at) + pick(TOKENS) + text.slice(at) : text.slice(0, at) + text.slice(at + 1 + Math.floor(r() * 8));
    return build(edited, data);
  }
  if (kind === 5) {
    // Structural edits on the parsed header.
    const header = JSON.parse(text) as Record<string, Record<string, unknown> | null>;
    const keys = Object.keys(header);
    const key = pick(keys);
    const entry = header[key];
    const field = pick(['dtype', 'shape', 'data_offsets', '__whole__']);
    const value = pick<unknown>([null, 1, 'x', [], [1, 2, 3], {}, 'BF16', 'F4', 'U64', [0, 0], [2 ** 53, 2 ** 53 + 2], [[1]], true, -0]);
    if (field === '__whole__' || entry === null || typeof entry !== 'object') header[key] = value as never;
    else entry[field] = value;
    return build(JSON.stringify(header), data);
  }
  // Duplicate a tensor entry under a new name (overlaps) or deep nesting.
  if (r() < 0.5) {
    const header = JSON.parse(text) as Record<string, unknown>;
    const keys = Object.keys(header).filter((k) => k !== '__metadata__');
    if (keys.length) header[`${pick(keys)}.copy`] = header[pick(keys)];
    return build(JSON.stringify(header), data);
  }
  const depth = 1 + Math.floor(r() * 5000);
  return build(`{"a":${'['.repeat(depth)}${']'.repeat(depth)}}`, data);
}

describe('SafeTensors fuzz', () => {
  it('12,000 mutated and truncated headers each end in a descriptor or an RbeeError', async () => {
    const bases = [synthetic];
    if (HAS_FIXTURES) {
      bases.push(sampleOf(new Uint8Array(readFileSync(fixture('safetensors/overall.safetensors')))));
      // A real header with lora tensor names and `__metadata__: null`.
      bases.push(sampleOf(new Uint8Array(readFileSync(fixture('safetensors/adapters.safetensors')))));
    }
    const r = seeded(0x5afe7e25);
    const codes = new Map<string, number>();
    let described = 0;
    // CPU time, not wall time: the bound is about the parser's work, and CI machines are shared.
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    const N = 12_000;
    for (let i = 0; i < N; i++) {
      const input = mutate(bases[i % bases.length]!, r);
      try {
        const d = await readSafetensors(new SampleSource(input));
        // A descriptor that came out must be self-consistent.
        for (const t of d.tensors) {
          expect(t.offset + (t.size ?? 0)).toBeLessThanOrEqual(input.head.byteLength + input.dataBytes);
          expect(t.dims.every((x) => Number.isSafeInteger(x) && x >= 0)).toBe(true);
        }
        described++;
      } catch (e) {
        if (!isRbeeError(e)) throw new Error(`case ${i}: ${String(e)} (${(e as Error)?.stack ?? ''})`);
        codes.set(e.code, (codes.get(e.code) ?? 0) + 1);
      }
    }
    const cpu = process.cpuUsage(cpuBefore);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    const seconds = (performance.now() - started) / 1000;
    console.log(`safetensors fuzz: ${N} cases in ${seconds.toFixed(2)} s wall, ${cpuSeconds.toFixed(2)} s CPU; ${described} described; errors ${JSON.stringify(Object.fromEntries(codes))}`);
    expect(cpuSeconds).toBeLessThan(15);
    // The mutations reach the checks they are meant to reach.
    for (const code of ['truncated', 'limit-exceeded', 'bad-json', 'bad-value', 'bad-offset', 'overlapping-tensors']) {
      expect(codes.get(code) ?? 0, code).toBeGreaterThan(0);
    }
    expect(described).toBeGreaterThan(0);
    expect(codes.get('internal') ?? 0).toBe(0);
  });
});
