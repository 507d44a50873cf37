/**
 * Build tooling (Node only): what the service worker precaches — the app shell and nothing heavier. Workbox lists the
 * SvelteKit output (.svelte-kit/output: client/… and prerendered/pages/…); this transform turns those paths into the
 * URLs a plain static host serves (build/ as written by adapter-static) and leaves out what a first visit should not pay
 * for. Heavy runtimes are cached on first use instead (runtime-cache-rules.ts).
 */
import type { ManifestTransform } from 'workbox-build';

/**
 * A file over this size is a runtime, not shell (transformers.js' bundle is ~6 MB, ONNX Runtime's wasm 27 MB; the
 * largest shell file, the inference worker, ~0.3 MB): it is left out of the precache and cached on first use.
 */
export const SHELL_FILE_LIMIT_BYTES = 1024 * 1024;
/** What a first visit may precache in all (issue 17: "about what the shell weighs"); the e2e test asserts it. */
export const SHELL_PRECACHE_BUDGET_BYTES = 5 * 1000 * 1000;
/** Folders of runtimes served beside the app (ONNX Runtime, llama.cpp's wasm): never precached, whatever their size. */
export const RUNTIME_FOLDERS = ['ort/', 'wllama/'] as const;

/**
 * Paths relative to .svelte-kit/output → URLs relative to the site root, as files that exist in build/: client files
 * keep their names; prerendered pages keep `.html` (a static host serves `settings.html`, not always `settings`;
 * workbox's precache route maps a navigation to `/settings` onto `settings.html` itself), and `index.html` stays
 * `index.html` (adapter-static writes the SPA fallback there; the precache serves it for `/`).
 */
export function shellUrl(outputPath: string): string {
  if (outputPath.startsWith('client/')) return outputPath.slice('client/'.length);
  if (outputPath.startsWith('prerendered/pages/')) return outputPath.slice('prerendered/pages/'.length);
  if (outputPath.startsWith('prerendered/dependencies/')) return outputPath.slice('prerendered/dependencies/'.length);
  return outputPath;
}

export const shellPrecacheTransform: ManifestTransform = async (entries) => {
  const warnings: string[] = [];
  const manifest = entries
    .map((entry) => ({ ...entry, url: shellUrl(entry.url) }))
    .filter((entry) => {
      if (RUNTIME_FOLDERS.some((folder) => entry.url.startsWith(folder)) || entry.url.endsWith('.wasm')) return false;
      if (entry.size > SHELL_FILE_LIMIT_BYTES) return false; // a runtime chunk: cached on first use
      return true;
    });
  const total = manifest.reduce((sum, entry) => sum + entry.size, 0);
  if (total > SHELL_PRECACHE_BUDGET_BYTES) warnings.push(`The precached app shell is ${total} bytes, over its ${SHELL_PRECACHE_BUDGET_BYTES}-byte budget.`);
  return { manifest, warnings };
};
