#!/usr/bin/env node
// The `rbee-web` CLI: the same TypeScript loaders, compat and engine code as the app, run through tsx.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
