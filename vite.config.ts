import { sveltekit } from '@sveltejs/kit/vite';
import { SvelteKitPWA } from '@vite-pwa/sveltekit';
import { playwright } from '@vitest/browser-playwright';
import { defineConfig } from 'vitest/config';
import { chromiumPath, chromiumArgs } from './src/cli/browser-harness/chromium.js';
import { onnxRuntimeFiles } from './src/lib/runtime/onnx-runtime-files.ts';
import { crossOriginIsolation, wllamaRuntimeFiles } from './src/lib/runtime/wasm-runtime-files.ts';
import { frameHeadersPlugin } from './src/lib/framing/frame-headers.ts';
import { RUNTIME_FOLDERS, shellPrecacheTransform } from './src/lib/pwa/shell-precache.ts';

export default defineConfig({
  plugins: [
    // Only /embed may be framed, by any site; every other page refuses (src/lib/framing/frame-policy.ts).
    frameHeadersPlugin(),
    sveltekit(),
    // ONNX Runtime's WASM files for transformers.js, served by the app (ort/), copied from node_modules at build time.
    onnxRuntimeFiles(),
    // llama.cpp's WebAssembly build for the CPU engine, served by the app (wllama/), copied from node_modules at build time.
    wllamaRuntimeFiles(),
    // COOP/COEP on `npm start` (vite preview) and the dev server, so the CPU engine gets threads (see the plugin for
    // why COEP credentialless).
    crossOriginIsolation(),
    SvelteKitPWA({
      registerType: 'autoUpdate',
      // Registered as /service-worker.js for the whole site, from whichever page the app starts on.
      base: '/',
      scope: '/',
      manifest: {
        name: 'rbee-web',
        short_name: 'rbee',
        description: 'Run open LLMs on your own machine, in the browser, on WebGPU.',
        start_url: '/',
        scope: '/',
        display: 'standalone',
        background_color: '#101014',
        theme_color: '#f5b301',
        icons: [
          { src: '/icon-192.png', sizes: '192x192', type: 'image/png' },
          { src: '/icon-512.png', sizes: '512x512', type: 'image/png' },
          { src: '/icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
        ],
      },
      // Our own service worker (src/service-worker.ts, built by SvelteKit) with workbox's precaching: the shell only,
      // under file names any static host serves; runtimes cached on first use; COOP/COEP added on static hosts.
      strategies: 'injectManifest',
      srcDir: 'src',
      filename: 'service-worker.ts',
      injectManifest: {
        globPatterns: ['client/**/*.{js,css,html,ico,png,svg,webp,webmanifest}', 'prerendered/**/*.{html,json}'],
        globIgnores: RUNTIME_FOLDERS.map((folder) => `client/${folder}**`),
        manifestTransforms: [shellPrecacheTransform],
        // Size is judged by the transform (SHELL_FILE_LIMIT_BYTES) so that large runtimes drop out quietly.
        maximumFileSizeToCacheInBytes: 64 * 1024 * 1024,
      },
    }),
  ],
  worker: { format: 'es' },
  // Browser tests read the shared fixtures (../shared/fixtures) through the dev server.
  server: { fs: { allow: ['.', '../shared'] } },
  test: {
    projects: [
      {
        extends: true,
        test: {
          // Plain Node: formats, compat, cache, tokenizer, the server — no browser.
          name: 'node',
          include: ['tests/node/**/*.test.ts'],
          environment: 'node',
          testTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          // The CLI as users run it: child processes (generate/score run the real worker in headless Chromium).
          name: 'cli',
          include: ['tests/cli/**/*.test.ts'],
          environment: 'node',
          testTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          // Agreement with llama.cpp (node-llama-cpp as the oracle), through the CLI's browser job.
          name: 'parity',
          include: ['tests/parity/**/*.test.ts'],
          environment: 'node',
          testTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'browser',
          include: ['tests/browser/**/*.test.ts'],
          testTimeout: 120_000,
          browser: {
            enabled: true,
            headless: true,
            screenshotFailures: false,
            instances: [{ browser: 'chromium' }],
            provider: playwright({ launchOptions: { executablePath: chromiumPath(), args: chromiumArgs } }),
          },
        },
      },
    ],
  },
});
