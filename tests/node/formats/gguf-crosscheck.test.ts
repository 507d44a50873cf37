// Every fixture GGUF, read over local HTTP with Range requests, must give exactly the metadata and tensor infos that
// @huggingface/gguf (an independent parser) reports for the same bytes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { gguf } from '@huggingface/gguf';
import { startRangeServer, type RangeServer } from '../../support/range-server.ts';
import { FIXTURES, fixture, HAS_FIXTURES } from '../../support/fixtures.ts';
import { readGguf } from '../../../src/lib/formats/gguf.ts';
import { HttpByteSource } from '../../../src/lib/formats/http-source.ts';
import type { GgufValue, ModelDescriptor } from '../../../src/lib/formats/descriptor.ts';
import { writeGguf } from '../../support/gguf-writer.ts';

const files = HAS_FIXTURES
  ? ['models', 'tokenizers'].flatMap((dir) =>
      readdirSync(`${FIXTURES}/${dir}`)
        .filter((f) => f.endsWith('.gguf'))
        .map((f) => `${dir}/${f}`),
    )
  : [];

/**
 * hf gives every 64-bit integer as a bigint; ours are numbers when exact. Compare as numbers where exact.
 * hf decodes strings with a default TextDecoder, which drops a leading byte-order mark; a token that *is* U+FEFF
 * (Llama's id 30143) comes out empty there. We keep it (asserted below), so compare with it dropped.
 */
function normalise(v: unknown): unknown {
  if (typeof v === 'string') return v.startsWith('\uFEFF') ? v.slice(1) : v;
  if (typeof v === 'bigint') return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= -BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  if (Array.isArray(v)) return v.map(normalise);
  return v;
}

function expectSameAsHf(ours: ModelDescriptor, theirs: Awaited<ReturnType<typeof gguf>>): void {
  const g = ours.gguf!;
  const theirMeta: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(theirs.metadata)) {
    if (k === 'version' || k === 'tensor_count' || k === 'kv_count') continue;
    theirMeta[k] = normalise(v);
  }
  expect(Object.keys(g.metadata)).toEqual(Object.keys(theirMeta));
  for (const [k, v] of Object.entries(theirMeta)) expect(normalise(g.metadata[k] as GgufValue), k).toEqual(v);
  expect(g.version).toBe(theirs.metadata.version);
  expect(g.littleEndian).toBe(theirs.littleEndian);
  expect(g.dataOffsets[0]).toBe(Number(theirs.tensorDataOffset));
  expect(g.headerBytes).toBe(theirs.tensorInfoByteRange[1]);
  expect(ours.tensors.length).toBe(theirs.tensorInfos.length);
  ours.tensors.forEach((t, i) => {
    const o = theirs.tensorInfos[i]!;
    expect(t.name).toBe(o.name);
    expect(t.dims).toEqual(o.shape.map(Number));
    expect(t.type).toBe(o.dtype);
    expect(t.offset).toBe(Number(theirs.tensorDataOffset + o.offset));
    expect(t.file).toBe(0);
  });
}

describe('generated GGUF v1/v2/v3 in both byte orders agree with @huggingface/gguf', () => {
  it('every version and byte order', async () => {
    const files: Record<string, Uint8Array> = {};
    for (const version of [1, 2, 3] as const) {
      for (const bigEndian of [false, true]) {
        files[`/v${version}${bigEndian ? 'be' : 'le'}.gguf`] = writeGguf({
          version,
          bigEndian,
          alignment: 64,
          metadata: [
            ['general.architecture', { type: 'string', value: 'llama' }],
            ['llama.block_count', { type: 'u32', value: 1 }],
            ['x.i64', { type: 'i64', value: -5n }],
            ['x.f64', { type: 'f64', value: 0.25 }],
            ['x.nested', { type: 'array', itemType: 'array', value: [{ type: 'array', itemType: 'string', value: ['p', 'q'] }] }],
            ['tokenizer.ggml.tokens', { type: 'array', itemType: 'string', value: ['<s>', 'Ġa', '▁b'] }],
          ],
          tensors: [
            { name: 'a', dims: [32, 2], type: 8, data: new Uint8Array(68) },
            { name: 'b', dims: [3], type: 0, data: new Uint8Array(12) },
          ],
        });
      }
    }
    const server = await startRangeServer(files);
    try {
      for (const path of Object.keys(files)) {
        const ours = await readGguf(new HttpByteSource(`${server.url}${path}`));
        expectSameAsHf(ours, await gguf(`${server.url}${path}`));
        expect(ours.gguf!.littleEndian).toBe(path.includes('le'));
      }
    } finally {
      await server.close();
    }
  });
});

describe.runIf(HAS_FIXTURES)('GGUF fixtures agree with @huggingface/gguf', () => {
  let server: RangeServer;
  beforeAll(async () => {
    server = await startRangeServer(Object.fromEntries(files.map((f) => [`/${f}`, fixture(f)])));
  });
  afterAll(() => server.close());

  it('has the fixtures', () => {
    expect(files.length).toBeGreaterThanOrEqual(8);
  });

  it.each(files)('%s', async (file) => {
    const url = `${server.url}/${file}`;
    const theirs = await gguf(url);
    const source = new HttpByteSource(url);
    const ours = await readGguf(source);
    const g = ours.gguf!;
    expectSameAsHf(ours, theirs);

    // Header only: never more than the header (rounded up to the first window), never the weights.
    const tensorBytes = ours.tensors.reduce((s, t) => s + (t.size ?? 0), 0);
    expect(source.stats.bytesRead).toBeLessThanOrEqual(Math.max(1 << 20, g.headerBytes * 1.25 + (64 << 10)));
    if (tensorBytes > 4 << 20) expect(source.stats.bytesRead).toBeLessThan(tensorBytes);
  });

  it('fills the descriptor from the metadata (stories260K)', async () => {
    const d = await readGguf(new HttpByteSource(`${server.url}/models/stories260K.gguf`));
    expect(d).toMatchObject({
      format: 'gguf',
      kind: 'model',
      architecture: 'llama',
      contextLength: 2048,
      embeddingLength: 64,
      blockCount: 5,
      headCount: 8,
      headCountKv: 4,
      headDim: 8,
      feedForwardLength: 172,
      vocabSize: 512,
      tokenizer: 'spm',
      hasChatTemplate: false,
      weightTypes: [{ type: 'F32', tensors: 48, bytes: 1171200 }],
      totalWeightBytes: 1171200,
      rope: { layout: 'interleaved', dimensionCount: 8 },
    });
    // 260K in the name; the exact count is the sum of the tensors' elements.
    expect(d.parameterCount).toBe(292800);
    expect(d.files).toEqual([{ location: `${server.url}/models/stories260K.gguf`, size: 1185376 }]);
  });

  it('fills the descriptor from the metadata (phi-3 vocabulary: neox rope, chat template)', async () => {
    const d = await readGguf(new HttpByteSource(`${server.url}/tokenizers/ggml-vocab-phi-3.gguf`));
    expect(d).toMatchObject({
      architecture: 'phi3',
      fileType: 'F16',
      headDim: 96,
      vocabSize: 32064,
      tokenizer: 'spm',
      hasChatTemplate: true,
      rope: { layout: 'neox', freqBase: 10000, dimensionCount: 96, originalContextLength: 4096 },
    });
    const gpt2 = await readGguf(new HttpByteSource(`${server.url}/tokenizers/ggml-vocab-gpt-2.gguf`));
    expect(gpt2).toMatchObject({ architecture: 'gpt2', tokenizer: 'bpe', vocabSize: 50257 });
    expect(gpt2.rope).toBeUndefined(); // GPT-2 has learned positions, no rope
  });

  it('keeps a token that is a byte-order mark', async () => {
    const d = await readGguf(new HttpByteSource(`${server.url}/tokenizers/ggml-vocab-llama-spm.gguf`));
    expect((d.gguf!.metadata['tokenizer.ggml.tokens'] as string[])[30143]).toBe('\uFEFF');
  });
});
