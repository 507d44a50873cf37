// `npm start`: install what is missing, build the static app, serve it on localhost and print the URL — and little
// else. The build's own output (plugin notices, chunk-size warnings, "Run npm run preview…") is kept back and shown
// only if the build fails; vite runs through node, not npx, so npm does not repeat its config warnings.
import { spawnSync } from 'node:child_process';
import { ensurePackages } from './ensure.mjs';

const VITE = 'node_modules/vite/bin/vite.js';

ensurePackages();
const started = Date.now();
console.log('[rbee-web] building the app…');
const build = spawnSync(process.execPath, [VITE, 'build'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
if (build.status !== 0) {
  process.stdout.write(build.stdout ?? '');
  process.stderr.write(build.stderr ?? '');
  console.error(`[rbee-web] the build failed (exit ${build.status ?? build.signal}); its output is above.`);
  process.exit(1);
}
console.log(`[rbee-web] built in ${((Date.now() - started) / 1000).toFixed(0)} s`);

const port = Number(process.env.PORT ?? '4173');
const { preview } = await import('vite');
const server = await preview({ logLevel: 'silent', preview: { host: '127.0.0.1', port, strictPort: true, open: false } });
const url = server.resolvedUrls?.local[0] ?? `http://localhost:${port}/`;
console.log(`\n  rbee-web is running at ${url}\n  (Ctrl-C stops it)\n`);
