import { sveltekit } from '@sveltejs/kit/vite';
import { SvelteKitPWA } from '@vite-pwa/sveltekit';
import { playwright } from '@vitest/browser-playwright';
import { defineConfig } from 'vitest/config';
import { chromiumPath, chromiumArgs } from './src/cli/browser-harness/chromium.js';
import { onnxRuntimeFiles } from './src/lib/engines/onnx-runtime-files.ts';
import { crossOriginIsolation, wllamaRuntimeFiles } from './src/lib/engines/wasm-runtime-files.ts';
import { frameHeadersPlugin } from './src/lib/framing/frame-headers.ts';

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
      workbox: {
        globPatterns: ['**/*.{js,mjs,css,html,ico,png,svg,webmanifest,wasm}'],
        // ONNX Runtime (27 MB) is only for ONNX models: cached the first time one loads, not precached for everyone.
        globIgnores: ['ort/**'],
        runtimeCaching: [
          {
            urlPattern: ({ url }) => url.pathname.startsWith('/ort/'),
            handler: 'CacheFirst',
            options: { cacheName: 'rbee-onnx-runtime', expiration: { maxEntries: 8 } },
          },
        ],
        navigateFallback: '/index.html',
        maximumFileSizeToCacheInBytes: 32 * 1024 * 1024,
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
          name: 'unit',
          include: ['tests/unit/**/*.test.ts'],
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
