// Where Chromium lives and how to start it with real WebGPU (SwiftShader on machines without a GPU).
// The CLI's browser harness needs it at run time; vitest's browser mode, Playwright's end-to-end tests, the benchmarks
// and scripts/ensure.mjs start Chromium the same way. Plain JS so vite.config.ts and plain Node scripts can import it.
import { existsSync } from 'node:fs';

export const chromiumArgs = [
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** $CHROMIUM_PATH, then Debian's /usr/bin/chromium, then undefined (Playwright's own browser, if installed). */
export function chromiumPath() {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'];
  return candidates.find((p) => p && existsSync(p));
}
