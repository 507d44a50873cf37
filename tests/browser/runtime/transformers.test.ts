// transformers.js in real Chromium: the tiny ONNX bigram model (written by tests/support/tiny-onnx-model.ts) served
// from memory as a hub, ONNX Runtime's WASM files from this app's /ort/ (the Vite plugin), on WASM and on WebGPU.
import { describe, expect, it } from 'vitest';
import type { EngineProgress } from '../../../src/lib/runtime/engine.ts';
import { TransformersEngine, type TransformersImport } from '../../../src/lib/runtime/transformers-engine.ts';
import { ORT_RUNTIME_FILES } from '../../../src/lib/runtime/transformers-options.ts';
import { deleteTransformersModel, listTransformersCache } from '../../../src/lib/runtime/transformers-cache.ts';
import { isRbeeError } from '../../../src/lib/errors.ts';
import { tinyOnnxRepo } from '../../support/tiny-onnx-model.ts';

const HUB = 'https://hub.invalid';
const repo = tinyOnnxRepo();
const runtimeRequests: string[] = [];

// The hub answers from memory; everything else (the app's ort/ files) goes to the dev server, counted.
const libraryWith = (browserCache: boolean): TransformersImport => async () => {
  const lib = await import('@huggingface/transformers');
  const realFetch = globalThis.fetch.bind(globalThis);
  lib.env.fetch = async (input: string | URL, init?: RequestInit) => {
    const url = String(input);
    const prefix = `${HUB}/tests/tiny-bigram/resolve/main/`;
    if (url.startsWith(HUB)) {
      const bytes = url.startsWith(prefix) ? repo[url.slice(prefix.length)] : undefined;
      return bytes ? new Response(bytes as Uint8Array<ArrayBuffer>, { status: 200, headers: { 'content-length': String(bytes.byteLength) } }) : new Response('Entry not found', { status: 404 });
    }
    runtimeRequests.push(url);
    return realFetch(input, init);
  };
  lib.env.useBrowserCache = browserCache;
  lib.env.useWasmCache = false;
  return lib;
};
const library = libraryWith(false);

const location = (repoName = 'tests/tiny-bigram') => ({
  hubBase: HUB,
  repo: repoName,
  revision: 'main',
  modelPath: 'onnx/model.onnx',
  dtype: 'fp32',
  externalDataFiles: 0,
  requiredFeatures: [],
});

describe('transformers.js in Chromium', () => {
  it('the app serves ONNX Runtime at /ort/ (no CDN)', async () => {
    for (const name of ORT_RUNTIME_FILES) {
      const r = await fetch(`${globalThis.location.origin}/ort/${name}`, { method: 'HEAD' });
      expect(r.status, name).toBe(200);
    }
  });

  it('runs the tiny model on WASM with ONNX Runtime from the app, streaming', async () => {
    const engine = new TransformersEngine(location(), { forceDevice: 'wasm', appBase: `${globalThis.location.origin}/`, import: library });
    const events: EngineProgress[] = [];
    const info = await engine.load({ onProgress: (p) => events.push(p) });
    expect(info.device).toBe('WASM (CPU)');
    expect(events.at(-1)!.phase).toBe('ready');
    const pieces: string[] = [];
    const r = await engine.generate({ prompt: 'the', maxTokens: 10, sampling: { temperature: 0 } }, { onText: (t) => pieces.push(t) });
    expect(r.text.trim().split(/\s+/)).toEqual(['cat', 'sat', 'on', 'mat']);
    expect(pieces.join('')).toBe(r.text);
    expect(r.stopReason).toBe('stop-token');
    await engine.unload();
    // Whatever ONNX Runtime fetched came from this app, not from a CDN.
    expect(runtimeRequests.every((u) => u.startsWith(globalThis.location.origin))).toBe(true);
  });

  it('runs it on WebGPU when the adapter has what the dtype needs (fp32 here)', async () => {
    const engine = new TransformersEngine(location(), { appBase: `${globalThis.location.origin}/`, import: library });
    const info = await engine.load();
    expect(engine.plan!.options.device).toBe(info.device === 'WebGPU' ? 'webgpu' : 'wasm');
    const r = await engine.generate({ prompt: 'sat', maxTokens: 10, sampling: { temperature: 0 } });
    expect(r.text.trim()).toBe('on mat');
    await engine.unload();
  });

  it('a model the hub does not have is an RbeeError not-found', async () => {
    const engine = new TransformersEngine(location('tests/missing'), { forceDevice: 'wasm', appBase: `${globalThis.location.origin}/`, import: library });
    const e = await engine.load().catch((x) => x);
    expect(isRbeeError(e)).toBe(true);
    expect(e.code).toBe('not-found');
  });

  it("lists what transformers.js stored in the browser's cache, per repository, and removes it", async () => {
    const engine = new TransformersEngine(location(), { forceDevice: 'wasm', appBase: `${globalThis.location.origin}/`, import: libraryWith(true) });
    await engine.load();
    await engine.unload();
    const listed = (await listTransformersCache()).find((e) => e.repo === 'tests/tiny-bigram');
    expect(listed).toBeDefined();
    expect(listed!.revision).toBe('main');
    expect(listed!.files).toEqual(expect.arrayContaining(['config.json', 'onnx/model.onnx', 'tokenizer.json']));
    expect(listed!.bytes).toBeGreaterThanOrEqual(repo['onnx/model.onnx']!.byteLength);
    expect(await deleteTransformersModel('tests/tiny-bigram')).toBe(listed!.files.length);
    expect((await listTransformersCache()).some((e) => e.repo === 'tests/tiny-bigram')).toBe(false);
  });
});
