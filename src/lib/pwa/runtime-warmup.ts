/**
 * The service worker precaches the shell only and caches runtimes on first use (runtime-cache-rules.ts). Keeping a
 * model on this device is a promise that it runs offline, so that is a use too: the runtime its engine needs is fetched
 * once then, through the service worker, which keeps it. Today that is llama.cpp's WebAssembly build (8.7 MB) for
 * models the CPU engine runs; rbee-web's WebGPU engine is part of the shell.
 */
import type { Engine } from '../compat/verdict.ts';
import { WLLAMA_RUNTIME_FOLDER, WLLAMA_WASM_FILE } from '../runtime/wasm-runtime.ts';

/** Same-origin paths of the runtime files `engine` loads that the shell precache does not hold. */
export function runtimeFilesFor(engine: Engine): string[] {
  return engine === 'wasm' ? [`/${WLLAMA_RUNTIME_FOLDER}${WLLAMA_WASM_FILE}`] : [];
}

/**
 * Fetches those files so the service worker caches them; nothing happens without a service worker (vite dev) or when
 * they are cached already (the worker answers from its cache). Failures are left for the engine to report when it runs.
 */
export async function keepRuntimeFor(engine: Engine): Promise<void> {
  if (typeof navigator === 'undefined' || !navigator.serviceWorker?.controller) return;
  await Promise.all(
    runtimeFilesFor(engine).map(async (path) => {
      try {
        const response = await fetch(path);
        await response.arrayBuffer();
      } catch {
        // offline or refused: the engine fetches it when it first runs, and says so if it cannot
      }
    }),
  );
}
