// web-llm in real Chromium, as far as it goes without the internet: a build served by the dev server as a hub
// (tests/browser/runtime/hub/…, small JSON files), its config fetched through web-llm's own cache, then a model
// library that is not WebAssembly — reported as an RbeeError. Its cache listing through the real Cache API.
import { describe, expect, it } from 'vitest';
import { deleteWebLlmModel, listWebLlmCache, rememberWebLlmRecord, rememberedWebLlmRecords } from '../../../src/lib/runtime/web-llm-cache.ts';
import { WebLlmEngine } from '../../../src/lib/runtime/web-llm-engine.ts';
import type { MlcModelRecord } from '../../../src/lib/runtime/web-llm-records.ts';
import { isRbeeError } from '../../../src/lib/errors.ts';

const base = `${location.origin}/tests/browser/runtime/hub/local/tiny-q4f32_1-MLC/resolve/main/`;
const record: MlcModelRecord = {
  model: base,
  model_id: 'tiny-q4f32_1-MLC',
  model_lib: `${base}not-a-model-library.wasm`,
  overrides: { context_window_size: 512 },
};

describe('web-llm in Chromium', () => {
  it('a broken model library is an RbeeError naming it, after web-llm fetched the build config', async () => {
    const engine = new WebLlmEngine(record);
    const e = await engine.load().catch((x) => x);
    expect(isRbeeError(e)).toBe(true);
    expect(e.code).toBe('internal');
    expect(e.message).toMatch(/model library of tiny-q4f32_1-MLC/);
    // web-llm stored the config in its cache on the way (scope webllm/config).
    const config = await caches.open('webllm/config');
    expect(await config.match(`${base}mlc-chat-config.json`)).toBeDefined();
  });

  it('a build the server does not have is an RbeeError network', async () => {
    const missing = { ...record, model: `${location.origin}/tests/browser/runtime/hub/local/absent-MLC/resolve/main/`, model_id: 'absent-MLC' };
    const e = await new WebLlmEngine(missing).load().catch((x) => x);
    expect(isRbeeError(e)).toBe(true);
    expect(e.code).toBe('network');
  });

  it('lists the cache: weights not stored yet; deleting leaves nothing behind', async () => {
    expect(await listWebLlmCache([record])).toEqual([{ modelId: 'tiny-q4f32_1-MLC', model: base, cached: false }]);
    // The library asks about the builds the app loaded (remembered on a successful load).
    rememberWebLlmRecord(record);
    expect(rememberedWebLlmRecords().map((r) => r.model_id)).toEqual(['tiny-q4f32_1-MLC']);
    expect((await listWebLlmCache()).map((e) => e.modelId)).toEqual(['tiny-q4f32_1-MLC']);
    await deleteWebLlmModel(record);
    expect(rememberedWebLlmRecords()).toEqual([]);
    const config = await caches.open('webllm/config');
    expect(await config.match(`${base}mlc-chat-config.json`)).toBeUndefined();
  });
});
