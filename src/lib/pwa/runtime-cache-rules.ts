/**
 * What the service worker keeps after first use (runtime caching), beside the precached app shell: the heavy runtimes
 * a first visit should not download (ONNX Runtime's 27 MB wasm, llama.cpp's wasm for the CPU engine, transformers.js'
 * and web-llm's bundles) are cached the first time a model needs them, so the offline app can run them after one
 * online use. Same-origin only: a URL on another host whose path happens to start with /ort/ is not ours to cache.
 */
export interface RuntimeCacheRule {
  /** The Cache Storage name (shown in DevTools; counted in the library's storage figure). */
  cacheName: string;
  /** Path prefix on this app's origin. */
  pathPrefix: string;
  /** Oldest entries are dropped past this many (the folders hold a handful of files each). */
  maxEntries: number;
}

export const RUNTIME_CACHE_RULES: readonly RuntimeCacheRule[] = [
  // ONNX Runtime's wasm + loader for transformers.js (onnx-runtime-files.ts serves them at /ort/).
  { cacheName: 'rbee-onnx-runtime', pathPrefix: '/ort/', maxEntries: 8 },
  // llama.cpp's WebAssembly build for the CPU engine (served at /wllama/ by the wasm engine's build plugin).
  { cacheName: 'rbee-wllama', pathPrefix: '/wllama/', maxEntries: 8 },
  // Hashed build output too large for the shell precache (transformers.js, web-llm): immutable, so cache-first is exact.
  { cacheName: 'rbee-app-runtimes', pathPrefix: '/_app/immutable/', maxEntries: 64 },
];

/** The rule for a request URL, or undefined: only this app's origin (`origin`), only the listed folders. */
export function runtimeCacheRuleFor(url: URL, origin: string): RuntimeCacheRule | undefined {
  if (url.origin !== origin) return undefined;
  return RUNTIME_CACHE_RULES.find((rule) => url.pathname.startsWith(rule.pathPrefix));
}
