import { defineConfig } from '@playwright/test';
import { chromiumArgs, chromiumPath } from './src/cli/browser-harness/chromium.js';

// End-to-end: Playwright drives the built app (vite build → vite preview) in real Chromium with WebGPU.
export default defineConfig({
  testDir: 'tests/e2e',
  timeout: 120_000,
  workers: 1,
  reporter: [['list']],
  use: {
    baseURL: 'http://127.0.0.1:4319',
    launchOptions: { executablePath: chromiumPath(), args: chromiumArgs },
  },
  webServer: {
    command: 'npx vite build && npx vite preview --host 127.0.0.1 --port 4319 --strictPort',
    url: 'http://127.0.0.1:4319/',
    timeout: 300_000,
    reuseExistingServer: !process.env.CI,
  },
});
