/**
 * Vite plugin (build tooling, Node only): serves llama.cpp's WebAssembly build (@wllama/wllama's wllama.wasm) at
 * /wllama/ in development and emits it into the client build as wllama/…, so the CPU engine loads its runtime from this
 * app (wasm-runtime.ts) and the service worker can keep it for offline use. Copied from node_modules, never committed.
 */
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Plugin } from 'vite';
import { CROSS_ORIGIN_ISOLATION_HEADERS } from '../pwa/cross-origin-isolation.ts';
import { WLLAMA_RUNTIME_FOLDER, WLLAMA_WASM_FILE } from './wasm-runtime.ts';

/** @wllama/wllama's prebuilt wasm ("exports" hides the file from require.resolve, so the folder is looked up directly). */
export function wllamaWasmPath(root = process.cwd()): string {
  return join(root, 'node_modules/@wllama/wllama/esm/wasm', WLLAMA_WASM_FILE);
}

export function wllamaRuntimeFiles(): Plugin {
  let file = '';
  return {
    name: 'rbee-wllama-runtime-files',
    configResolved(config) {
      file = wllamaWasmPath(config.root);
    },
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const path = (req.url ?? '').split('?')[0]!;
        if (path !== `/${WLLAMA_RUNTIME_FOLDER}${WLLAMA_WASM_FILE}` || !existsSync(file)) return next();
        res.setHeader('Content-Type', 'application/wasm');
        createReadStream(file).pipe(res);
      });
    },
    generateBundle() {
      // The client build only: the server build (SSR / prerender) never loads the runtime.
      if (this.environment && this.environment.name !== 'client') return;
      if (!existsSync(file)) this.error(`llama.cpp's WebAssembly build ${file} is missing: run npm install.`);
      this.emitFile({ type: 'asset', fileName: `${WLLAMA_RUNTIME_FOLDER}${WLLAMA_WASM_FILE}`, source: readFileSync(file) });
    },
  };
}

/**
 * Cross-origin isolation for `npm start` (vite preview) and the dev server: llama.cpp's WebAssembly build runs on every
 * core only where SharedArrayBuffer exists, i.e. in a cross-origin-isolated page. (A middleware, not Vite's
 * `preview.headers`: SvelteKit's preview handler answers before those are applied.) The installed PWA on a plain static
 * host gets the same headers from its service worker; both read them from src/lib/pwa/cross-origin-isolation.ts.
 *
 * COEP `credentialless` rather than `require-corp`: both let CORS fetches through — Hugging Face downloads and its API,
 * the companion on loopback, the e2e suite's local hub and model servers, which all answer with
 * Access-Control-Allow-Origin — but require-corp also blocks every cross-origin no-cors load that lacks a
 * Cross-Origin-Resource-Policy header (an image from another host in a model card), where credentialless loads it
 * without cookies. Safari has no credentialless: there the page is not isolated and the CPU engine runs on one thread,
 * and says so.
 */
export { CROSS_ORIGIN_ISOLATION_HEADERS };

export function crossOriginIsolation(): Plugin {
  const isolate = (_req: unknown, res: { setHeader(name: string, value: string): void }, next: () => void) => {
    for (const [name, value] of Object.entries(CROSS_ORIGIN_ISOLATION_HEADERS)) res.setHeader(name, value);
    next();
  };
  return {
    name: 'rbee-cross-origin-isolation',
    configureServer(server) {
      // Vitest's browser mode serves its runner from this dev server: it runs no wasm threads, and stays as it was.
      if (process.env.VITEST) return;
      server.middlewares.use(isolate);
    },
    configurePreviewServer(server) {
      server.middlewares.use(isolate);
    },
  };
}
