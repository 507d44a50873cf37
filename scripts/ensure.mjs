// Installs what a fresh clone lacks before `npm start` / `npm test`: npm packages (npm ci when node_modules is
// missing or older than the lockfile) and, for tests, Debian's Chromium when no Chromium is found and apt exists.
import { execSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { chromiumPath } from '../src/cli/browser-harness/chromium.js';

const sh = (cmd) => execSync(cmd, { stdio: 'inherit' });

export function ensurePackages() {
  const stale =
    !existsSync('node_modules/.package-lock.json') ||
    statSync('package-lock.json').mtimeMs > statSync('node_modules/.package-lock.json').mtimeMs;
  if (stale) {
    console.log('[rbee-web] installing npm packages (npm ci)…');
    sh('npm ci --no-audit --no-fund');
  }
}

export function ensureChromium() {
  if (chromiumPath()) return;
  const hasApt = existsSync('/usr/bin/apt-get');
  if (!hasApt) {
    console.error('[rbee-web] No Chromium found. Install Chromium and set CHROMIUM_PATH to it, then run again.');
    process.exit(1);
  }
  console.log('[rbee-web] installing Debian chromium for the browser tests (apt-get)…');
  const sudo = process.getuid?.() === 0 ? '' : 'sudo ';
  sh(`${sudo}apt-get update -q && ${sudo}env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium`);
}
