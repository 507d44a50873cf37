import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { prebuiltAppConfig } from '@mlc-ai/web-llm';
import { isRbeeError } from '../../../src/lib/errors.ts';
import { stopReasonOf } from '../../../src/lib/runtime/web-llm-engine.ts';
import { webLlmError } from '../../../src/lib/runtime/web-llm-errors.ts';
import { mapWebLlmProgress } from '../../../src/lib/runtime/web-llm-progress.ts';
import { buildMlcRecord, mlcModelId } from '../../../src/lib/runtime/web-llm-records.ts';

const MiB = 1024 * 1024;

describe('web-llm progress text → structured events', () => {
  // Sentences exactly as web-llm 0.2.86 builds them (lib/index.js: fetchTensorCacheInternal, shader loading, reload).
  const fetching =
    'Fetching param cache[3/20]: 120MB fetched. 40% completed, 5 secs elapsed. It can take a while when we first visit this page to populate the cache. Later refreshes will become faster.';

  it('fetching shards: counts, megabytes, percent and seconds', () => {
    expect(mapWebLlmProgress({ progress: 0.4012, timeElapsed: 5, text: fetching })).toEqual({
      phase: 'fetching',
      fraction: 0.4012,
      done: 3,
      total: 20,
      loadedBytes: 120 * MiB,
      elapsedSeconds: 5,
      text: fetching,
    });
  });

  it('loading from the cache, compiling shaders, start and finish', () => {
    const cached = 'Loading model from cache[7/20]: 300MB loaded. 75% completed, 2 secs elapsed.';
    expect(mapWebLlmProgress({ progress: 0.75, timeElapsed: 2, text: cached })).toMatchObject({ phase: 'loading', done: 7, total: 20, loadedBytes: 300 * MiB, fraction: 0.75 });
    const shaders = 'Loading GPU shader modules[10/50]: 20% completed, 3 secs elapsed.';
    expect(mapWebLlmProgress({ progress: 0.2, timeElapsed: 3, text: shaders })).toMatchObject({ phase: 'compiling', done: 10, total: 50, fraction: 0.2, elapsedSeconds: 3 });
    expect(mapWebLlmProgress({ progress: 0, timeElapsed: 0, text: 'Start to fetch params' })).toMatchObject({ phase: 'fetching', fraction: 0 });
    expect(mapWebLlmProgress({ progress: 1, timeElapsed: 12.5, text: 'Finish loading on WebGPU - NVIDIA GeForce RTX 4090' })).toMatchObject({ phase: 'ready', fraction: 1, elapsedSeconds: 12.5 });
  });

  it('text in a shape it does not know still gives an event with the reported fraction (clamped)', () => {
    expect(mapWebLlmProgress({ progress: 1.7, timeElapsed: 1, text: 'Something new' })).toEqual({ phase: 'loading', fraction: 1, elapsedSeconds: 1, text: 'Something new' });
    expect(mapWebLlmProgress({ progress: Number.NaN, timeElapsed: Number.NaN, text: '' })).toEqual({ phase: 'loading', text: '' });
  });

  it('the installed web-llm still writes the sentences the mapper parses', () => {
    const require = createRequire(import.meta.url);
    const source = readFileSync(require.resolve('@mlc-ai/web-llm'), 'utf8');
    for (const fragment of [
      '"Fetching param cache[" + iter + "/" + list.length + "]: "',
      '"MB fetched. "',
      '"Loading model from cache[" + iter + "/" + list.length + "]: "',
      '"MB loaded. "',
      '"% completed, "',
      '" secs elapsed."',
      '"Loading GPU shader modules[" + finishCounter + "/" + fmapEntries.length + "]: "',
      'text: "Start to fetch params"',
      '"Finish loading on " + gpuLabel',
    ]) {
      expect(source, fragment).toContain(fragment);
    }
  });
});

describe('model records from a repository', () => {
  const catalogue = prebuiltAppConfig.model_list;

  it("a catalogue repository on a custom hub: weights from that hub, web-llm's compiled library", () => {
    const r = buildMlcRecord(
      { hubBase: 'http://127.0.0.1:8000/hub/', repo: 'mlc-ai/Llama-3.2-1B-Instruct-q4f16_1-MLC', revision: 'main', folder: '', requiredFeatures: ['shader-f16'], contextLength: 4096 },
      catalogue,
    );
    const listed = catalogue.find((m) => m.model_id === 'Llama-3.2-1B-Instruct-q4f16_1-MLC')!;
    expect(r).toEqual({
      model: 'http://127.0.0.1:8000/hub/mlc-ai/Llama-3.2-1B-Instruct-q4f16_1-MLC/resolve/main/',
      model_id: 'Llama-3.2-1B-Instruct-q4f16_1-MLC',
      model_lib: listed.model_lib,
      required_features: ['shader-f16'],
      overrides: { context_window_size: 4096 },
    });
    expect(r.model_lib).toMatch(/^https:\/\/raw\.githubusercontent\.com\/mlc-ai\/binary-mlc-llm-libs\/.+-webgpu\.wasm$/);
  });

  it('a repository that ships its own .wasm uses it; a folder build gets its folder in URL and id', () => {
    const r = buildMlcRecord(
      { hubBase: 'https://huggingface.co', repo: 'me/Custom-q4f32_1-MLC', revision: 'v2', folder: 'build/', modelLibPath: 'build/Custom-q4f32_1-webgpu.wasm', requiredFeatures: [] },
      catalogue,
    );
    expect(r).toEqual({
      model: 'https://huggingface.co/me/Custom-q4f32_1-MLC/resolve/v2/build/',
      model_id: 'Custom-q4f32_1-MLC/build',
      model_lib: 'https://huggingface.co/me/Custom-q4f32_1-MLC/resolve/v2/build/Custom-q4f32_1-webgpu.wasm',
    });
    expect(mlcModelId('a/b', '')).toBe('b');
  });

  it('no library anywhere: an RbeeError saying so, before anything is downloaded', () => {
    const e = (() => {
      try {
        buildMlcRecord({ hubBase: 'https://huggingface.co', repo: 'me/Unknown-q4f16_1-MLC', revision: 'main', folder: '', requiredFeatures: ['shader-f16'] }, catalogue);
      } catch (x) {
        return x;
      }
    })();
    expect(isRbeeError(e) && e.code).toBe('unsupported-architecture');
    expect((e as Error).message).toMatch(/no compiled model library for me\/Unknown-q4f16_1-MLC/);
  });
});

describe('web-llm errors and finish reasons', () => {
  class ShaderF16SupportError extends Error {}
  class DeviceLostError extends Error {}
  class WebGPUNotAvailableError extends Error {}

  it('maps its error classes by name', () => {
    expect(webLlmError(new ShaderF16SupportError('This model requires WebGPU extension shader-f16'), 'm').code).toBe('no-webgpu');
    expect(webLlmError(new ShaderF16SupportError('x'), 'm').hint).toMatch(/q4f32/);
    expect(webLlmError(new DeviceLostError('lost'), 'm').code).toBe('device-lost');
    expect(webLlmError(new WebGPUNotAvailableError('none'), 'm').code).toBe('no-webgpu');
    expect(webLlmError(new TypeError('Failed to fetch'), 'm').code).toBe('network');
    expect(webLlmError(new DOMException('stop', 'AbortError'), 'm').code).toBe('aborted');
    expect(webLlmError(new Error('odd'), 'm')).toMatchObject({ code: 'internal', message: 'web-llm failed on m: odd' });
  });

  it("maps OpenAI finish reasons to the engine's stop reasons", () => {
    expect(stopReasonOf('length')).toBe('max-tokens');
    expect(stopReasonOf('stop')).toBe('stop-token');
    expect(stopReasonOf('abort')).toBe('aborted');
    expect(stopReasonOf(null)).toBe('stop-token');
  });
});
