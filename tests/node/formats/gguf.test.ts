// The GGUF parser on files written by tests/support/gguf-writer.ts: every version and byte order, every value type,
// alignment, unknown tensor types, every error, split models.
import { describe, expect, it } from 'vitest';
import { writeGguf, type GgufTyped, type GgufWriterOptions } from '../../support/gguf-writer.ts';
import { parseGgufHeader, readGguf, sniffGgufMagic, MAX_STRING_BYTES } from '../../../src/lib/formats/gguf.ts';
import { MemoryByteSource } from '../../../src/lib/formats/memory-source.ts';
import { isRbeeError, RbeeError, type RbeeErrorCode } from '../../../src/lib/errors.ts';
import type { ByteSource } from '../../../src/lib/formats/byte-source.ts';
import { check } from '../../../src/lib/compat/check.ts';

const ALL_TYPES: [string, GgufTyped][] = [
  ['general.architecture', { type: 'string', value: 'qwen2' }],
  ['general.name', { type: 'string', value: 'Tiny — ünïcödé 🐝' }],
  ['t.u8', { type: 'u8', value: 255 }],
  ['t.i8', { type: 'i8', value: -128 }],
  ['t.u16', { type: 'u16', value: 65535 }],
  ['t.i16', { type: 'i16', value: -32768 }],
  ['t.u32', { type: 'u32', value: 4294967295 }],
  ['t.i32', { type: 'i32', value: -2147483648 }],
  ['t.f32', { type: 'f32', value: 0.5 }],
  ['t.f64', { type: 'f64', value: Math.PI }],
  ['t.bool', { type: 'bool', value: true }],
  ['t.u64', { type: 'u64', value: 2n ** 53n }],
  ['t.u64big', { type: 'u64', value: 2n ** 64n - 1n }],
  ['t.u64past', { type: 'u64', value: 2n ** 53n + 1n }],
  ['t.i64', { type: 'i64', value: -(2n ** 40n) }],
  ['t.i64big', { type: 'i64', value: -(2n ** 63n) }],
  ['t.empty', { type: 'string', value: '' }],
  ['t.arr.u8', { type: 'array', itemType: 'u8', value: [1, 2, 3] }],
  ['t.arr.f32', { type: 'array', itemType: 'f32', value: [1.5, -2] }],
  ['t.arr.bool', { type: 'array', itemType: 'bool', value: [true, false] }],
  ['t.arr.str', { type: 'array', itemType: 'string', value: ['a', 'Ġb', '▁c', ''] }],
  ['t.arr.u64', { type: 'array', itemType: 'u64', value: [1n, 2n ** 60n] }],
  ['t.arr.empty', { type: 'array', itemType: 'i32', value: [] }],
  [
    't.arr.nested',
    {
      type: 'array',
      itemType: 'array',
      value: [
        { type: 'array', itemType: 'string', value: ['x', 'y'] },
        { type: 'array', itemType: 'i16', value: [-1] },
      ],
    },
  ],
  ['qwen2.context_length', { type: 'u32', value: 32768 }],
  ['qwen2.embedding_length', { type: 'u32', value: 64 }],
  ['qwen2.block_count', { type: 'u32', value: 2 }],
  ['qwen2.attention.head_count', { type: 'u32', value: 4 }],
  ['qwen2.attention.head_count_kv', { type: 'u32', value: 2 }],
  ['qwen2.feed_forward_length', { type: 'u32', value: 128 }],
  ['qwen2.rope.freq_base', { type: 'f32', value: 1000000 }],
  ['qwen2.rope.scaling.type', { type: 'string', value: 'yarn' }],
  ['qwen2.rope.scaling.factor', { type: 'f32', value: 4 }],
  ['qwen2.rope.scaling.original_context_length', { type: 'u32', value: 8192 }],
  ['general.file_type', { type: 'u32', value: 15 }],
  ['tokenizer.ggml.model', { type: 'string', value: 'gpt2' }],
  ['tokenizer.ggml.tokens', { type: 'array', itemType: 'string', value: ['a', 'b', 'c'] }],
  ['tokenizer.chat_template', { type: 'string', value: '{{ messages }}' }],
];

const EXPECTED: Record<string, unknown> = {
  't.u8': 255,
  't.i8': -128,
  't.u16': 65535,
  't.i16': -32768,
  't.u32': 4294967295,
  't.i32': -2147483648,
  't.f32': 0.5,
  't.f64': Math.PI,
  't.bool': true,
  't.u64': 2 ** 53,
  't.u64big': 2n ** 64n - 1n,
  't.u64past': 2n ** 53n + 1n,
  't.i64': -(2 ** 40),
  't.i64big': -(2n ** 63n),
  't.empty': '',
  'general.name': 'Tiny — ünïcödé 🐝',
  't.arr.u8': [1, 2, 3],
  't.arr.f32': [1.5, -2],
  't.arr.bool': [true, false],
  't.arr.str': ['a', 'Ġb', '▁c', ''],
  't.arr.u64': [1, 2n ** 60n],
  't.arr.empty': [],
  't.arr.nested': [['x', 'y'], [-1]],
};

const tensors = (): GgufWriterOptions['tensors'] => [
  { name: 'token_embd.weight', dims: [64, 3], type: 1, data: new Uint8Array(64 * 3 * 2).fill(1) },
  { name: 'blk.0.attn_q.weight', dims: [64, 64], type: 12, data: new Uint8Array((4096 / 256) * 144) },
  { name: 'output_norm.weight', dims: [64], type: 0, data: new Uint8Array(256) },
];

const mem = (bytes: Uint8Array, name = 'model.gguf'): MemoryByteSource => new MemoryByteSource(bytes, name);

async function codeOf(p: Promise<unknown>): Promise<RbeeErrorCode | 'resolved' | 'other'> {
  try {
    await p;
    return 'resolved';
  } catch (e) {
    return isRbeeError(e) ? e.code : 'other';
  }
}

describe('GGUF versions and byte orders', () => {
  for (const version of [1, 2, 3] as const) {
    for (const bigEndian of [false, true]) {
      it(`v${version} ${bigEndian ? 'big' : 'little'}-endian: every value type, tensors, descriptor`, async () => {
        const bytes = writeGguf({ version, bigEndian, metadata: ALL_TYPES, tensors: tensors() });
        const d = await readGguf(mem(bytes));
        const g = d.gguf!;
        expect(g.version).toBe(version);
        expect(g.littleEndian).toBe(!bigEndian);
        for (const [k, v] of Object.entries(EXPECTED)) expect(g.metadata[k], k).toEqual(v);
        expect(d.tensors.map((t) => [t.name, t.dims, t.typeName, t.size])).toEqual([
          ['token_embd.weight', [64, 3], 'F16', 384],
          ['blk.0.attn_q.weight', [64, 64], 'Q4_K', 2304],
          ['output_norm.weight', [64], 'F32', 256],
        ]);
        // Offsets are absolute and aligned; the data really is where they say (token_embd is filled with 1s).
        expect(d.tensors[0]!.offset).toBe(g.dataOffsets[0]);
        expect(d.tensors[0]!.offset % 32).toBe(0);
        expect(bytes[d.tensors[0]!.offset]).toBe(1);
        expect(bytes[d.tensors[0]!.offset - 1]).toBe(0);
        expect(d).toMatchObject({
          architecture: 'qwen2',
          name: 'Tiny — ünïcödé 🐝',
          contextLength: 32768,
          embeddingLength: 64,
          blockCount: 2,
          headCount: 4,
          headCountKv: 2,
          headDim: 16,
          feedForwardLength: 128,
          fileType: 'Q4_K_M',
          vocabSize: 3,
          tokenizer: 'bpe',
          hasChatTemplate: true,
          parameterCount: 64 * 3 + 64 * 64 + 64,
          totalWeightBytes: 384 + 2304 + 256,
          rope: { layout: 'neox', freqBase: 1000000, scalingType: 'yarn', scalingFactor: 4, originalContextLength: 8192 },
        });
        expect(d.weightTypes).toEqual([
          { type: 'Q4_K', tensors: 1, bytes: 2304 },
          { type: 'F16', tensors: 1, bytes: 384 },
          { type: 'F32', tensors: 1, bytes: 256 },
        ]);
        const h = await parseGgufHeader(mem(bytes));
        expect(h.metadataTypes['t.arr.nested']).toBe('array<array<i16>>');
        expect(h.metadataTypes['t.u64']).toBe('u64');
      });
    }
  }

  it('honours general.alignment', async () => {
    for (const alignment of [1, 8, 64, 4096]) {
      const d = await readGguf(mem(writeGguf({ alignment, metadata: ALL_TYPES.slice(0, 2), tensors: tensors() })));
      expect(d.gguf!.alignment).toBe(alignment);
      for (const t of d.tensors) expect(t.offset % alignment).toBe(0);
      expect(d.gguf!.dataOffsets[0]! % alignment).toBe(0);
    }
  });

  it('reports an unknown or removed tensor type with a warning, not a crash', async () => {
    const bytes = writeGguf({
      metadata: [['general.architecture', { type: 'string', value: 'llama' }]],
      tensors: [
        { name: 'a', dims: [32], type: 77, data: new Uint8Array(32) },
        { name: 'b', dims: [32], type: 4, data: new Uint8Array(32) }, // Q4_2: removed from ggml
        { name: 'c', dims: [4], type: 0, data: new Uint8Array(16) },
      ],
    });
    const d = await readGguf(mem(bytes));
    expect(d.tensors.map((t) => [t.typeName, t.size])).toEqual([
      ['unknown(77)', undefined],
      ['Q4_2', undefined],
      ['F32', 16],
    ]);
    expect(d.warnings.join('\n')).toMatch(/type 77/);
    expect(d.warnings.join('\n')).toMatch(/Q4_2.*re-convert/);
  });

  it('reads a file with a metadata key written twice, warns, and marks it unloadable (llama.cpp refuses it)', async () => {
    const bytes = writeGguf({
      metadata: [
        ['general.architecture', { type: 'string', value: 'llama' }],
        ['general.name', { type: 'string', value: 'first' }],
        ['general.name', { type: 'string', value: 'second, longer than the first' }],
        ['llama.context_length', { type: 'u32', value: 128 }],
      ],
      tensors: [{ name: 'c', dims: [4], type: 0, data: new Uint8Array(16) }],
    });
    const d = await readGguf(mem(bytes));
    // Everything after the duplicate is still read: the value was skipped, not the rest of the header.
    expect(d.gguf!.metadata['general.name']).toBe('first');
    expect(d.contextLength).toBe(128);
    expect(d.tensors.map((t) => t.name)).toEqual(['c']);
    expect(d.defects).toEqual([expect.stringMatching(/"general\.name" is written twice; llama\.cpp refuses/)]);
    expect(d.warnings.join('\n')).toMatch(/"general\.name" is written twice/);
    const v = check(d);
    expect(v.runs).toBe(false);
    expect(v.confidence).toBe('unsupported');
    expect(v.reasons.join(' ')).toMatch(/written twice/);
    expect(v.backends.every((b) => b.confidence === 'unsupported')).toBe(true);
  });

  it('names llama-family files interleaved rope, others neox, and recognises adapters', async () => {
    const arch = async (a: string, extra: [string, GgufTyped][] = []) =>
      readGguf(mem(writeGguf({ metadata: [['general.architecture', { type: 'string', value: a }], ...extra], tensors: [] })));
    expect((await arch('llama')).rope?.layout).toBe('interleaved');
    expect((await arch('gemma3')).rope?.layout).toBe('neox');
    expect((await arch('qwen3')).rope?.layout).toBe('neox');
    expect((await arch('phi3')).rope?.layout).toBe('neox');
    expect((await arch('mpt')).rope).toBeUndefined();
    expect((await arch('llama', [['general.type', { type: 'string', value: 'adapter' }]])).kind).toBe('adapter');
    expect((await arch('llama')).name).toBe('model'); // no general.name: the file name without .gguf
  });

  it('sniffs magics', () => {
    const b = (s: string) => new TextEncoder().encode(s);
    expect(sniffGgufMagic(b('GGUF\x03'))).toBe('gguf');
    for (const m of ['lmgg', 'fmgg', 'tjgg', 'algg', 'ggjt']) expect(sniffGgufMagic(b(m))).toBe('legacy-ggml');
    expect(sniffGgufMagic(b('PK\x03\x04'))).toBeUndefined();
    expect(sniffGgufMagic(b('GG'))).toBeUndefined();
  });
});

describe('GGUF errors', () => {
  const base = (): GgufWriterOptions => ({ metadata: ALL_TYPES.slice(0, 3), tensors: tensors() });
  const good = writeGguf(base());
  const expectCode = async (bytes: Uint8Array, code: RbeeErrorCode): Promise<void> => {
    expect(await codeOf(readGguf(mem(bytes)))).toBe(code);
  };
  /** The same file with a u64 patched at `at` (little-endian). */
  const patch64 = (bytes: Uint8Array, at: number, v: bigint): Uint8Array => {
    const out = bytes.slice();
    new DataView(out.buffer).setBigUint64(at, v, true);
    return out;
  };

  it('truncated files, at every cut inside the header', async () => {
    const h = await parseGgufHeader(mem(good));
    for (let cut = 0; cut < h.headerBytes; cut += 7) {
      const code = await codeOf(readGguf(mem(good.subarray(0, cut))));
      expect(code, `cut at ${cut}`).toBe('truncated');
    }
    // Header intact but tensor data cut off: the tensors lie outside the file.
    await expectCode(good.subarray(0, good.byteLength - 1), 'bad-offset');
  });

  it('bad magic, legacy GGML, unsupported version', async () => {
    await expectCode(writeGguf({ ...base(), magic: 'GGUG' }), 'bad-magic');
    await expectCode(new TextEncoder().encode('<!DOCTYPE html><html>not a model</html>'), 'bad-magic');
    for (const magic of ['lmgg', 'tjgg', 'fmgg', 'algg']) await expectCode(writeGguf({ ...base(), magic }), 'legacy-ggml');
    const v4 = good.slice();
    v4[4] = 4;
    await expectCode(v4, 'unsupported-version');
    const v0 = good.slice();
    v0[4] = 0;
    v0[5] = 1; // 256: low 16 bits non-zero → read as little-endian version 256
    await expectCode(v0, 'unsupported-version');
  });

  it('absurd counts and lengths', async () => {
    await expectCode(patch64(good, 8, 10n ** 12n), 'limit-exceeded'); // 10^12 tensors
    await expectCode(patch64(good, 8, 2n ** 63n), 'limit-exceeded');
    await expectCode(patch64(good, 8, 100_000n), 'truncated'); // under the limit, but the file cannot hold them
    await expectCode(patch64(good, 16, 2n ** 40n), 'limit-exceeded'); // KV count
    await expectCode(patch64(good, 24, 2n ** 60n), 'limit-exceeded'); // first key's length 2^60
    await expectCode(patch64(good, 24, BigInt(MAX_STRING_BYTES + 1)), 'limit-exceeded');
    await expectCode(patch64(good, 24, 1_000_000n), 'truncated'); // key longer than the file
    // An array of 2^40 strings (tokens) and one of 2^20 items the file cannot hold.
    const arr = (n: bigint): Uint8Array => {
      const b = writeGguf({ metadata: [['a', { type: 'array', itemType: 'string', value: ['x'] }]], tensors: [] });
      // magic 4, version 4, counts 16, key (8 + 1), type 4, item type 4 → count at 41
      return patch64(b, 41, n);
    };
    await expectCode(arr(2n ** 40n), 'limit-exceeded');
    await expectCode(arr(2n ** 23n), 'limit-exceeded'); // past MAX_ARRAY_LENGTH
    await expectCode(arr(2n ** 20n), 'truncated');
    // Arrays that are each within the limit but together hold too many items.
    const big = new Array<number>(3 << 20).fill(7);
    const many = writeGguf({
      metadata: Array.from({ length: 3 }, (_, i): [string, GgufTyped] => [`a${i}`, { type: 'array', itemType: 'u8', value: big }]),
      tensors: [],
    });
    await expectCode(many, 'limit-exceeded');
    const nested = writeGguf({ metadata: [['n', { type: 'array', itemType: 'array', value: [] }]], tensors: [] });
    new DataView(nested.buffer).setBigUint64(24 + 9 + 4 + 4, 1n << 17n, true); // key "n" (8 + 1), type, item type
    await expectCode(new Uint8Array([...nested, ...new Uint8Array(12 << 17)]), 'limit-exceeded');
  });

  it('bad metadata values', async () => {
    const unknownType = writeGguf({ metadata: [['a', { type: 'u8', value: 1 }]], tensors: [] });
    new DataView(unknownType.buffer).setUint32(33, 13, true); // value type id 13 does not exist
    await expectCode(unknownType, 'bad-value');
    for (const value of [0, 3, 48]) {
      await expectCode(writeGguf({ ...base(), metadata: [['general.alignment', { type: 'u32', value }]] }), 'bad-value');
    }
    await expectCode(writeGguf({ ...base(), metadata: [['general.alignment', { type: 'string', value: '32' }]] }), 'bad-value');
    // Nesting past the limit.
    let deep: GgufTyped = { type: 'array', itemType: 'u8', value: [1] };
    for (let i = 0; i < 10; i++) deep = { type: 'array', itemType: 'array', value: [deep] };
    await expectCode(writeGguf({ metadata: [['deep', deep]], tensors: [] }), 'limit-exceeded');
  });

  it('bad tensor infos', async () => {
    const t = tensors();
    await expectCode(writeGguf({ metadata: [], tensors: [t[0]!, { ...t[2]!, name: t[0]!.name }] }), 'duplicate-tensor');
    await expectCode(writeGguf({ metadata: [], tensors: [t[0]!, { ...t[2]!, offset: 32 }] }), 'overlapping-tensors');
    await expectCode(writeGguf({ metadata: [], tensors: [t[0]!, { ...t[2]!, offset: 400 }] }), 'bad-offset'); // misaligned
    await expectCode(writeGguf({ metadata: [], tensors: [t[0]!, t[2]!], omitData: true }), 'bad-offset'); // outside
    await expectCode(writeGguf({ metadata: [], tensors: [{ name: 'x', dims: [1, 1, 1, 1, 1], type: 0, data: new Uint8Array(4) }] }), 'limit-exceeded');
    await expectCode(writeGguf({ metadata: [], tensors: [{ name: 'x', dims: [100], type: 12, data: new Uint8Array(144) }] }), 'bad-value'); // not whole Q4_K blocks
    await expectCode(writeGguf({ metadata: [], tensors: [{ name: 'x'.repeat(2000), dims: [1], type: 0, data: new Uint8Array(4) }] }), 'limit-exceeded');
    await expectCode(writeGguf({ metadata: [], tensors: [{ name: 'x', dims: [2 ** 31, 2 ** 31, 2 ** 31], type: 0, dataSize: 0 }], omitData: true }), 'limit-exceeded');
  });

  it('aborts', async () => {
    const ctl = new AbortController();
    ctl.abort();
    expect(await codeOf(readGguf(mem(good), { signal: ctl.signal }))).toBe('aborted');
  });
});

describe('GGUF growing reads', () => {
  it('reads a large header in few, growing windows and never the tensor data', async () => {
    const n = 60_000;
    const tokens = Array.from({ length: n }, (_, i) => `tok${i}`);
    const bytes = writeGguf({
      metadata: [
        ['general.architecture', { type: 'string', value: 'llama' }],
        ['tokenizer.ggml.model', { type: 'string', value: 'gpt2' }],
        ['tokenizer.ggml.tokens', { type: 'array', itemType: 'string', value: tokens }],
        ['tokenizer.ggml.token_type', { type: 'array', itemType: 'i32', value: tokens.map(() => 1) }],
        ['tokenizer.ggml.merges', { type: 'array', itemType: 'string', value: tokens.map((t) => `t ${t.slice(1)}`) }],
      ],
      tensors: [{ name: 'big', dims: [4 << 20], type: 0, dataSize: 16 << 20 }],
    });
    const src = mem(bytes);
    const d = await readGguf(src, { initialRead: 64 << 10 });
    expect(d.vocabSize).toBe(n);
    const header = d.gguf!.headerBytes;
    expect(src.stats.requests).toBeLessThanOrEqual(3);
    expect(src.stats.bytesRead).toBeGreaterThanOrEqual(header);
    expect(src.stats.bytesRead).toBeLessThan(header * 1.3);
  });
});

describe('GGUF reads on damaged counts', () => {
  it('a count that claims far more header than exists does not turn into one huge fetch', async () => {
    // A 40 GB "model" whose vocabulary count was damaged to 2^22 - 1 (inside the limits, and the file is large
    // enough to hold that many strings): the reader must grow its reads step by step, not fetch 32 MB at once.
    const header = writeGguf({
      metadata: [['tokenizer.ggml.tokens', { type: 'array', itemType: 'string', value: ['a', 'b'] }]],
      tensors: [],
    });
    new DataView(header.buffer).setBigUint64(4 + 4 + 16 + 8 + 21 + 4 + 4, 2n ** 22n - 1n, true);
    const reads: number[] = [];
    const source: ByteSource = {
      name: 'huge.gguf',
      location: 'memory:huge.gguf',
      stats: { bytesRead: 0, requests: 0 },
      size: async () => 40e9,
      read: async (offset, length) => {
        reads.push(length);
        if (reads.length > 2) throw new RbeeError('network', 'stop here');
        const out = new Uint8Array(length);
        out.set(header.subarray(offset, offset + length));
        return out;
      },
    };
    expect(await codeOf(readGguf(source))).toBe('network');
    expect(reads[0]).toBe(1 << 20);
    expect(reads[1]).toBeLessThanOrEqual(8 << 20);
  });
});

describe('split GGUF', () => {
  const part = (no: number, count: number, names: string[], extra: [string, GgufTyped][] = []): Uint8Array =>
    writeGguf({
      metadata: [
        ...(no === 0 ? ALL_TYPES.slice(0, 2) : []),
        ['split.no', { type: 'u16', value: no }],
        ['split.count', { type: 'u16', value: count }],
        ['split.tensors.count', { type: 'i32', value: 3 }],
        ...extra,
      ],
      tensors: names.map((name) => ({ name, dims: [8], type: 0, data: new Uint8Array(32) })),
    });
  const files: Record<string, Uint8Array> = {
    'm-00001-of-00003.gguf': part(0, 3, ['a']),
    'm-00002-of-00003.gguf': part(1, 3, ['b']),
    'm-00003-of-00003.gguf': part(2, 3, ['c']),
  };
  const opener =
    (set: Record<string, Uint8Array>) =>
    (name: string): ByteSource | undefined =>
      set[name] ? mem(set[name]!, name) : undefined;

  it('reads all parts together, from any part', async () => {
    for (const start of Object.keys(files)) {
      const d = await readGguf(mem(files[start]!, start), { openSplit: opener(files) });
      expect(d.tensors.map((t) => [t.name, t.file])).toEqual([
        ['a', 0],
        ['b', 1],
        ['c', 2],
      ]);
      expect(d.files.map((f) => f.location)).toEqual(Object.keys(files).map((n) => `memory:${n}`));
      expect(d.name).toBe('Tiny — ünïcödé 🐝'); // metadata from the first part
      expect(d.gguf!.dataOffsets).toHaveLength(3);
      expect(d.warnings).toEqual([]);
    }
  });

  it('a missing part, a part from another split, duplicate tensors across parts', async () => {
    const { 'm-00002-of-00003.gguf': _, ...missing } = files;
    expect(await codeOf(readGguf(mem(files['m-00001-of-00003.gguf']!, 'm-00001-of-00003.gguf'), { openSplit: opener(missing) }))).toBe('split-missing');
    expect(await codeOf(readGguf(mem(files['m-00001-of-00003.gguf']!, 'm-00001-of-00003.gguf')))).toBe('split-missing');
    const wrong = { ...files, 'm-00002-of-00003.gguf': part(1, 4, ['b']) };
    expect(await codeOf(readGguf(mem(files['m-00001-of-00003.gguf']!, 'm-00001-of-00003.gguf'), { openSplit: opener(wrong) }))).toBe('bad-value');
    const dup = { ...files, 'm-00003-of-00003.gguf': part(2, 3, ['a']) };
    expect(await codeOf(readGguf(mem(files['m-00001-of-00003.gguf']!, 'm-00001-of-00003.gguf'), { openSplit: opener(dup) }))).toBe('duplicate-tensor');
    // A split part under a name that does not say where the others are.
    expect(await codeOf(readGguf(mem(files['m-00001-of-00003.gguf']!, 'renamed.gguf'), { openSplit: opener(files) }))).toBe('split-missing');
  });
});
