/**
 * Cross-origin isolation (SharedArrayBuffer, hence llama.cpp's WebAssembly build on every core) needs two headers on
 * the page and its workers. `npm start` (vite preview) sends them itself; a plain static host does not, so the service
 * worker adds them to every same-origin response it serves (src/service-worker.ts): once it controls the page, the
 * installed app is isolated on any host.
 *
 * The one definition: vite preview and dev send the same headers (crossOriginIsolation() in
 * src/lib/runtime/wasm-runtime-files.ts imports them from here).
 *
 * COEP `credentialless` (chosen with the wasm engine's work):
 * CORS fetches pass either way (Hugging Face downloads and the hub API, the companion on loopback, web-llm's and
 * transformers.js' model files all answer with Access-Control-Allow-Origin), but `require-corp` would also block every
 * cross-origin no-cors load without a Cross-Origin-Resource-Policy header, which credentialless loads without cookies.
 * Browsers without credentialless (Safari) stay un-isolated, and the CPU engine runs on one thread there.
 */
export const CROSS_ORIGIN_ISOLATION_HEADERS: Readonly<Record<string, string>> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'credentialless',
};

/**
 * The same response with the isolation headers added. Opaque and error responses (status 0) cannot be rebuilt and
 * never carry a page, so they pass unchanged; so does a response that already states both policies.
 */
export function withCrossOriginIsolation(response: Response): Response {
  if (response.status === 0 || response.type === 'opaque' || response.type === 'opaqueredirect') return response;
  const names = Object.keys(CROSS_ORIGIN_ISOLATION_HEADERS);
  if (names.every((name) => response.headers.has(name))) return response;
  const headers = new Headers(response.headers);
  for (const [name, value] of Object.entries(CROSS_ORIGIN_ISOLATION_HEADERS)) if (!headers.has(name)) headers.set(name, value);
  // 101/204/205/304 carry no body; new Response() refuses one for them.
  const body = [101, 204, 205, 304].includes(response.status) ? null : response.body;
  return new Response(body, { status: response.status, statusText: response.statusText, headers });
}
