// The hub search client and the per-result expected verdict, against a local stand-in hub (real HTTP): the query
// parameters the hub receives, parsing and merging, hostile answers, HTTP failures, cancellation, and verdicts for
// GGUF and SafeTensors repositories through the compatibility matrix.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { RbeeError } from '../../../src/lib/errors.ts';
import { hubSearchUrl, mergeSearchResults, searchHubModels, SEARCH_EXPAND, type HubModelSummary } from '../../../src/lib/hub/hf-search.ts';
import { lookupSearchVerdict } from '../../../src/lib/compat/search-verdict.ts';
import { expectedRepoVerdict, mainWeightType } from '../../../src/lib/compat/repo-verdict.ts';
import { sortSearchResults } from '../../../src/lib/ui/hub-search-order.ts';
import { runLookups } from '../../../src/lib/ui/lookup-queue.ts';
import { startHubSearchServer, type HubSearchServer, type StandInModel } from '../../support/hub-search-server.ts';

const GB = 1024 ** 3;
const MB = 1024 ** 2;
const enc = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v));

const MODELS: StandInModel[] = [
  {
    id: 'bartowski/SmolLM2-135M-Instruct-GGUF',
    downloads: 5000,
    likes: 12,
    tags: ['gguf', 'llama', 'text-generation'],
    pipeline_tag: 'text-generation',
    gguf: { total: 134515008, architecture: 'llama', context_length: 8192, chat_template: '{{x}}' },
    files: {
      'SmolLM2-135M-Instruct-Q8_0.gguf': 145 * MB,
      'SmolLM2-135M-Instruct-Q4_K_M.gguf': 105 * MB,
      'SmolLM2-135M-Instruct-IQ2_M.gguf': 70 * MB,
      'README.md': new Uint8Array(10),
    },
  },
  {
    id: 'someone/mamba-tiny-GGUF',
    downloads: 300,
    tags: ['gguf', 'text-generation'],
    pipeline_tag: 'text-generation',
    gguf: { total: 130000000, architecture: 'mamba' },
    files: { 'mamba-tiny-Q4_K_M.gguf': 90 * MB },
  },
  {
    id: 'HuggingFaceTB/SmolLM2-135M-Instruct',
    downloads: 90000,
    tags: ['transformers', 'safetensors', 'llama', 'text-generation'],
    pipeline_tag: 'text-generation',
    library_name: 'transformers',
    safetensors: { parameters: { BF16: 134515008 }, total: 134515008 },
    // No `config` in the hub answer: the lookup reads config.json from the repository.
    files: {
      'config.json': enc({ architectures: ['LlamaForCausalLM'], model_type: 'llama', torch_dtype: 'bfloat16', hidden_size: 576 }),
      'model.safetensors': 269 * MB,
      'tokenizer.json': new Uint8Array(100),
    },
  },
  {
    id: 'Qwen/Qwen2.5-7B-Instruct',
    downloads: 70000,
    tags: ['transformers', 'safetensors', 'qwen2', 'text-generation'],
    pipeline_tag: 'text-generation',
    safetensors: { parameters: { BF16: 7615616512 }, total: 7615616512 },
    config: { architectures: ['Qwen2ForCausalLM'], model_type: 'qwen2' },
    files: {
      'config.json': enc({ model_type: 'qwen2' }),
      'model.safetensors.index.json': new Uint8Array(2000),
      'model-00001-of-00002.safetensors': 8 * GB,
      'model-00002-of-00002.safetensors': 7 * GB,
    },
  },
  {
    id: 'TheBloke/SmolLM2-GPTQ',
    downloads: 50,
    tags: ['transformers', 'safetensors', 'llama', 'text-generation', 'gptq'],
    pipeline_tag: 'text-generation',
    safetensors: { parameters: { I32: 50000000, F16: 30000000 }, total: 80000000 },
    config: { model_type: 'llama', quantization_config: { quant_method: 'gptq' } },
    files: { 'config.json': enc({ model_type: 'llama' }), 'model.safetensors': 90 * MB },
  },
  {
    // Both formats in one repository: found by both queries, listed once.
    id: 'mixed/SmolLM2-both',
    downloads: 1000,
    tags: ['gguf', 'safetensors', 'llama', 'text-generation'],
    pipeline_tag: 'text-generation',
    gguf: { architecture: 'llama' },
    safetensors: { parameters: { F32: 100 } },
    files: { 'm-Q4_K_M.gguf': 50 * MB, 'model.safetensors': 200 * MB, 'config.json': enc({ model_type: 'llama' }) },
  },
  {
    id: 'other/SmolLM2-classifier',
    downloads: 99999999,
    tags: ['safetensors', 'text-classification'],
    pipeline_tag: 'text-classification',
    files: { 'model.safetensors': 10 },
  },
];

let hub: HubSearchServer;
beforeAll(async () => {
  hub = await startHubSearchServer(MODELS);
});
afterAll(async () => hub?.close());

async function rejection(p: Promise<unknown>): Promise<RbeeError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(RbeeError);
  return e as RbeeError;
}

async function withHub<T>(models: StandInModel[], options: Parameters<typeof startHubSearchServer>[1], body: (h: HubSearchServer) => Promise<T>): Promise<T> {
  const h = await startHubSearchServer(models, options);
  try {
    return await body(h);
  } finally {
    await h.close();
  }
}

describe('search requests', () => {
  test('one request per format with the search text, text-generation, the format filter, downloads descending, the limit and every expanded field', async () => {
    hub.searches.length = 0;
    await searchHubModels({ text: '  SmolLM2 ', limit: 7 }, { hubBase: hub.url });
    expect(hub.searches).toHaveLength(2);
    expect(hub.searches.map((s) => s.get('filter')).sort()).toEqual(['gguf', 'safetensors']);
    for (const s of hub.searches) {
      expect(s.get('search')).toBe('SmolLM2');
      expect(s.get('pipeline_tag')).toBe('text-generation');
      expect(s.get('sort')).toBe('downloads');
      expect(s.get('direction')).toBe('-1');
      expect(s.get('limit')).toBe('7');
      expect(s.getAll('filter')).toHaveLength(1);
      expect(s.getAll('expand').sort()).toEqual([...SEARCH_EXPAND].sort());
      expect(s.getAll('expand')).toEqual(expect.arrayContaining(['downloads', 'gguf', 'safetensors', 'tags', 'library_name']));
    }
  });

  test('one format: one request; the URL keeps a hub base with a path and drops its trailing slash', async () => {
    hub.searches.length = 0;
    const found = await searchHubModels({ text: 'smollm2', formats: ['gguf'] }, { hubBase: `${hub.url}/` });
    expect(hub.searches).toHaveLength(1);
    expect(hub.searches[0]!.get('filter')).toBe('gguf');
    expect(found.map((r) => r.repo)).toEqual(['bartowski/SmolLM2-135M-Instruct-GGUF', 'mixed/SmolLM2-both']);
    expect(hubSearchUrl('a b&c', 'safetensors', 3, 'https://mirror.example/hf/')).toMatch(/^https:\/\/mirror\.example\/hf\/api\/models\?search=a\+b%26c&/);
  });

  test('a token goes in the Authorization header', async () => {
    let seen: string | null = null;
    const spy: typeof fetch = async (input, init) => {
      seen = new Headers(init?.headers).get('authorization');
      return fetch(input, init);
    };
    await searchHubModels({ text: 'smollm2', formats: ['gguf'] }, { hubBase: hub.url, token: 'hf_test', fetch: spy });
    expect(seen).toBe('Bearer hf_test');
  });

  test('bad requests are refused before any request: an over-long text, no format, a limit out of range', async () => {
    hub.searches.length = 0;
    expect((await rejection(searchHubModels({ text: 'x'.repeat(201) }, { hubBase: hub.url }))).code).toBe('bad-value');
    expect((await rejection(searchHubModels({ text: 'x', formats: [] }, { hubBase: hub.url }))).code).toBe('bad-value');
    expect((await rejection(searchHubModels({ text: 'x', formats: ['onnx' as 'gguf'] }, { hubBase: hub.url }))).code).toBe('bad-value');
    expect((await rejection(searchHubModels({ text: 'x', limit: 0 }, { hubBase: hub.url }))).code).toBe('bad-value');
    expect((await rejection(searchHubModels({ text: 'x', limit: 101 }, { hubBase: hub.url }))).code).toBe('bad-value');
    expect(hub.searches).toHaveLength(0);
  });
});

describe('parsing and merging', () => {
  test('both formats merged: one entry per repository, formats joined, most downloaded first, hub facts parsed, other tasks not asked for', async () => {
    const found = await searchHubModels({ text: 'smollm2' }, { hubBase: hub.url });
    expect(found.map((r) => r.repo)).toEqual([
      'HuggingFaceTB/SmolLM2-135M-Instruct',
      'bartowski/SmolLM2-135M-Instruct-GGUF',
      'mixed/SmolLM2-both',
      'TheBloke/SmolLM2-GPTQ',
    ]);
    const both = found.find((r) => r.repo === 'mixed/SmolLM2-both')!;
    expect(both.formats).toEqual(['gguf', 'safetensors']);
    const gguf = found.find((r) => r.repo === 'bartowski/SmolLM2-135M-Instruct-GGUF')!;
    expect(gguf).toMatchObject({
      formats: ['gguf'],
      downloads: 5000,
      likes: 12,
      pipelineTag: 'text-generation',
      gated: false,
      gguf: { architecture: 'llama', totalParameters: 134515008, contextLength: 8192 },
    });
    const st = found.find((r) => r.repo === 'HuggingFaceTB/SmolLM2-135M-Instruct')!;
    expect(st).toMatchObject({ formats: ['safetensors'], libraryName: 'transformers', safetensors: { parameters: { BF16: 134515008 }, total: 134515008 } });
    expect(found.find((r) => r.repo === 'TheBloke/SmolLM2-GPTQ')!.config).toEqual({ modelType: 'llama', quantMethod: 'gptq' });
  });

  test('hostile entries: wrong-typed fields are ignored, entries without a plain owner/name id are skipped, duplicates dropped', async () => {
    const body = JSON.stringify([
      null,
      7,
      'text',
      [],
      { id: 42 },
      { id: '<img src=x onerror=alert(1)>' },
      { id: 'owner/name/extra' },
      { id: 'owner/../etc' },
      { id: 'https://evil.example/a/b' },
      { id: 'owner/name@dev' },
      { id: 'lonely' },
      { id: `a/${'n'.repeat(300)}` },
      {
        id: 'good/one',
        downloads: '1000000',
        likes: -3,
        tags: ['gguf', 5, null, { x: 1 }, 'x'.repeat(500)],
        gguf: { architecture: ['llama'], total: 'many', context_length: 1.5 },
        safetensors: { parameters: { BF16: 'x', '<b>': 3, F16: 10 }, total: null },
        config: { model_type: { evil: true }, architectures: 'LlamaForCausalLM', quantization_config: 'gptq' },
        library_name: 12,
        gated: 'manual',
      },
      { id: 'good/one', downloads: 5 },
      { modelId: 'legacy/field', downloads: 1 },
    ]);
    await withHub([], { searchBody: body }, async (h) => {
      const found = await searchHubModels({ text: 'x', formats: ['gguf'] }, { hubBase: h.url });
      expect(found.map((r) => r.repo)).toEqual(['legacy/field', 'good/one']);
      const good = found.find((r) => r.repo === 'good/one')!;
      expect(good).toEqual({ repo: 'good/one', formats: ['gguf'], tags: ['gguf'], gated: true, safetensors: { parameters: { F16: 10 } } });
    });
  });

  test('an answer that is not a list, not JSON, or a list of junk: a typed error or no results, never a TypeError', async () => {
    for (const [body, code] of [
      ['{"error":"x"}', 'http'],
      ['<html>gateway</html>', 'http'],
      ['', 'http'],
      ['null', 'http'],
    ] as const) {
      await withHub([], { searchBody: body }, async (h) => {
        expect((await rejection(searchHubModels({ text: 'x', formats: ['gguf'] }, { hubBase: h.url }))).code).toBe(code);
      });
    }
    await withHub([], { searchBody: '[[],[{"id":null}],{"tags":"gguf"}]' }, async (h) => {
      expect(await searchHubModels({ text: 'x' }, { hubBase: h.url })).toEqual([]);
    });
  });

  test('merge keeps the first answer of each repository and fills facts only the other answer has', () => {
    const a: HubModelSummary = { repo: 'o/a', formats: ['safetensors'], tags: [], gated: false, safetensors: { parameters: { BF16: 1 } } };
    const b: HubModelSummary = { repo: 'o/a', formats: ['gguf'], tags: [], gated: false, downloads: 9, gguf: { architecture: 'llama' } };
    const c: HubModelSummary = { repo: 'o/c', formats: ['gguf'], tags: [], gated: false, downloads: 3 };
    const merged = mergeSearchResults([a, c, b]);
    expect(merged.map((m) => m.repo)).toEqual(['o/a', 'o/c']);
    expect(merged[0]).toMatchObject({ formats: ['gguf', 'safetensors'], downloads: 9, gguf: { architecture: 'llama' }, safetensors: { parameters: { BF16: 1 } } });
    expect(a.formats).toEqual(['safetensors']); // inputs untouched
  });
});

describe('failures', () => {
  test('HTTP 429 says to wait (Retry-After), 503 says the hub had a problem, 400 is rejected: all typed http errors', async () => {
    await withHub([], { searchStatus: 429, retryAfter: '30' }, async (h) => {
      const e = await rejection(searchHubModels({ text: 'x' }, { hubBase: h.url }));
      expect(e.code).toBe('http');
      expect(e.message).toContain('429');
      expect(e.hint).toContain('30 seconds');
    });
    await withHub([], { searchStatus: 503 }, async (h) => {
      const e = await rejection(searchHubModels({ text: 'x' }, { hubBase: h.url }));
      expect(e.code).toBe('http');
      expect(e.message).toContain('503');
      expect(e.hint).toMatch(/try again later/i);
    });
    await withHub([], { searchStatus: 400 }, async (h) => {
      expect((await rejection(searchHubModels({ text: 'x' }, { hubBase: h.url }))).message).toContain('rejected');
    });
  });

  test('an unreachable hub is a network error that says search needs the network', async () => {
    const closed = await startHubSearchServer([]);
    const url = closed.url;
    await closed.close();
    const e = await rejection(searchHubModels({ text: 'x' }, { hubBase: url }));
    expect(e.code).toBe('network');
    expect(e.hint).toMatch(/needs the network/);
  });

  test('abort while the hub is answering: aborted, not a network error', async () => {
    await withHub(MODELS, { searchDelayMs: 300 }, async (h) => {
      const controller = new AbortController();
      const p = searchHubModels({ text: 'smollm2' }, { hubBase: h.url, signal: controller.signal });
      setTimeout(() => controller.abort(), 50);
      expect((await rejection(p)).code).toBe('aborted');
    });
  });
});

describe('expected verdicts from the file list', () => {
  const summary = async (repo: string): Promise<HubModelSummary> => {
    const found = await searchHubModels({ text: repo.split('/')[1]!.slice(0, 12) }, { hubBase: hub.url });
    const s = found.find((r) => r.repo === repo);
    expect(s).toBeDefined();
    return s!;
  };

  test('a llama GGUF repository: the recommended Q4_K_M (with its Q6_K tensors) is verified, its size is that file', async () => {
    const v = await lookupSearchVerdict(await summary('bartowski/SmolLM2-135M-Instruct-GGUF'), { hubBase: hub.url });
    expect(v).toMatchObject({
      confidence: 'verified',
      format: 'gguf',
      file: 'SmolLM2-135M-Instruct-Q4_K_M.gguf',
      label: 'Q4_K_M',
      sizeBytes: 105 * MB,
      architecture: 'llama',
      weightTypes: ['Q4_K', 'Q6_K'],
      fitsBrowser: true,
    });
    expect(v.reason).toMatch(/^llama · Q4_K_M: a parity test runs Q4_K and Q6_K GGUF weights/);
  });

  test('an architecture rbee-web does not run is unsupported, saying which', async () => {
    const v = await lookupSearchVerdict(await summary('someone/mamba-tiny-GGUF'), { hubBase: hub.url });
    expect(v.confidence).toBe('unsupported');
    expect(v.reason).toContain('mamba');
    expect(v.sizeBytes).toBe(90 * MB);
  });

  test('a SafeTensors repository: architecture from its config.json, dtype from the hub, size of the file', async () => {
    hub.resetStats();
    const v = await lookupSearchVerdict(await summary('HuggingFaceTB/SmolLM2-135M-Instruct'), { hubBase: hub.url });
    expect(hub.stats.get('/HuggingFaceTB/SmolLM2-135M-Instruct/resolve/main/config.json')?.requests).toBe(1);
    // Only the listing and config.json: no weights.
    expect(hub.stats.get('/HuggingFaceTB/SmolLM2-135M-Instruct/resolve/main/model.safetensors')).toBeUndefined();
    expect(v).toMatchObject({ confidence: 'verified', format: 'safetensors', file: 'model.safetensors', label: 'SafeTensors BF16', sizeBytes: 269 * MB, architecture: 'llama' });
  });

  test('a sharded SafeTensors repository whose config the hub gave: no config.json request, shards summed, too large for a browser', async () => {
    hub.resetStats();
    const v = await lookupSearchVerdict(await summary('Qwen/Qwen2.5-7B-Instruct'), { hubBase: hub.url });
    expect(hub.stats.get('/Qwen/Qwen2.5-7B-Instruct/resolve/main/config.json')).toBeUndefined();
    expect(v).toMatchObject({ confidence: 'verified', architecture: 'qwen2', file: 'model.safetensors.index.json', sizeBytes: 15 * GB + 2000, fitsBrowser: false });
    expect(v.reason).toMatch(/weights alone \(15 GiB\) exceed the 8 GiB a browser/);
  });

  test('a GPTQ checkpoint is unsupported and says why', async () => {
    const v = await lookupSearchVerdict(await summary('TheBloke/SmolLM2-GPTQ'), { hubBase: hub.url });
    expect(v.confidence).toBe('unsupported');
    expect(v.reason).toMatch(/gptq-quantized/);
  });

  test('the searched format decides which model of a mixed repository the badge is for', async () => {
    const s = await summary('mixed/SmolLM2-both');
    expect((await lookupSearchVerdict(s, { hubBase: hub.url })).file).toBe('m-Q4_K_M.gguf');
    const st = await lookupSearchVerdict(s, { hubBase: hub.url, prefer: 'safetensors' });
    expect(st).toMatchObject({ file: 'model.safetensors', label: 'SafeTensors F32', sizeBytes: 200 * MB });
  });

  test('a repository the hub no longer has: a typed not-found error', async () => {
    const e = await rejection(lookupSearchVerdict({ repo: 'gone/away', formats: ['gguf'], tags: [], gated: false }, { hubBase: hub.url }));
    expect(e.code).toBe('not-found');
  });

  test('without what it needs the verdict says so instead of guessing', () => {
    const files = [{ path: 'x-Q4_K_M.gguf', size: 10 }];
    expect(expectedRepoVerdict({ repo: 'o/x', files }).confidence).toBeUndefined();
    expect(expectedRepoVerdict({ repo: 'o/x', files }).reason).toMatch(/does not say which architecture/);
    expect(expectedRepoVerdict({ repo: 'o/x', files: [{ path: 'weird.gguf', size: 1 }], ggufArchitecture: 'llama' }).confidence).toBeUndefined();
    expect(expectedRepoVerdict({ repo: 'o/x', files: [{ path: 'model.safetensors', size: 1 }], modelType: 'llama' }).confidence).toBeUndefined();
    const none = expectedRepoVerdict({ repo: 'o/x', files: [{ path: 'pytorch_model.bin', size: 1 }], ggufArchitecture: 'llama' });
    expect(none.confidence).toBe('unsupported');
    // A Qwen2 Q4_K_M is only as sure as its Q6_K tensors (expected); an IQ2 mix is planned (no kernel yet).
    expect(expectedRepoVerdict({ repo: 'o/x', files, ggufArchitecture: 'qwen2' }).confidence).toBe('expected');
    expect(expectedRepoVerdict({ repo: 'o/x', files: [{ path: 'x-IQ2_M.gguf', size: 1 }], ggufArchitecture: 'llama' }).confidence).toBe('planned');
    expect(expectedRepoVerdict({ repo: 'o/x', files: [{ path: 'model.safetensors', size: 1 }], modelType: 'llama', configDtype: 'torch.float16' }).label).toBe('SafeTensors F16');
    const mistral = expectedRepoVerdict({ repo: 'o/x', files, ggufArchitecture: 'mistral' });
    expect(mistral).toMatchObject({ confidence: 'verified', architecture: 'llama' });
    expect(mistral.reason).toMatch(/^mistral \(runs as llama\) · Q4_K_M/);
    expect(mainWeightType('q4_k_m')).toBe('Q4_K');
    expect(mainWeightType('IQ3_M')).toBe('IQ3_S');
    expect(mainWeightType('MXFP4_MOE')).toBe('MXFP4');
  });
});

describe('ordering and lookups', () => {
  const r = (repo: string, downloads?: number): HubModelSummary => ({ repo, formats: ['gguf'], tags: [], gated: false, ...(downloads === undefined ? {} : { downloads }) });
  const list = [r('o/a', 10), r('o/b', 500), r('o/c'), r('o/d', 40)];
  const sizes: Record<string, number> = { 'o/a': 3 * GB, 'o/c': 1 * GB, 'o/d': 2 * GB };

  test('by downloads (unknown last); by size ascending or descending with unknown sizes last', () => {
    expect(sortSearchResults(list, 'downloads', () => undefined).map((x) => x.repo)).toEqual(['o/b', 'o/d', 'o/a', 'o/c']);
    expect(sortSearchResults(list, 'size-asc', (repo) => sizes[repo]).map((x) => x.repo)).toEqual(['o/c', 'o/d', 'o/a', 'o/b']);
    expect(sortSearchResults(list, 'size-desc', (repo) => sizes[repo]).map((x) => x.repo)).toEqual(['o/a', 'o/d', 'o/c', 'o/b']);
    // Before any size is known, size order is the search's order.
    expect(sortSearchResults(list, 'size-asc', () => undefined).map((x) => x.repo)).toEqual(['o/a', 'o/b', 'o/c', 'o/d']);
  });

  test('lookups run at most 4 at a time, and an abort stops the queue: the rest never start', async () => {
    const items = Array.from({ length: 12 }, (_, i) => i);
    let running = 0;
    let peak = 0;
    const started: number[] = [];
    const controller = new AbortController();
    await runLookups(items, 4, controller.signal, async (i, signal) => {
      started.push(i);
      running++;
      peak = Math.max(peak, running);
      if (i === 5) controller.abort();
      await new Promise((res) => setTimeout(res, 20));
      running--;
      if (signal.aborted) throw new Error('aborted');
    });
    expect(peak).toBe(4);
    expect(started.length).toBeLessThan(12);
    expect(started).toEqual([...started].sort((a, b) => a - b));
  });

  test('cancelled lookups against the hub stop listing repositories', async () => {
    await withHub(MODELS, { treeDelayMs: 150 }, async (h) => {
      const found = await searchHubModels({ text: 'smollm2' }, { hubBase: h.url });
      const controller = new AbortController();
      const errors: string[] = [];
      setTimeout(() => controller.abort(), 60);
      await runLookups(found, 2, controller.signal, async (s, signal) => {
        await lookupSearchVerdict(s, { hubBase: h.url, signal }).catch((e: RbeeError) => errors.push(e.code));
      });
      expect(h.treeRequests).toHaveLength(2);
      expect(errors).toEqual(['aborted', 'aborted']);
    });
  });
});
