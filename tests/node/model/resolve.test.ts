// ModelRef's URL codec (one parameter everywhere) and resolve()'s one rule, with the header read once: what a read
// learned (KnownModel) is handed to the worker's model preparation, which then asks the server for nothing it already
// has. Real GGUF (stories260K) and SafeTensors files behind a real HTTP server with a stand-in hub API; request counts
// are the server's own.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { prepareModel } from '../../../src/lib/engine/model-opening.ts';
import { modelRefFromUrl, modelRefKey, modelRefParams, type ModelRef } from '../../../src/lib/model/model-ref.ts';
import { inspectRef, knownModel, resolve } from '../../../src/lib/model/resolve.ts';
import { chatPage, modelPage, remoteRef, tryItNowPage } from '../../../src/lib/ui/model-links.ts';
import { fixture, HAS_FIXTURES } from '../../support/fixtures.ts';
import { startRangeServer, type RangeServer } from '../../support/range-server.ts';

describe('a ModelRef in a URL', () => {
  test('one parameter on every page, read back as the same reference', () => {
    const refs: ModelRef[] = [
      { kind: 'remote', source: 'owner/repo' },
      { kind: 'remote', source: 'owner/repo@v2', file: 'sub/m-Q4_K_M.gguf' },
      { kind: 'remote', source: 'https://x.test/a b.gguf?sig=1&x=2' },
      { kind: 'local', id: 'abc', file: 'm.gguf' },
    ];
    for (const ref of refs) {
      for (const href of [modelPage(ref), chatPage(ref), tryItNowPage(ref)]) {
        expect(modelRefFromUrl(new URL(href, 'http://app'))).toEqual(ref);
      }
      expect(new URL(modelPage(ref), 'http://app').searchParams.has('src')).toBe(false);
    }
    expect(modelPage(remoteRef('owner/repo'))).toBe('/model?model=owner%2Frepo');
    expect(chatPage(remoteRef('owner/repo'))).toBe('/chat?model=owner%2Frepo');
  });

  test("the model page's old ?src= links still open; a blank or missing reference is none", () => {
    expect(modelRefFromUrl(new URL('http://app/model?src=owner%2Frepo&file=a.gguf'))).toEqual({ kind: 'remote', source: 'owner/repo', file: 'a.gguf' });
    expect(modelRefFromUrl(new URL('http://app/model?model=%20'))).toBeUndefined();
    expect(modelRefFromUrl(new URL('http://app/chat'))).toBeUndefined();
    expect(modelRefParams({ kind: 'local', id: 'x' }).toString()).toBe('local=x');
  });

  test('equal references have equal keys; a different file is a different reference', () => {
    expect(modelRefKey(remoteRef(' owner/repo ', 'a.gguf'))).toBe(modelRefKey({ kind: 'remote', source: 'owner/repo', file: 'a.gguf' }));
    expect(modelRefKey(remoteRef('owner/repo', 'a.gguf'))).not.toBe(modelRefKey(remoteRef('owner/repo', 'b.gguf')));
  });
});

describe.runIf(HAS_FIXTURES)('the header read once, handed on', () => {
  let server: RangeServer;
  const gguf = (): Uint8Array => new Uint8Array(readFileSync(fixture('models/stories260K.gguf')));
  const headerReads = (path: string): number => server.stats.get(path)?.requests ?? 0;

  beforeAll(async () => {
    const bytes = gguf();
    server = await startRangeServer({
      '/files/stories260K.gguf': bytes,
      '/o/stories/resolve/main/stories260K.gguf': bytes,
      '/api/models/o/stories/tree/main': new TextEncoder().encode(JSON.stringify([{ type: 'file', path: 'stories260K.gguf', size: bytes.byteLength }])),
    });
  });
  afterAll(async () => server?.close());

  test('a URL: the worker given what the page read asks the server for nothing', async () => {
    const ref: ModelRef = { kind: 'remote', source: `${server.url}/files/stories260K.gguf` };
    const result = await inspectRef(ref);
    const afterPage = headerReads('/files/stories260K.gguf');
    expect(afterPage).toBeGreaterThan(0);
    const known = knownModel(result);
    // It travels to the worker by structured clone.
    const prepared = await prepareModel(ref, { known: structuredClone(known) });
    expect(headerReads('/files/stories260K.gguf')).toBe(afterPage);
    expect(prepared.descriptor.tensors).toHaveLength(48);
    expect(prepared.text.encode('Once upon a time', true)).toEqual([1, 403, 407, 261, 378]);
    // The weights the engine then reads are the file's bytes at the descriptor's offsets.
    const t = prepared.descriptor.tensors.find((x) => x.name === 'output_norm.weight')!;
    const read = await prepared.sources[t.file]!.read(t.offset, t.size!);
    expect(Buffer.from(read).equals(Buffer.from(gguf().subarray(t.offset, t.offset + t.size!)))).toBe(true);
    // Without what the page learned, the worker reads the header itself (what used to happen every time).
    await prepareModel(ref);
    expect(headerReads('/files/stories260K.gguf')).toBeGreaterThan(afterPage);
  });

  test('a Hugging Face repository: neither the listing nor the header is asked for twice', async () => {
    const ref: ModelRef = { kind: 'remote', source: 'o/stories', file: 'stories260K.gguf' };
    const reach = { hubBase: server.url };
    const result = await inspectRef(ref, reach);
    const listings = headerReads('/api/models/o/stories/tree/main');
    const reads = headerReads('/o/stories/resolve/main/stories260K.gguf');
    expect([listings, reads]).toEqual([1, reads]);
    const known = structuredClone(knownModel(result));
    expect(known.descriptor.files.map((f) => f.path)).toEqual(['stories260K.gguf']);
    const set = await resolve(ref, reach, { known });
    expect(set.listing?.map((f) => f.path)).toEqual(['stories260K.gguf']);
    await prepareModel(ref, { reach, known });
    expect(headerReads('/api/models/o/stories/tree/main')).toBe(listings);
    expect(headerReads('/o/stories/resolve/main/stories260K.gguf')).toBe(reads);
  });

  test("local files: the worker is handed the files, and a descriptor without paths is read again, not trusted", async () => {
    const file = new File([gguf() as Uint8Array<ArrayBuffer>], 'stories260K.gguf');
    const ref: ModelRef = { kind: 'local', id: 'tab-1' };
    const result = await inspectRef(ref, { files: [file] });
    expect(result.descriptor.files[0]!.path).toBe('stories260K.gguf');
    const stale = { descriptor: { ...result.descriptor, name: 'from elsewhere', files: result.descriptor.files.map(({ location, size }) => ({ location, size })) } };
    const prepared = await prepareModel(ref, { reach: { files: [file] }, known: stale });
    expect(prepared.descriptor.name).not.toBe('from elsewhere');
    await expect(resolve(ref)).rejects.toMatchObject({ code: 'files-closed' });
  });
});
