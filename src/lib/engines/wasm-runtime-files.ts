/**
 * Vite plugin (build tooling, Node only): serves llama.cpp's WebAssembly build (@wllama/wllama's wllama.wasm) at
 * /wllama/ in development and emits it into the client build as wllama/…, so the CPU engine loads its runtime from this
 * app (wasm-runtime.ts) and the service worker can keep it for offline use. Copied from node_modules, never committed.
 */
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Plugin } from 'vite';
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
