import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isRbeeError, RbeeError } from '../../../src/lib/errors.ts';
import type { ByteSource } from '../../../src/lib/formats/byte-source.ts';
import { MemoryByteSource } from '../../../src/lib/formats/memory-source.ts';
import { readSafetensors, readSafetensorsHeader, SAFETENSORS_LIMITS } from '../../../src/lib/formats/safetensors.ts';
import { SAFETENSORS_DTYPES, SAFETENSORS_NO_GGML_TYPE } from '../../../src/lib/formats/safetensors-dtypes.ts';
import { descriptorFieldsFromConfig } from '../../../src/lib/formats/safetensors-config.ts';
import { fixture, HAS_FIXTURES } from '../../support/fixtures.ts';

const enc = new TextEncoder();

/** A SafeTensors file from a header object and a data section of `dataBytes` zero bytes. */
function safetensorsFile(header: unknown, dataBytes: number, rawHeader?: string): Uint8Array {
  const json = enc.encode(rawHeader ?? JSON.stringify(header));
  const out = new Uint8Array(8 + json.byteLength + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.byteLength), true);
  out.set(json, 8);
  return out;
}

/** A folder of in-memory files, as loaders see siblings. */
function folder(files: Record<string, Uint8Array | string>): (name: string) => Promise<ByteSource | undefined> {
  return async (name) => {
    const f = files[name];
    return f === undefined ? undefined : new MemoryByteSource(typeof f === 'string' ? enc.encode(f) : f, name);
  };
}

async function errorOf(p: Promise<unknown>): Promise<RbeeError> {
  try {
    await p;
  } catch (e) {
    expect(isRbeeError(e), `expected RbeeError, got ${String(e)}`).toBe(true);
    return e as RbeeError;
  }
  throw new Error('expected an error');
}

describe.runIf(HAS_FIXTURES)('SafeTensors fixtures', () => {
  it('overall.safetensors: every tensor equals a plain JSON read of the header', async () => {
    const bytes = readFileSync(fixture('safetensors/overall.safetensors'));
    const n = Number(bytes.readBigUInt64LE(0));
    const plain = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
    const d = await readSafetensors(new MemoryByteSource(new Uint8Array(bytes), 'overall.safetensors'));

    expect(d.format).toBe('safetensors');
    expect(d.kind).toBe('model');
    expect(d.safetensors?.metadata).toEqual(plain.__metadata__);
    const entries = Object.entries(plain).filter(([k]) => k !== '__metadata__');
    expect(d.tensors).toHaveLength(entries.length);
    for (const [name, t] of entries) {
      const info = d.tensors.find((x) => x.name === name)!;
      expect(info.typeName).toBe(t.dtype);
      expect(info.dims).toEqual(t.shape.slice().reverse());
      expect(info.offset).toBe(8 + n + t.data_offsets[0]);
      expect(info.size).toBe(t.data_offsets[1] - t.data_offsets[0]);
    }
    const ggml = Object.fromEntries(d.tensors.map((t) => [t.typeName, t.type]));
    expect(ggml).toEqual({ U8: -1, U16: -1, U32: -1, I8: 24, I16: 25, I32: 26, F16: 1, F32: 0, F64: 28 });
    expect(d.parameterCount).toBe(6 * 9);
    expect(d.totalWeightBytes).toBe(bytes.byteLength - 8 - n);
    expect(d.weightTypes.reduce((s, w) => s + w.bytes, 0)).toBe(d.totalWeightBytes);
    expect(d.fileType).toBe('F64'); // the most bytes
    expect(d.warnings.some((w) => /config\.json/.test(w))).toBe(true);
  });

  it('adapters.safetensors: every tensor equals a plain JSON read of the header (null __metadata__)', async () => {
    const bytes = readFileSync(fixture('safetensors/adapters.safetensors'));
    const n = Number(bytes.readBigUInt64LE(0));
    const plain = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] } | null>;
    const d = await readSafetensors(new MemoryByteSource(new Uint8Array(bytes), 'adapters.safetensors'));
    expect(plain.__metadata__).toBeNull();
    expect(d.safetensors?.metadata).toEqual({});
    const fromJson = Object.entries(plain)
      .filter(([k]) => k !== '__metadata__')
      .map(([name, t]) => ({ name, dims: t!.shape.slice().reverse(), typeName: t!.dtype, offset: 8 + n + t!.data_offsets[0], size: t!.data_offsets[1] - t!.data_offsets[0] }))
      .sort((a, b) => a.offset - b.offset);
    expect(d.tensors.map(({ name, dims, typeName, offset, size }) => ({ name, dims, typeName, offset, size }))).toEqual(fromJson);
    expect(d.totalWeightBytes).toBe(bytes.byteLength - 8 - n);
  });

  it('a LoRA adapter (adapters.safetensors + adapter_config.json) is recognised as an adapter', async () => {
    const bytes = new Uint8Array(readFileSync(fixture('safetensors/adapters.safetensors')));
    const config = new Uint8Array(readFileSync(fixture('safetensors/adapter_config.json')));
    const d = await readSafetensors(new MemoryByteSource(bytes, 'adapters.safetensors'), {
      openSibling: folder({ 'adapter_config.json': config }),
    });
    expect(d.kind).toBe('adapter');
    expect(d.tensors).toHaveLength(8);
    expect(d.tensors.every((t) => /lora_[ab]$/.test(t.name))).toBe(true);
    expect(d.safetensors?.adapterConfig?.model).toBe('/Users/pdevine/git/Meta-Llama-3-8B-Instruct');
    expect(d.warnings.join(' ')).toMatch(/LoRA adapter.*Meta-Llama-3-8B-Instruct/);
    // Without its adapter_config.json the lora_a / lora_b tensor names still give it away.
    const alone = await readSafetensors(new MemoryByteSource(bytes, 'adapters.safetensors'));
    expect(alone.kind).toBe('adapter');
    // Full-model weights that merely share a folder with an adapter_config.json stay a model.
    const overall = new Uint8Array(readFileSync(fixture('safetensors/overall.safetensors')));
    const model = await readSafetensors(new MemoryByteSource(overall, 'overall.safetensors'), {
      openSibling: folder({ 'adapter_config.json': config }),
    });
    expect(model.kind).toBe('model');
  });
});

describe('SafeTensors dtypes', () => {
  it('reads every dtype, sizes sub-byte types by bits, and maps to ggml ids where ggml has one', async () => {
    const header: Record<string, unknown> = {};
    let offset = 0;
    for (const t of SAFETENSORS_DTYPES) {
      const bytes = (8 * t.bits) / 8; // shape [2, 4]: 8 elements
      header[`t.${t.name}`] = { dtype: t.name, shape: [2, 4], data_offsets: [offset, offset + bytes] };
      offset += bytes;
    }
    const d = await readSafetensors(new MemoryByteSource(safetensorsFile(header, offset), 'all.safetensors'));
    expect(d.tensors).toHaveLength(SAFETENSORS_DTYPES.length);
    for (const t of d.tensors) expect(t.dims).toEqual([4, 2]);
    const byName = Object.fromEntries(d.tensors.map((t) => [t.typeName, t]));
    expect(byName.F32!.type).toBe(0);
    expect(byName.F16!.type).toBe(1);
    expect(byName.BF16!.type).toBe(30);
    expect(byName.I64!.type).toBe(27);
    expect(byName.F8_E4M3!.type).toBe(SAFETENSORS_NO_GGML_TYPE);
    expect(byName.F4!.size).toBe(4);
    expect(byName.F6_E2M3!.size).toBe(6);
    expect(byName.BOOL!.size).toBe(8);
    expect(d.warnings).toEqual(['No config.json beside the weights: the architecture and hyperparameters are unknown.']);
  });

  it('an unknown dtype is reported as a warning with the size its offsets give, not a crash', async () => {
    const file = safetensorsFile({ x: { dtype: 'F12_NEW', shape: [3], data_offsets: [0, 5] } }, 5);
    const d = await readSafetensors(new MemoryByteSource(file, 'x.safetensors'));
    expect(d.tensors[0]).toMatchObject({ typeName: 'F12_NEW', type: -1, size: 5 });
    expect(d.warnings.join(' ')).toMatch(/F12_NEW/);
  });
});

describe('SafeTensors malformed input → typed errors', () => {
  const ok = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
  const cases: [string, Uint8Array, string][] = [
    ['empty file', new Uint8Array(0), 'truncated'],
    ['shorter than the length prefix', new Uint8Array([1, 0, 0]), 'truncated'],
    ['header length 2^60', (() => { const b = new Uint8Array(64); new DataView(b.buffer).setBigUint64(0, 2n ** 60n, true); return b; })(), 'limit-exceeded'],
    ['header length past the limit', (() => { const b = new Uint8Array(64); new DataView(b.buffer).setBigUint64(0, BigInt(SAFETENSORS_LIMITS.headerBytes + 1), true); return b; })(), 'limit-exceeded'],
    ['header longer than the file', safetensorsFile(ok, 8).subarray(0, 30), 'truncated'],
    ['header is an array', safetensorsFile([1, 2], 0), 'bad-json'],
    ['header is a string', safetensorsFile('x', 0), 'bad-json'],
    ['header is not JSON', safetensorsFile(null, 0, '{"a": '), 'bad-json'],
    ['header is not UTF-8', (() => { const b = safetensorsFile(null, 0, '{"a?":1}'); b[8 + 3] = 0xff; return b; })(), 'bad-json'],
    ['tensor entry is a number', safetensorsFile({ a: 1 }, 0), 'bad-json'],
    ['tensor without dtype', safetensorsFile({ a: { shape: [1], data_offsets: [0, 4] } }, 4), 'bad-json'],
    ['shape not an array', safetensorsFile({ a: { dtype: 'F32', shape: 2, data_offsets: [0, 8] } }, 8), 'bad-json'],
    ['negative dimension', safetensorsFile({ a: { dtype: 'F32', shape: [-2], data_offsets: [0, 8] } }, 8), 'bad-value'],
    ['fractional dimension', safetensorsFile({ a: { dtype: 'F32', shape: [1.5], data_offsets: [0, 6] } }, 8), 'bad-value'],
    ['absurd rank', safetensorsFile({ a: { dtype: 'F32', shape: new Array(100).fill(1), data_offsets: [0, 4] } }, 4), 'limit-exceeded'],
    ['element count overflow', safetensorsFile({ a: { dtype: 'F32', shape: [2 ** 30, 2 ** 30, 2 ** 30], data_offsets: [0, 4] } }, 4), 'bad-value'],
    ['offsets not a pair', safetensorsFile({ a: { dtype: 'F32', shape: [2], data_offsets: [0] } }, 8), 'bad-json'],
    ['begin after end', safetensorsFile({ a: { dtype: 'F32', shape: [2], data_offsets: [8, 0] } }, 8), 'bad-offset'],
    ['negative offset', safetensorsFile({ a: { dtype: 'F32', shape: [2], data_offsets: [-8, 0] } }, 8), 'bad-offset'],
    ['offset past the data section', safetensorsFile({ a: { dtype: 'F32', shape: [2], data_offsets: [8, 16] } }, 8), 'bad-offset'],
    ['offset 2^60', safetensorsFile({ a: { dtype: 'F32', shape: [2], data_offsets: [2 ** 60, 2 ** 60 + 8] } }, 8), 'bad-offset'],
    ['shape/size mismatch', safetensorsFile({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, 8), 'bad-value'],
    ['sub-byte type not filling whole bytes', safetensorsFile({ a: { dtype: 'F4', shape: [3], data_offsets: [0, 2] } }, 2), 'bad-value'],
    ['overlapping tensors', safetensorsFile({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, 12), 'overlapping-tensors'],
    ['__metadata__ value not a string', safetensorsFile({ __metadata__: { format: 1 }, ...ok }, 8), 'bad-json'],
    ['__metadata__ an array', safetensorsFile({ __metadata__: ['pt'], ...ok }, 8), 'bad-json'],
  ];
  for (const [what, bytes, code] of cases) {
    it(`${what} → ${code}`, async () => {
      const e = await errorOf(readSafetensors(new MemoryByteSource(bytes, 'bad.safetensors')));
      expect(e.code).toBe(code);
      expect(e.message.length).toBeGreaterThan(10);
    });
  }

  it('a key named __proto__ stays a key in the metadata', async () => {
    const file = safetensorsFile(null, 8, `{"__metadata__":{"__proto__":"x","format":"pt"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`);
    const d = await readSafetensors(new MemoryByteSource(file, 'p.safetensors'));
    expect(Object.keys(d.safetensors!.metadata).sort()).toEqual(['__proto__', 'format']);
    expect(Object.getPrototypeOf(d.safetensors!.metadata)).toBe(Object.prototype);
  });

  it('reads a header longer than the first read in a second read, and never the data section', async () => {
    const header: Record<string, unknown> = {};
    for (let i = 0; i < 3000; i++) header[`model.layers.${i}.weight`] = { dtype: 'F16', shape: [4], data_offsets: [i * 8, i * 8 + 8] };
    const file = safetensorsFile(header, 3000 * 8 + 1_000_000);
    const source = new MemoryByteSource(file, 'big.safetensors');
    const h = await readSafetensorsHeader(source);
    expect(h.tensors).toHaveLength(3000);
    expect(h.headerLength).toBeGreaterThan(64 * 1024);
    expect(source.stats.requests).toBe(2);
    expect(source.stats.bytesRead).toBe(8 + h.headerLength);
    expect(h.warnings.join(' ')).toMatch(/1000000 bytes of the data section belong to no tensor/);
  });
});

describe('sharded SafeTensors', () => {
  const shard = (names: string[], base = 0): Uint8Array => {
    const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
    names.forEach((n, i) => (header[n] = { dtype: 'BF16', shape: [2, 3], data_offsets: [i * 12, i * 12 + 12] }));
    void base;
    return safetensorsFile(header, names.length * 12);
  };
  const index = (map: Record<string, string>): string => JSON.stringify({ metadata: { total_size: 48 }, weight_map: map });
  const config = JSON.stringify({
    architectures: ['MistralForCausalLM'],
    model_type: 'mistral',
    hidden_size: 4096,
    intermediate_size: 14336,
    num_attention_heads: 32,
    num_hidden_layers: 32,
    num_key_value_heads: 8,
    max_position_embeddings: 32768,
    rope_theta: 1000000.0,
    vocab_size: 32768,
    tie_word_embeddings: false,
  });
  const files = {
    'model-00001-of-00002.safetensors': shard(['a', 'b']),
    'model-00002-of-00002.safetensors': shard(['c', 'd']),
    'model.safetensors.index.json': index({ a: 'model-00001-of-00002.safetensors', b: 'model-00001-of-00002.safetensors', c: 'model-00002-of-00002.safetensors', d: 'model-00002-of-00002.safetensors' }),
    'config.json': config,
    'tokenizer.json': '{}',
    'tokenizer_config.json': JSON.stringify({ chat_template: '{{ messages }}' }),
  };

  it('reads every shard named by the index, with config.json and the tokenizer files beside them', async () => {
    const open = folder(files);
    const d = await readSafetensors((await open('model.safetensors.index.json'))!, { openSibling: open, name: 'mistralai/Mistral-7B' });
    expect(d.name).toBe('mistralai/Mistral-7B');
    expect(d.files).toHaveLength(2);
    expect(d.tensors.map((t) => [t.name, t.file])).toEqual([['a', 0], ['b', 0], ['c', 1], ['d', 1]]);
    expect(d.parameterCount).toBe(24);
    expect(d.totalWeightBytes).toBe(48);
    expect(d).toMatchObject({
      architecture: 'llama',
      embeddingLength: 4096,
      blockCount: 32,
      headCount: 32,
      headCountKv: 8,
      headDim: 128,
      feedForwardLength: 14336,
      contextLength: 32768,
      vocabSize: 32768,
      rope: { layout: 'neox', freqBase: 1000000, dimensionCount: 128 },
      tokenizer: 'tokenizer.json',
      hasChatTemplate: true,
      fileType: 'BF16',
      kind: 'model',
    });
    expect(d.warnings.join(' ')).toMatch(/model_type 'mistral'.*'llama'/);
    expect(d.safetensors?.config?.tie_word_embeddings).toBe(false);
  });

  it('opening one shard of a set reads the whole set through the index', async () => {
    const open = folder(files);
    const d = await readSafetensors((await open('model-00002-of-00002.safetensors'))!, { openSibling: open });
    expect(d.tensors).toHaveLength(4);
    expect(d.name).toBe('model');
  });

  it('a missing shard → split-missing; a tensor the index misplaces → bad-value; a tensor in two shards → duplicate-tensor', async () => {
    const { 'model-00002-of-00002.safetensors': _gone, ...rest } = files;
    const open1 = folder(rest);
    expect((await errorOf(readSafetensors((await open1('model.safetensors.index.json'))!, { openSibling: open1 }))).code).toBe('split-missing');

    const open2 = folder({ ...files, 'model.safetensors.index.json': index({ a: 'model-00002-of-00002.safetensors', c: 'model-00002-of-00002.safetensors' }) });
    expect((await errorOf(readSafetensors((await open2('model.safetensors.index.json'))!, { openSibling: open2 }))).code).toBe('bad-value');

    const open3 = folder({ ...files, 'model-00002-of-00002.safetensors': shard(['a', 'd']) });
    expect((await errorOf(readSafetensors((await open3('model.safetensors.index.json'))!, { openSibling: open3 }))).code).toBe('duplicate-tensor');

    const open4 = folder({ ...files, 'model.safetensors.index.json': index({ a: '../../etc/passwd' }) });
    expect((await errorOf(readSafetensors((await open4('model.safetensors.index.json'))!, { openSibling: open4 }))).code).toBe('bad-value');

    const open5 = folder({ ...files, 'model.safetensors.index.json': '{"weight_map": [1]}' });
    expect((await errorOf(readSafetensors((await open5('model.safetensors.index.json'))!, { openSibling: open5 }))).code).toBe('bad-json');

    const open6 = folder({ ...files, 'config.json': '{not json' });
    expect((await errorOf(readSafetensors((await open6('model.safetensors.index.json'))!, { openSibling: open6 }))).code).toBe('bad-json');
  });
});

describe('config.json → descriptor fields', () => {
  it('maps the families we run, including nested text_config and rope scaling', () => {
    expect(descriptorFieldsFromConfig({ model_type: 'gemma3_text', hidden_size: 640, num_attention_heads: 4, num_key_value_heads: 1, head_dim: 256 })).toMatchObject({
      architecture: 'gemma3',
      headDim: 256,
      headCountKv: 1,
    });
    expect(
      descriptorFieldsFromConfig({ model_type: 'gemma3', text_config: { model_type: 'gemma3_text', hidden_size: 2560, num_hidden_layers: 34 } }),
    ).toMatchObject({ architecture: 'gemma3', embeddingLength: 2560, blockCount: 34 });
    expect(
      descriptorFieldsFromConfig({
        architectures: ['LlamaForCausalLM'],
        hidden_size: 2048,
        num_attention_heads: 32,
        rope_theta: 500000,
        rope_scaling: { rope_type: 'llama3', factor: 32, original_max_position_embeddings: 8192 },
      }),
    ).toMatchObject({ architecture: 'llama', headDim: 64, rope: { layout: 'neox', freqBase: 500000, scalingType: 'llama3', scalingFactor: 32, originalContextLength: 8192 } });
    expect(descriptorFieldsFromConfig({ model_type: 'phi3', hidden_size: 3072, num_attention_heads: 24, partial_rotary_factor: 0.75 }).rope?.dimensionCount).toBe(96);
    expect(descriptorFieldsFromConfig({ architectures: ['Qwen3ForCausalLM'] }).architecture).toBe('qwen3');
    expect(descriptorFieldsFromConfig({ model_type: 'Falcon' }).architecture).toBe('falcon');
    expect(descriptorFieldsFromConfig({}).architecture).toBe('unknown');
  });

  it('ignores values of the wrong type instead of trusting them', () => {
    const f = descriptorFieldsFromConfig({ model_type: 'qwen2', hidden_size: '4096', num_hidden_layers: -1, vocab_size: 1.5 });
    expect(f.embeddingLength).toBeUndefined();
    expect(f.blockCount).toBeUndefined();
    expect(f.vocabSize).toBeUndefined();
  });
});
