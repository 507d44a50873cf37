/**
 * Vite plugin (build tooling, Node only): serves ONNX Runtime's WASM build at /ort/ in development and emits it into
 * the client build as ort/…, so transformers.js loads its runtime from this app (transformers-options.ts points
 * wasmPaths there) instead of a CDN, and the service worker can keep it for offline use. The files are copied from
 * node_modules at build time, never committed.
 */
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Plugin } from 'vite';
import { ORT_RUNTIME_FILES, ORT_RUNTIME_FOLDER } from './transformers-options.ts';

/**
 * onnxruntime-web's dist folder: transformers.js' own copy when npm nested one under it, else the top-level one.
 * (onnxruntime-web's package.json "exports" hide package.json itself, so the folders are looked up directly.)
 */
export function onnxRuntimeDist(root = process.cwd()): string {
  const candidates = [
    join(root, 'node_modules/@huggingface/transformers/node_modules/onnxruntime-web/dist'),
    join(root, 'node_modules/onnxruntime-web/dist'),
  ];
  return candidates.find((dir) => existsSync(join(dir, ORT_RUNTIME_FILES[1]))) ?? candidates[1]!;
}

const CONTENT_TYPES: Record<string, string> = { '.mjs': 'text/javascript', '.wasm': 'application/wasm' };

export function onnxRuntimeFiles(): Plugin {
  let dist = '';
  return {
    name: 'rbee-onnx-runtime-files',
    configResolved(config) {
      dist = onnxRuntimeDist(config.root);
    },
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const path = (req.url ?? '').split('?')[0]!;
        const name = path.startsWith(`/${ORT_RUNTIME_FOLDER}`) ? path.slice(ORT_RUNTIME_FOLDER.length + 1) : '';
        if (!(ORT_RUNTIME_FILES as readonly string[]).includes(name) || !existsSync(join(dist, name))) return next();
        res.setHeader('Content-Type', CONTENT_TYPES[name.slice(name.lastIndexOf('.'))] ?? 'application/octet-stream');
        createReadStream(join(dist, name)).pipe(res);
      });
    },
    generateBundle() {
      // The client build only: the server build (SSR / prerender) never loads ONNX Runtime.
      if (this.environment && this.environment.name !== 'client') return;
      for (const name of ORT_RUNTIME_FILES) {
        const file = join(dist, name);
        if (!existsSync(file)) this.error(`ONNX Runtime file ${file} is missing: run npm install.`);
        this.emitFile({ type: 'asset', fileName: `${ORT_RUNTIME_FOLDER}${name}`, source: readFileSync(file) });
      }
    },
  };
}
