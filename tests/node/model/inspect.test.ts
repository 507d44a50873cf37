import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRbeeError, type RbeeError } from '../../../src/lib/errors.ts';
import { inspect, inspectCandidate } from '../../../src/lib/model/inspect.ts';
import { MemoryByteSource } from '../../../src/lib/formats/memory-source.ts';
import { PrefetchedSource } from '../../../src/lib/formats/prefetched-source.ts';
import { sniffFormat } from '../../../src/lib/formats/sniff.ts';
import { fixture, HAS_FIXTURES } from '../../support/fixtures.ts';
import { startRangeServer, type RangeServer } from '../../support/range-server.ts';

const enc = new TextEncoder();
const bytes = (...xs: (number | string)[]): Uint8Array =>
  new Uint8Array(xs.flatMap((x) => (typeof x === 'string' ? [...enc.encode(x)] : [x])));

function safetensorsFile(header: unknown, dataBytes: number): Uint8Array<ArrayBuffer> {
  const json = enc.encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.byteLength + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.byteLength), true);
  out.set(json, 8);
  return out;
}

async function errorOf(p: Promise<unknown>): Promise<RbeeError> {
  try {
    await p;
  } catch (e) {
    expect(isRbeeError(e), String(e)).toBe(true);
    return e as RbeeError;
  }
  throw new Error('expected an error');
}

describe('sniffFormat', () => {
  const cases: [string, Uint8Array, string, string?][] = [
    ['GGUF', bytes('GGUF', 3, 0, 0, 0), 'gguf'],
    ['SafeTensors', safetensorsFile({}, 0), 'safetensors'],
    ['GGJT (llama.cpp 2023 .bin)', bytes('tjgg', 1, 0, 0, 0), 'legacy-ggml'],
    ['GGML unversioned', bytes('lmgg'), 'legacy-ggml'],
    ['GGMF', bytes('fmgg', 1, 0, 0, 0), 'legacy-ggml'],
    ['GGLA (old LoRA)', bytes('algg'), 'legacy-ggml'],
    ['PyTorch zip', bytes('PK', 3, 4, 0, 0), 'pytorch'],
    ['PyTorch pickle (protocol 2)', bytes(0x80, 2, 0x8a, 0x0a), 'pytorch'],
    ['index JSON', bytes('{"metadata":{}}'), 'safetensors-index', 'model.safetensors.index.json'],
    ['config JSON', bytes(' {"model_type":"llama"}'), 'json', 'config.json'],
    ['HTML', bytes('<!doctype html>'), 'unknown'],
    ['empty', bytes(), 'unknown'],
    ['garbage named .gguf', bytes('XXXX'), 'gguf', 'x.gguf'],
    ['garbage named .safetensors', bytes(255, 255, 255, 255, 255, 255, 255, 255, 0), 'safetensors', 'x.safetensors'],
  ];
  for (const [what, head, format, name] of cases) it(`${what} → ${format}`, () => expect(sniffFormat(head, name)).toBe(format));
});

describe('inspect: single inputs and unsupported formats', () => {
  it.runIf(HAS_FIXTURES)('a ByteSource holding a GGUF', async () => {
    const r = await inspect(new MemoryByteSource(new Uint8Array(readFileSync(fixture('models/stories260K.gguf'))), 'stories260K.gguf'));
    expect(r.descriptor.format).toBe('gguf');
    expect(r.descriptor.architecture).toBe('llama');
    expect(r.candidates).toEqual([]);
    expect(r.chosen).toBe(-1);
  });

  const refusals: [string, Uint8Array, string, RegExp][] = [
    ['old GGJT', bytes('tjgg', 3, 0, 0, 0, ...new Array(64).fill(0)), 'legacy-ggml', /GGML\/GGJT.*GGUF/],
    ['PyTorch zip', bytes('PK', 3, 4, ...new Array(64).fill(0)), 'pytorch', /PyTorch checkpoint \(zip\)/],
    ['PyTorch pickle', bytes(0x80, 2, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46), 'pytorch', /PyTorch checkpoint \(pickle\)/],
    ['HTML page', bytes('<!doctype html><html>'), 'unknown-format', /not a GGUF or SafeTensors file/],
    ['empty file', bytes(), 'unknown-format', /empty/],
    ['config.json alone', bytes('{"model_type":"llama"}'), 'unknown-format', /JSON file, not model weights/],
  ];
  for (const [what, content, code, message] of refusals) {
    it(`${what} → ${code}`, async () => {
      const name = what === 'config.json alone' ? 'config.json' : 'model.bin';
      const e = await errorOf(inspect(new MemoryByteSource(content, name)));
      expect(e.code).toBe(code);
      expect(e.message).toMatch(message);
      if (code !== 'unknown-format' || what !== 'config.json alone') expect(e.hint).toMatch(/GGUF/);
    });
  }

  it('a malformed GGUF / SafeTensors reaches its parser and gets the parser’s typed error', async () => {
    expect((await errorOf(inspect(new MemoryByteSource(bytes('GGUF', 3, 0), 'x.gguf')))).code).toBe('truncated');
    const huge = new Uint8Array(16);
    new DataView(huge.buffer).setBigUint64(0, 2n ** 60n, true);
    expect((await errorOf(inspect(new MemoryByteSource(huge, 'x.safetensors')))).code).toBe('limit-exceeded');
  });

  it('text that is neither a URL nor an HF reference', async () => {
    const e = await errorOf(inspect('not a model'));
    expect(e.code).toBe('not-found');
    expect(e.hint).toMatch(/owner\/repo/);
  });
});

describe('PrefetchedSource', () => {
  it('serves reads inside the prefetch from memory and fetches only the rest of a read that extends past it', async () => {
    const data = new Uint8Array(1000).map((_, i) => i & 255);
    const inner = new MemoryByteSource(data, 'x');
    const s = new PrefetchedSource(inner, 100);
    expect((await s.prefetch()).byteLength).toBe(100);
    expect(await s.read(10, 20)).toEqual(data.subarray(10, 30));
    expect(inner.stats).toEqual({ requests: 1, bytesRead: 100 });
    expect(await s.read(50, 100)).toEqual(data.subarray(50, 150));
    expect(inner.stats).toEqual({ requests: 2, bytesRead: 150 });
    expect(await s.read(900, 200)).toEqual(data.subarray(900, 1000));
    const short = new PrefetchedSource(new MemoryByteSource(data.subarray(0, 40), 'y'), 100);
    await short.prefetch();
    expect(await short.read(30, 50)).toEqual(data.subarray(30, 40));
    expect(short.stats.requests).toBe(1);
  });
});

describe('inspect over HTTP and from a Hugging Face hub', () => {
  let server: RangeServer;
  const json = (v: unknown): Uint8Array => enc.encode(JSON.stringify(v));
  // A SafeTensors model with a 4 MB data section: inspecting it must not read the weights.
  const st = safetensorsFile(
    {
      'model.embed_tokens.weight': { dtype: 'BF16', shape: [1024, 1024], data_offsets: [0, 2 * 1024 * 1024] },
      'lm_head.weight': { dtype: 'BF16', shape: [1024, 1024], data_offsets: [2 * 1024 * 1024, 4 * 1024 * 1024] },
    },
    4 * 1024 * 1024,
  );
  const config = json({ model_type: 'qwen2', hidden_size: 1024, num_attention_heads: 16, num_key_value_heads: 2, num_hidden_layers: 1, vocab_size: 1024, max_position_embeddings: 4096, rope_theta: 1000000 });
  const shard = (name: string): Uint8Array => safetensorsFile({ [name]: { dtype: 'F16', shape: [4], data_offsets: [0, 8] } }, 8);
  const files: Record<string, string | Uint8Array> = {
    '/plain/model.safetensors': st,
    '/plain/config.json': config,
    '/plain/tokenizer.json': json({}),
    '/lonely/weights.safetensors': st,
  };
  const repo = (path: string, content: string | Uint8Array): void => {
    files[`/o/r/resolve/main/${path}`] = content;
  };

  beforeAll(async () => {
    if (HAS_FIXTURES) {
      files['/plain/stories260K.gguf'] = fixture('models/stories260K.gguf');
      repo('stories260K-F32.gguf', fixture('models/stories260K.gguf'));
      repo('tiny/llama-2-tiny-random-F16.gguf', fixture('models/llama-2-tiny-random.gguf'));
    }
    repo('st/config.json', config);
    repo('st/model.safetensors.index.json', json({ weight_map: { a: 'model-00001-of-00002.safetensors', b: 'model-00002-of-00002.safetensors' } }));
    repo('st/model-00001-of-00002.safetensors', shard('a'));
    repo('st/model-00002-of-00002.safetensors', shard('b'));
    repo('st/tokenizer_config.json', json({ chat_template: '{% for m in messages %}{{ m.content }}{% endfor %}' }));
    const listing = Object.keys(files)
      .filter((p) => p.startsWith('/o/r/resolve/main/'))
      .map((p) => {
        const f = files[p]!;
        return { type: 'file', path: p.slice('/o/r/resolve/main/'.length), size: typeof f === 'string' ? readFileSync(f).byteLength : f.byteLength };
      });
    files['/api/models/o/r/tree/main'] = json([{ type: 'directory', path: 'st' }, ...listing]);
    files['/api/models/o/bins/tree/main'] = json([{ type: 'file', path: 'pytorch_model.bin', size: 10 }, { type: 'file', path: 'config.json', size: 2 }]);
    files['/api/models/o/empty/tree/main'] = json([{ type: 'file', path: 'README.md', size: 2 }]);
    server = await startRangeServer(files, { status: { '/api/models/o/gated/tree/main': 403, '/o/r/resolve/main/secret.gguf': 403 } });
  });
  afterAll(() => server.close());

  it('a SafeTensors URL: the header in one request, config.json and tokenizer.json found beside it, weights never read', async () => {
    server.resetStats();
    const r = await inspect(`${server.url}/plain/model.safetensors`);
    const d = r.descriptor;
    expect(d).toMatchObject({ format: 'safetensors', architecture: 'qwen2', headCountKv: 2, headDim: 64, tokenizer: 'tokenizer.json', parameterCount: 2 * 1024 * 1024 });
    expect(d.files).toEqual([{ location: `${server.url}/plain/model.safetensors`, size: st.byteLength, path: 'model.safetensors' }]);
    const weights = server.stats.get('/plain/model.safetensors')!;
    expect(weights.requests).toBe(1);
    expect(weights.bytesSent).toBeLessThanOrEqual(1024 * 1024);
    expect(weights.bytesSent).toBeLessThan(st.byteLength / 4);
  });

  it('a SafeTensors URL with nothing beside it says what is unknown', async () => {
    const r = await inspect(`${server.url}/lonely/weights.safetensors`);
    expect(r.descriptor.architecture).toBe('unknown');
    expect(r.descriptor.name).toBe('weights');
    expect(r.descriptor.warnings.join(' ')).toMatch(/No config\.json/);
  });

  it.runIf(HAS_FIXTURES)('a GGUF URL: one request', async () => {
    server.resetStats();
    const r = await inspect(`${server.url}/plain/stories260K.gguf`);
    expect(r.descriptor.format).toBe('gguf');
    expect(server.stats.get('/plain/stories260K.gguf')!.requests).toBe(1);
  });

  it('a cancelled inspection → aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    expect((await errorOf(inspect(`${server.url}/plain/model.safetensors`, { signal: controller.signal }))).code).toBe('aborted');
    expect((await errorOf(inspect('o/r', { hubBase: server.url, signal: controller.signal }))).code).toBe('aborted');
  });

  it('a missing URL → not-found', async () => {
    expect((await errorOf(inspect(`${server.url}/plain/nothing.gguf`))).code).toBe('not-found');
  });

  it('an HF repository: its models as candidates, the preferred one described, the others on request', async () => {
    const r = await inspect('o/r', { hubBase: server.url });
    expect(r.hf).toMatchObject({ repo: 'o/r', revision: 'main', url: `${server.url}/o/r` });
    const labels = r.candidates.map((c) => c.label);
    expect(labels).toContain('st/model (2 shards)');
    const st = r.candidates.findIndex((c) => c.format === 'safetensors');
    expect(r.candidates[st]!.files).toEqual(['st/model.safetensors.index.json', 'st/model-00001-of-00002.safetensors', 'st/model-00002-of-00002.safetensors']);
    if (HAS_FIXTURES) {
      expect(labels).toEqual(expect.arrayContaining(['F32', 'F16']));
      expect(r.candidates[r.chosen]!.label).toBe('F16'); // F16 is preferred over F32 and over SafeTensors
      expect(r.descriptor.format).toBe('gguf');
      expect(r.descriptor.source).toBe(`${server.url}/o/r/resolve/main/tiny/llama-2-tiny-random-F16.gguf`);
    }
    const d = await inspectCandidate(r, st);
    expect(d).toMatchObject({ format: 'safetensors', architecture: 'qwen2', hasChatTemplate: true, name: 'o/r' });
    expect(d.tensors.map((t) => [t.name, t.file])).toEqual([['a', 0], ['b', 1]]);
  });

  it('an HF file reference (and a hub URL to it) describes that file', async () => {
    const r = await inspect('o/r/st/model-00002-of-00002.safetensors', { hubBase: server.url });
    expect(r.candidates[r.chosen]!.primary).toBe('st/model.safetensors.index.json');
    expect(r.descriptor.tensors).toHaveLength(2);
    const viaUrl = await inspect(`${server.url}/o/r/blob/main/st/model.safetensors.index.json`, { hubBase: server.url });
    expect(viaUrl.descriptor.tensors).toHaveLength(2);
  });

  it('HF failures are typed: gated, missing repository, missing file, PyTorch-only, no models', async () => {
    const gated = await errorOf(inspect('o/gated', { hubBase: server.url }));
    expect(gated.code).toBe('gated');
    expect((await errorOf(inspect('o/none', { hubBase: server.url }))).code).toBe('not-found');
    const missing = await errorOf(inspect('o/r/nope.gguf', { hubBase: server.url }));
    expect([missing.code, missing.message]).toEqual(['not-found', 'o/r@main has no file nope.gguf.']);
    expect((await errorOf(inspect('o/bins', { hubBase: server.url }))).code).toBe('pytorch');
    expect((await errorOf(inspect('o/empty', { hubBase: server.url }))).code).toBe('unknown-format');
  });
});

describe('inspect: files dropped in the browser', () => {
  it('a dropped SafeTensors set (index, shards, config) is one model', async () => {
    const shard = (name: string): Uint8Array<ArrayBuffer> => safetensorsFile({ [name]: { dtype: 'BF16', shape: [2, 2], data_offsets: [0, 8] } }, 8);
    const dropped = [
      new File([enc.encode(JSON.stringify({ model_type: 'gemma2', hidden_size: 8, num_attention_heads: 2, head_dim: 4 }))], 'config.json'),
      new File([shard('x')], 'model-00001-of-00002.safetensors'),
      new File([shard('y')], 'model-00002-of-00002.safetensors'),
      new File([enc.encode(JSON.stringify({ weight_map: { x: 'model-00001-of-00002.safetensors', y: 'model-00002-of-00002.safetensors' } }))], 'model.safetensors.index.json'),
    ];
    const r = await inspect(dropped);
    expect(r.candidates).toHaveLength(1);
    expect(r.descriptor).toMatchObject({ format: 'safetensors', architecture: 'gemma2', headDim: 4, parameterCount: 8 });
    expect(r.descriptor.files.map((f) => f.location)).toEqual(['file:model-00001-of-00002.safetensors', 'file:model-00002-of-00002.safetensors']);
    // One shard dropped alone cannot be read as a model.
    expect((await errorOf(inspect([dropped[2]!]))).code).toBe('split-missing');
  });

  it.runIf(HAS_FIXTURES)('a dropped GGUF file', async () => {
    const r = await inspect(new File([readFileSync(fixture('models/stories260K.gguf'))], 'stories260K.gguf'));
    expect(r.descriptor.format).toBe('gguf');
    expect(r.candidates).toHaveLength(1);
    expect(r.chosen).toBe(0);
  });
});
