import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRbeeError } from '../../../src/lib/errors.ts';
import { TransformersEngine, mapTransformersProgress, transformersError, type TransformersImport } from '../../../src/lib/runtime/transformers-engine.ts';
import { planTransformersLoad } from '../../../src/lib/runtime/transformers-options.ts';
import type { EngineProgress } from '../../../src/lib/runtime/engine.ts';
import { hubFiles } from '../../support/prebuilt-repos.ts';
import { startRangeServer, type RangeServer } from '../../support/range-server.ts';
import { tinyOnnxRepo } from '../../support/tiny-onnx-model.ts';

// The real library in Node (onnxruntime-node ships its Linux/macOS binaries in the package). In Node it hands the
// model to ONNX Runtime by path, through its file cache: a fresh temporary folder per run.
const cacheDir = mkdtempSync(join(tmpdir(), 'rbee-transformers-'));
const realLibrary: TransformersImport = async () => {
  const lib = await import('@huggingface/transformers');
  lib.env.cacheDir = cacheDir;
  return lib;
};

describe('transformers.js adapter, real library, tiny ONNX model on a local hub', () => {
  let hub: RangeServer;
  beforeAll(async () => {
    hub = await startRangeServer(hubFiles({ 'tests/tiny-bigram': tinyOnnxRepo() }));
  });
  afterAll(async () => {
    await hub.close();
    rmSync(cacheDir, { recursive: true, force: true });
  });

  const location = () => ({
    hubBase: hub.url,
    repo: 'tests/tiny-bigram',
    revision: 'main',
    modelPath: 'onnx/model.onnx',
    dtype: 'fp32',
    externalDataFiles: 0,
    requiredFeatures: [],
  });

  it('loads with structured progress and streams a greedy continuation', async () => {
    const engine = new TransformersEngine(location(), { forceDevice: 'cpu', import: realLibrary });
    const events: EngineProgress[] = [];
    const info = await engine.load({ onProgress: (p) => events.push(p) });
    expect(info).toMatchObject({ engine: 'transformers.js', name: 'tests/tiny-bigram', contextLength: 64 });
    expect(events.at(-1)).toMatchObject({ phase: 'ready', fraction: 1 });
    expect(events.some((e) => e.phase === 'fetching' && e.file === 'onnx/model.onnx')).toBe(true);
    const pieces: string[] = [];
    const r = await engine.generate({ prompt: 'the', maxTokens: 10, sampling: { temperature: 0 } }, { onText: (t) => pieces.push(t) });
    expect(r.text.trim().split(/\s+/)).toEqual(['cat', 'sat', 'on', 'mat']);
    expect(pieces.join('')).toBe(r.text);
    expect(r.stopReason).toBe('stop-token');
    expect(r.tokens).toBe(5); // four words and the end-of-sequence token

    // A conversation goes through the model's chat template.
    const chat = await engine.generate({ messages: [{ role: 'user', content: 'sat' }], maxTokens: 10, sampling: { temperature: 0 } });
    expect(chat.text.trim()).toBe('on mat');

    const capped = await engine.generate({ prompt: 'dog', maxTokens: 5, sampling: { temperature: 0 } });
    expect(capped).toMatchObject({ stopReason: 'max-tokens', tokens: 5 });
    expect(capped.text.trim().split(/\s+/)).toEqual(['dog', 'dog', 'dog', 'dog', 'dog']);

    // Aborting mid-answer ends it with what was produced so far.
    const stop = new AbortController();
    let seen = 0;
    const aborted = await engine.generate(
      { prompt: 'dog', maxTokens: 400, sampling: { temperature: 0 } },
      { signal: stop.signal, onText: () => ++seen === 3 && stop.abort() },
    );
    expect(aborted.stopReason).toBe('aborted');
    expect(aborted.tokens).toBeLessThan(400);
    expect(aborted.text).toContain('dog');

    await engine.unload();
    const after = await engine.generate({ prompt: 'the', maxTokens: 2, sampling: { temperature: 0 } }).catch((e) => e);
    expect(isRbeeError(after) && after.code).toBe('internal');
  });

  it('a repository the hub does not have is an RbeeError not-found', async () => {
    const engine = new TransformersEngine({ ...location(), repo: 'tests/missing' }, { forceDevice: 'cpu', import: realLibrary });
    const e = await engine.load().catch((x) => x);
    expect(isRbeeError(e)).toBe(true);
    expect(e.code).toBe('not-found');
    expect(e.message).toMatch(/tests\/missing/);
  });

  it('an unreachable hub is an RbeeError network; a model loaded before still loads from the cache', async () => {
    const engine = new TransformersEngine({ ...location(), repo: 'tests/never-loaded', hubBase: 'http://127.0.0.1:9' }, { forceDevice: 'cpu', import: realLibrary });
    const e = await engine.load().catch((x) => x);
    expect(isRbeeError(e)).toBe(true);
    expect(e.code).toBe('network');

    // Offline once cached: the bigram model was loaded by the first test.
    const cached = new TransformersEngine({ ...location(), hubBase: 'http://127.0.0.1:9' }, { forceDevice: 'cpu', import: realLibrary });
    await cached.load();
    expect((await cached.generate({ prompt: 'on', maxTokens: 4, sampling: { temperature: 0 } })).text.trim()).toBe('mat');
    await cached.unload();
  });
});

describe('transformers.js load plan', () => {
  const q4f16 = {
    hubBase: 'https://huggingface.co',
    repo: 'onnx-community/Qwen2.5-0.5B-Instruct',
    revision: 'main',
    modelPath: 'onnx/model_q4f16.onnx',
    dtype: 'q4f16',
    externalDataFiles: 0,
    requiredFeatures: ['shader-f16'],
  };

  it('WebGPU when the GPU has what the dtype needs, WASM otherwise; ORT files from the app', () => {
    const p = planTransformersLoad(q4f16, { available: true, shaderF16: true }, 'https://app.example/sub/page');
    expect(p).toEqual({
      task: 'text-generation',
      model: 'onnx-community/Qwen2.5-0.5B-Instruct',
      options: { device: 'webgpu', dtype: 'q4f16', revision: 'main', subfolder: 'onnx', model_file_name: 'model', use_external_data_format: false },
      env: {
        remoteHost: 'https://huggingface.co/',
        remotePathTemplate: '{model}/resolve/{revision}/',
        allowLocalModels: false,
        allowRemoteModels: true,
        wasmPaths: {
          mjs: 'https://app.example/sub/ort/ort-wasm-simd-threaded.asyncify.mjs',
          wasm: 'https://app.example/sub/ort/ort-wasm-simd-threaded.asyncify.wasm',
        },
      },
    });
    expect(planTransformersLoad(q4f16, { available: true, shaderF16: false }, 'https://a/').options.device).toBe('wasm');
    expect(planTransformersLoad({ ...q4f16, dtype: 'q4', modelPath: 'onnx/model_q4.onnx', requiredFeatures: [] }, { available: true, shaderF16: false }, 'https://a/').options.device).toBe('webgpu');
    expect(planTransformersLoad(q4f16, { available: false, shaderF16: false }, 'https://a/').options.device).toBe('wasm');
  });

  it('names files the way transformers.js does: stem without the dtype suffix, external data counted', () => {
    const merged = planTransformersLoad(
      { ...q4f16, modelPath: 'onnx/decoder_model_merged_quantized.onnx', dtype: 'q8', externalDataFiles: 2, requiredFeatures: [] },
      { available: false, shaderF16: false },
      'https://a/',
    );
    expect(merged.options).toMatchObject({ model_file_name: 'decoder_model_merged', dtype: 'q8', use_external_data_format: 2 });
    expect(planTransformersLoad({ ...q4f16, modelPath: 'onnx/model.onnx', dtype: 'fp32', externalDataFiles: 1 }, { available: true, shaderF16: true }, 'https://a/').options).toMatchObject({ model_file_name: 'model', use_external_data_format: true });
  });

  it('refuses layouts transformers.js cannot load, with RbeeErrors', () => {
    const nested = (() => { try { planTransformersLoad({ ...q4f16, modelPath: 'sub/onnx/model_q4f16.onnx' }, { available: true, shaderF16: true }, 'https://a/'); } catch (e) { return e; } })();
    expect(isRbeeError(nested) && nested.code).toBe('unknown-format');
    const mismatch = (() => { try { planTransformersLoad({ ...q4f16, modelPath: 'onnx/model_q4.onnx' }, { available: true, shaderF16: true }, 'https://a/'); } catch (e) { return e; } })();
    expect(isRbeeError(mismatch) && mismatch.code).toBe('bad-value');
  });

  it('maps the library progress events; per-file byte events are left to progress_total', () => {
    expect(mapTransformersProgress({ status: 'initiate', file: 'config.json' })).toMatchObject({ phase: 'fetching', file: 'config.json' });
    expect(mapTransformersProgress({ status: 'progress_total', progress: 42.5, loaded: 425, total: 1000 })).toEqual({ phase: 'fetching', fraction: 0.425, loadedBytes: 425, totalBytes: 1000, text: 'Downloading: 43%' });
    expect(mapTransformersProgress({ status: 'progress', file: 'onnx/model.onnx', progress: 10, loaded: 1, total: 10 })).toBeUndefined();
    expect(mapTransformersProgress({ status: 'done', file: 'onnx/model.onnx' })).toMatchObject({ phase: 'loading' });
    expect(mapTransformersProgress({ status: 'ready' })).toMatchObject({ phase: 'ready', fraction: 1 });
  });

  it('turns the library errors into RbeeErrors by what failed', () => {
    expect(transformersError(new Error('Could not locate file: "https://hub/o/r/resolve/main/onnx/model.onnx".'), 'o/r').code).toBe('not-found');
    expect(transformersError(new TypeError('fetch failed'), 'o/r').code).toBe('network');
    expect(transformersError(new Error('Unsupported model type: whisper'), 'o/r').code).toBe('unsupported-architecture');
    expect(transformersError(new Error('boom'), 'o/r')).toMatchObject({ code: 'internal', message: 'transformers.js failed on o/r: boom' });
  });
});
