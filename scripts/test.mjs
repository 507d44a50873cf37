// `npm test`: install what is missing, then every test layer: unit + browser (vitest), end-to-end (Playwright).
import { execSync } from 'node:child_process';
import { ensureChromium, ensurePackages } from './ensure.mjs';

ensurePackages();
ensureChromium();
const run = (cmd) => execSync(cmd, { stdio: 'inherit' });
let failed = false;
// svelte-kit sync writes the generated types; svelte-check type-checks everything (TypeScript strict, Svelte).
for (const cmd of ['npx svelte-kit sync', 'npx svelte-check --tsconfig ./tsconfig.json --threshold error', 'npx vitest run', 'npx playwright test']) {
  console.log(`\n[rbee-web] ${cmd}`);
  try {
    run(cmd);
  } catch {
    failed = true;
    console.error(`[rbee-web] FAILED: ${cmd}`);
  }
}
process.exit(failed ? 1 : 0);
