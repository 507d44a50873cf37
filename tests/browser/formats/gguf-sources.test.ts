// The GGUF parser and byte sources in real Chromium: a picked/dropped File (BlobByteSource) and an HTTP URL read
// with Range requests (HttpByteSource, through the dev server), on the shared stories260K fixture.
import { describe, expect, it } from 'vitest';
import { server } from 'vitest/browser';
import { readGguf } from '../../../src/lib/formats/gguf.ts';
import { BlobByteSource } from '../../../src/lib/formats/blob-source.ts';
import { HttpByteSource } from '../../../src/lib/formats/http-source.ts';

const root = server.config.root.replace(/\/$/, '');
const url = `${location.origin}/@fs${root.replace(/\/[^/]+$/, '')}/shared/fixtures/models/stories260K.gguf`;
const present = await fetch(url, { method: 'HEAD' }).then((r) => r.ok, () => false);

describe.runIf(present)('GGUF in the browser', () => {
  it('reads a File through BlobByteSource: header only', async () => {
    const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
    const file = new File([bytes], 'stories260K.gguf');
    const source = new BlobByteSource(file);
    const d = await readGguf(source);
    expect(d).toMatchObject({ architecture: 'llama', blockCount: 5, vocabSize: 512, parameterCount: 292800, name: 'stories260K' });
    expect(d.tensors).toHaveLength(48);
    expect(d.source).toBe('file:stories260K.gguf');
    expect(source.stats.requests).toBe(1);
    expect(source.stats.bytesRead).toBeLessThan(bytes.byteLength);
  });

  it('reads a URL with Range requests through HttpByteSource', async () => {
    const source = new HttpByteSource(url);
    const d = await readGguf(source);
    expect(d).toMatchObject({ architecture: 'llama', embeddingLength: 64, headCountKv: 4, tokenizer: 'spm' });
    expect(d.files[0]!.size).toBe(1185376);
    expect(source.stats.requests).toBe(1);
    expect(source.stats.bytesRead).toBeLessThan(1185376);
  });
});
