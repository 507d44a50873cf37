import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRbeeError, type RbeeError } from '../../../src/lib/errors.ts';
import { formatHfRef, HF_LIMITS, hfFileUrl, hfRepoUrl, listHfFiles, parseHfRef } from '../../../src/lib/hub/hf.ts';
import { defaultCandidate, groupModelFiles } from '../../../src/lib/model/model-candidates.ts';
import { startRangeServer, type RangeServer } from '../../support/range-server.ts';

describe('parseHfRef', () => {
  const cases: [string, ReturnType<typeof parseHfRef>][] = [
    ['TheBloke/Llama-2-7B-GGUF', { repo: 'TheBloke/Llama-2-7B-GGUF', revision: 'main' }],
    ['  Qwen/Qwen3-0.6B  ', { repo: 'Qwen/Qwen3-0.6B', revision: 'main' }],
    ['Qwen/Qwen3-0.6B@v1.0', { repo: 'Qwen/Qwen3-0.6B', revision: 'v1.0' }],
    ['ggml-org/models/tinyllamas/stories260K.gguf', { repo: 'ggml-org/models', revision: 'main', path: 'tinyllamas/stories260K.gguf' }],
    ['ggml-org/models@abc123/tinyllamas/stories260K.gguf', { repo: 'ggml-org/models', revision: 'abc123', path: 'tinyllamas/stories260K.gguf' }],
    ['hf:owner/repo/model-Q4_K_M.gguf', { repo: 'owner/repo', revision: 'main', path: 'model-Q4_K_M.gguf' }],
    ['hf://owner/repo', { repo: 'owner/repo', revision: 'main' }],
    ['https://huggingface.co/owner/repo', { repo: 'owner/repo', revision: 'main' }],
    ['https://huggingface.co/owner/repo/', { repo: 'owner/repo', revision: 'main' }],
    ['huggingface.co/owner/repo', { repo: 'owner/repo', revision: 'main' }],
    ['https://hf.co/owner/repo', { repo: 'owner/repo', revision: 'main' }],
    ['https://huggingface.co/owner/repo/blob/main/sub/m.gguf', { repo: 'owner/repo', revision: 'main', path: 'sub/m.gguf' }],
    ['https://huggingface.co/owner/repo/resolve/v2/m.gguf?download=true', { repo: 'owner/repo', revision: 'v2', path: 'm.gguf' }],
    ['https://huggingface.co/owner/repo/resolve/refs%2Fpr%2F3/m.gguf', { repo: 'owner/repo', revision: 'refs/pr/3', path: 'm.gguf' }],
    ['https://huggingface.co/owner/repo/tree/dev', { repo: 'owner/repo', revision: 'dev' }],
    ['https://huggingface.co/owner/repo/tree/main/Q4_K_M', { repo: 'owner/repo', revision: 'main', folder: 'Q4_K_M' }],
    ['http://127.0.0.1:9/hub/o/r/resolve/main/x.gguf', { repo: 'o/r', revision: 'main', path: 'x.gguf' }],
  ];
  for (const [input, expected] of cases) {
    it(input.trim(), () => expect(parseHfRef(input, 'http://127.0.0.1:9/hub')).toEqual(expected));
  }

  const rejected = [
    'https://example.com/owner/repo',
    'https://huggingface.co/datasets/owner/repo',
    'https://huggingface.co/api/models/owner/repo',
    'https://huggingface.co/owner',
    'https://huggingface.co/owner/repo/blob/main',
    'http://127.0.0.1:9/hub/plain/model.gguf', // a plain file on the custom hub's origin
    'just-a-name',
    'model.gguf',
    '/abs/path/model.gguf',
    'owner/re po',
    'owner/../etc',
    'owner/repo/../x',
    '',
  ];
  for (const input of rejected) it(`rejects '${input}'`, () => expect(parseHfRef(input, 'http://127.0.0.1:9/hub')).toBeUndefined());

  it('resolves to file URLs on a configurable hub', () => {
    const ref = { repo: 'o/r', revision: 'refs/pr/1' };
    expect(hfFileUrl(ref, 'sub dir/m.gguf')).toBe('https://huggingface.co/o/r/resolve/refs%2Fpr%2F1/sub%20dir/m.gguf');
    expect(hfFileUrl({ repo: 'o/r', revision: 'main' }, 'm.gguf', 'http://localhost:1234/')).toBe('http://localhost:1234/o/r/resolve/main/m.gguf');
    expect(hfRepoUrl({ repo: 'o/r', revision: 'main' })).toBe('https://huggingface.co/o/r');
    expect(formatHfRef({ repo: 'o/r', revision: 'v1', path: 'a.gguf' })).toBe('o/r@v1/a.gguf');
  });
});

describe('candidates in a repository', () => {
  const listing = [
    { path: '.gitattributes', size: 1 },
    { path: 'README.md', size: 10 },
    { path: 'llama-7b.Q2_K.gguf', size: 100 },
    { path: 'llama-7b.Q4_K_M.gguf', size: 200 },
    { path: 'llama-7b-IQ2_XS.gguf', size: 90 },
    { path: 'big/llama-70b-Q8_0-00002-of-00002.gguf', size: 500 },
    { path: 'big/llama-70b-Q8_0-00001-of-00002.gguf', size: 600 },
    { path: 'mmproj-model-f16.gguf', size: 30 },
    { path: 'config.json', size: 1 },
    { path: 'model.safetensors.index.json', size: 2 },
    { path: 'model-00001-of-00002.safetensors', size: 1000 },
    { path: 'model-00002-of-00002.safetensors', size: 1000 },
    { path: 'lora/adapter_config.json', size: 1 },
    { path: 'lora/adapter_model.safetensors', size: 5 },
    { path: 'pytorch_model.bin', size: 2000 },
  ];

  it('groups split GGUF parts and a sharded SafeTensors set, each as one model', () => {
    const c = groupModelFiles(listing);
    expect(c.map((x) => [x.primary, x.format, x.label, x.role, x.size])).toEqual([
      ['llama-7b.Q2_K.gguf', 'gguf', 'Q2_K', 'model', 100],
      ['llama-7b.Q4_K_M.gguf', 'gguf', 'Q4_K_M', 'model', 200],
      ['llama-7b-IQ2_XS.gguf', 'gguf', 'IQ2_XS', 'model', 90],
      ['mmproj-model-f16.gguf', 'gguf', 'F16', 'projector', 30],
      ['big/llama-70b-Q8_0-00001-of-00002.gguf', 'gguf', 'Q8_0', 'model', 1100],
      ['model.safetensors.index.json', 'safetensors', 'model (2 shards)', 'model', 2002],
      ['lora/adapter_model.safetensors', 'safetensors', 'lora/adapter_model.safetensors', 'adapter', 5],
    ]);
    expect(c[4]!.files).toEqual(['big/llama-70b-Q8_0-00001-of-00002.gguf', 'big/llama-70b-Q8_0-00002-of-00002.gguf']);
    expect(c[defaultCandidate(c)]!.label).toBe('Q4_K_M');
    expect(defaultCandidate(c.filter((x) => x.format === 'safetensors'))).toBe(0);
    expect(defaultCandidate([])).toBe(-1);
  });

});

describe('listHfFiles against a local hub', () => {
  let hub: RangeServer;
  const json = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v));
  const tree = [
    { type: 'file', path: 'a.gguf', size: 10, lfs: { oid: 'abc', size: 10, pointerSize: 130 } },
    { type: 'directory', path: 'sub', size: 0 },
    { type: 'file', path: 'sub/b.gguf', size: 20 },
  ];

  beforeAll(async () => {
    hub = await startRangeServer(
      {
        '/api/models/o/r/tree/main': json(tree),
        '/api/models/o/r/tree/v1': json([{ type: 'file', path: 'c.gguf', size: 5 }]),
        '/api/models/o/old/revision/main': json({ siblings: [{ rfilename: 'x.gguf', size: 7 }, { rfilename: 'y.safetensors' }] }),
        '/api/models/o/notarray/tree/main': json({ error: 'weird' }),
        '/api/models/o/broken/tree/main': new TextEncoder().encode('<html>'),
      },
      { status: { '/api/models/o/gated/tree/main': 403, '/api/models/o/private/tree/main': 401, '/api/models/o/down/tree/main': 503 } },
    );
  });
  afterAll(() => hub.close());

  const errorOf = async (p: Promise<unknown>): Promise<RbeeError> => {
    try {
      await p;
    } catch (e) {
      expect(isRbeeError(e)).toBe(true);
      return e as RbeeError;
    }
    throw new Error('expected an error');
  };

  it('lists files recursively (directories left out), at a revision', async () => {
    const files = await listHfFiles({ repo: 'o/r', revision: 'main' }, { hubBase: hub.url });
    expect(files).toEqual([
      { path: 'a.gguf', size: 10, lfs: { oid: 'abc', size: 10 } },
      { path: 'sub/b.gguf', size: 20 },
    ]);
    expect(await listHfFiles({ repo: 'o/r', revision: 'v1' }, { hubBase: hub.url })).toEqual([{ path: 'c.gguf', size: 5 }]);
  });

  it('falls back to the model-info siblings when the hub has no tree route', async () => {
    const files = await listHfFiles({ repo: 'o/old', revision: 'main' }, { hubBase: hub.url });
    expect(files).toEqual([
      { path: 'x.gguf', size: 7 },
      { path: 'y.safetensors', size: 0 },
    ]);
  });

  it('sends the access token', async () => {
    const seen: string[] = [];
    const spy: typeof fetch = async (input, init) => {
      seen.push(new Headers(init?.headers).get('authorization') ?? '');
      return fetch(input, init);
    };
    await listHfFiles({ repo: 'o/r', revision: 'main' }, { hubBase: hub.url, fetch: spy, token: 'hf_secret' });
    expect(seen).toEqual(['Bearer hf_secret']);
  });

  it('maps hub failures to typed errors with clear messages', async () => {
    const gated = await errorOf(listHfFiles({ repo: 'o/gated', revision: 'main' }, { hubBase: hub.url }));
    expect(gated.code).toBe('gated');
    expect(gated.message).toMatch(/o\/gated is gated or private/);
    expect(gated.hint).toMatch(/access token/);
    expect((await errorOf(listHfFiles({ repo: 'o/private', revision: 'main' }, { hubBase: hub.url }))).code).toBe('gated');
    const missing = await errorOf(listHfFiles({ repo: 'o/nothing', revision: 'main' }, { hubBase: hub.url }));
    expect(missing.code).toBe('not-found');
    expect(missing.message).toMatch(/No repository o\/nothing/);
    expect((await errorOf(listHfFiles({ repo: 'o/down', revision: 'main' }, { hubBase: hub.url }))).code).toBe('http');
    expect((await errorOf(listHfFiles({ repo: 'o/notarray', revision: 'main' }, { hubBase: hub.url }))).code).toBe('http');
    expect((await errorOf(listHfFiles({ repo: 'o/broken', revision: 'main' }, { hubBase: hub.url }))).code).toBe('http');
    expect((await errorOf(listHfFiles({ repo: 'o/r', revision: 'main' }, { hubBase: 'http://127.0.0.1:1' }))).code).toBe('network');
  });

  it('stops reading a hub answer past its size limit (no unbounded download)', async () => {
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        controller.enqueue(new Uint8Array(1 << 20).fill(0x20));
      },
    });
    const fake: typeof fetch = async () => new Response(endless, { status: 200 });
    const e = await errorOf(listHfFiles({ repo: 'o/huge', revision: 'main' }, { hubBase: 'https://hub.test', fetch: fake }));
    expect(e.code).toBe('limit-exceeded');
    expect(pulled).toBeLessThan(HF_LIMITS.listingPageBytes / (1 << 20) + 4);
  });

  it('understands the real hub’s X-Error-Code answers and follows Link pagination', async () => {
    const pages: Record<string, Response> = {};
    const fake: typeof fetch = async (input) => {
      const url = String(input);
      const r = pages[url];
      if (!r) throw new Error(`unexpected ${url}`);
      return r;
    };
    const base = 'https://hub.test';
    pages[`${base}/api/models/o/p/tree/main?recursive=true`] = new Response(JSON.stringify([{ type: 'file', path: '1.gguf', size: 1 }]), {
      headers: { Link: `<${base}/api/models/o/p/tree/main?recursive=true&cursor=2>; rel="next"` },
    });
    pages[`${base}/api/models/o/p/tree/main?recursive=true&cursor=2`] = new Response(JSON.stringify([{ type: 'file', path: '2.gguf', size: 2 }]));
    expect((await listHfFiles({ repo: 'o/p', revision: 'main' }, { hubBase: base, fetch: fake })).map((f) => f.path)).toEqual(['1.gguf', '2.gguf']);

    pages[`${base}/api/models/o/q/tree/main?recursive=true`] = new Response('{}', { status: 401, headers: { 'X-Error-Code': 'RepoNotFound' } });
    expect((await errorOf(listHfFiles({ repo: 'o/q', revision: 'main' }, { hubBase: base, fetch: fake }))).code).toBe('not-found');
    pages[`${base}/api/models/o/q/tree/nope?recursive=true`] = new Response('{}', { status: 404, headers: { 'X-Error-Code': 'RevisionNotFound' } });
    const rev = await errorOf(listHfFiles({ repo: 'o/q', revision: 'nope' }, { hubBase: base, fetch: fake }));
    expect([rev.code, rev.message]).toEqual(['not-found', "o/q has no revision 'nope'."]);
    pages[`${base}/api/models/o/g/tree/main?recursive=true`] = new Response('{}', { status: 401, headers: { 'X-Error-Code': 'GatedRepo' } });
    expect((await errorOf(listHfFiles({ repo: 'o/g', revision: 'main' }, { hubBase: base, fetch: fake }))).code).toBe('gated');
  });
});
