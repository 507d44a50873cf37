// The service worker's rules, without a browser: which URLs are runtime-cached (same origin only: issue 13 item 10),
// what the precache list becomes (static-host file names, no runtimes: issue 13 item 11, issue 17 item 3), and the
// isolation headers it adds (issue 12).
import { describe, expect, test } from 'vitest';
import { CROSS_ORIGIN_ISOLATION_HEADERS, withCrossOriginIsolation } from '../../../src/lib/pwa/cross-origin-isolation.ts';
import { runtimeCacheRuleFor } from '../../../src/lib/pwa/runtime-cache-rules.ts';
import { runtimeFilesFor } from '../../../src/lib/pwa/runtime-warmup.ts';
import { SHELL_FILE_LIMIT_BYTES, shellPrecacheTransform, shellUrl } from '../../../src/lib/pwa/shell-precache.ts';

const APP = 'https://rbee.example';

describe('runtime caching', () => {
  test('the runtime folders on this origin are cached, each in its own cache', () => {
    expect(runtimeCacheRuleFor(new URL(`${APP}/ort/ort-wasm-simd-threaded.asyncify.wasm`), APP)?.cacheName).toBe('rbee-onnx-runtime');
    expect(runtimeCacheRuleFor(new URL(`${APP}/wllama/wllama.wasm`), APP)?.cacheName).toBe('rbee-wllama');
    expect(runtimeCacheRuleFor(new URL(`${APP}/_app/immutable/chunks/big.js`), APP)?.cacheName).toBe('rbee-app-runtimes');
  });

  test('the same paths on any other origin are not (a look-alike host, another port, another scheme)', () => {
    for (const other of ['https://evil.example', 'https://rbee.example:8443', 'http://rbee.example', 'https://cdn.jsdelivr.net'])
      for (const path of ['/ort/ort-wasm-simd-threaded.asyncify.wasm', '/wllama/wllama.wasm', '/_app/immutable/chunks/big.js'])
        expect(runtimeCacheRuleFor(new URL(`${other}${path}`), APP), `${other}${path}`).toBeUndefined();
  });

  test('other paths on this origin are not runtime-cached', () => {
    for (const path of ['/', '/settings', '/ortho/x.wasm', '/api/ort/x', '/_app/version.json']) expect(runtimeCacheRuleFor(new URL(`${APP}${path}`), APP), path).toBeUndefined();
  });
});

describe('runtimes kept with a downloaded model', () => {
  test('the CPU engine needs llama.cpp\'s wasm, which a runtime cache holds; the WebGPU engine is all shell', () => {
    expect(runtimeFilesFor('wasm')).toEqual(['/wllama/wllama.wasm']);
    for (const path of runtimeFilesFor('wasm')) expect(runtimeCacheRuleFor(new URL(`${APP}${path}`), APP)?.cacheName).toBe('rbee-wllama');
    expect(runtimeFilesFor('webgpu')).toEqual([]);
  });
});

describe('the shell precache list', () => {
  test('SvelteKit output paths become the file names build/ has', () => {
    expect(shellUrl('client/_app/immutable/entry/app.js')).toBe('_app/immutable/entry/app.js');
    expect(shellUrl('prerendered/pages/settings.html')).toBe('settings.html');
    expect(shellUrl('prerendered/pages/index.html')).toBe('index.html');
  });

  test('runtimes and files over the shell limit are left out', async () => {
    const entry = (url: string, size: number) => ({ url, size, revision: null });
    const result = await shellPrecacheTransform([
      entry('client/_app/immutable/entry/app.js', 30_000),
      entry('prerendered/pages/chat.html', 4_000),
      entry('client/ort/ort-wasm-simd-threaded.asyncify.mjs', 53_000),
      entry('client/wllama/wllama.js', 10_000),
      entry('client/_app/immutable/assets/ort-wasm-simd-threaded.asyncify.wasm', 26_861_777),
      entry('client/_app/immutable/chunks/transformers.js', SHELL_FILE_LIMIT_BYTES + 1),
    ]);
    expect(result.manifest.map((e) => e.url)).toEqual(['_app/immutable/entry/app.js', 'chat.html']);
    expect(result.warnings).toEqual([]);
  });
});

describe('cross-origin isolation headers', () => {
  test('are added to a response, keeping status, body and the other headers', async () => {
    const response = withCrossOriginIsolation(new Response('<!doctype html>', { status: 200, headers: { 'content-type': 'text/html' } }));
    for (const [name, value] of Object.entries(CROSS_ORIGIN_ISOLATION_HEADERS)) expect(response.headers.get(name)).toBe(value);
    expect(response.headers.get('content-type')).toBe('text/html');
    expect(await response.text()).toBe('<!doctype html>');
    expect(CROSS_ORIGIN_ISOLATION_HEADERS['Cross-Origin-Embedder-Policy']).toBe('credentialless');
  });

  test('bodiless statuses are rebuilt without a body; a response that has both headers is returned as it is', () => {
    expect(withCrossOriginIsolation(new Response(null, { status: 304 })).headers.get('Cross-Origin-Opener-Policy')).toBe('same-origin');
    const already = new Response('x', { headers: CROSS_ORIGIN_ISOLATION_HEADERS });
    expect(withCrossOriginIsolation(already)).toBe(already);
  });
});
