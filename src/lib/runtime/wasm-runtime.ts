/**
 * Where the CPU engine's runtime lives and how many threads it gets. llama.cpp's WebAssembly build (@wllama/wllama's
 * prebuilt wllama.wasm) is served by this app at /wllama/ (copied from node_modules at build time by
 * wasm-runtime-files.ts, never from a CDN), so it works offline once the service worker has kept it.
 */

/** The folder under the app's root that holds the runtime; the service worker caches it on first use. */
export const WLLAMA_RUNTIME_FOLDER = 'wllama/';
/** The one file: wllama's worker code is bundled inside its JavaScript, the single/multi-thread build is one wasm. */
export const WLLAMA_WASM_FILE = 'wllama.wasm';

/** The runtime's URL under `appUrl` (the page's origin in the app; the harness's server in the CLI). */
export function wllamaWasmUrl(appUrl: string | URL): string {
  return new URL(`/${WLLAMA_RUNTIME_FOLDER}${WLLAMA_WASM_FILE}`, appUrl).href;
}

export interface WasmThreads {
  threads: number;
  /** Set when the engine runs on one thread for want of cross-origin isolation: the sentence the chat shows. */
  note?: string;
}

/**
 * Threads for llama.cpp: every logical core when the page is cross-origin isolated (SharedArrayBuffer, so wasm threads
 * exist), else one. Isolation comes from COOP/COEP headers: `npm start` / the dev server send them, and the installed
 * PWA's service worker adds them on hosts that do not.
 */
export function wasmThreads(env: { crossOriginIsolated?: boolean; hardwareConcurrency?: number } = browserEnv()): WasmThreads {
  if (env.crossOriginIsolated !== true) {
    return {
      threads: 1,
      note: 'Runs on 1 CPU thread: this page is not cross-origin isolated, so WebAssembly threads are unavailable (install the app, or serve it with COOP/COEP headers, for all cores).',
    };
  }
  return { threads: Math.max(1, Math.floor(env.hardwareConcurrency ?? 1)) };
}

function browserEnv(): { crossOriginIsolated?: boolean; hardwareConcurrency?: number } {
  const g = globalThis as { crossOriginIsolated?: boolean; navigator?: { hardwareConcurrency?: number } };
  return { ...(g.crossOriginIsolated !== undefined ? { crossOriginIsolated: g.crossOriginIsolated } : {}), ...(g.navigator?.hardwareConcurrency ? { hardwareConcurrency: g.navigator.hardwareConcurrency } : {}) };
}
