// The shared real model files (../shared/fixtures beside the checkout). Tests that need them skip with a reason
// when they are absent (a clone elsewhere); CI and every developer machine have them.
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const FIXTURES = process.env.RBEE_FIXTURES ?? resolve(REPO_ROOT, '../shared/fixtures');
export const HAS_FIXTURES = existsSync(resolve(FIXTURES, 'models/stories260K.gguf'));
export const fixture = (rel: string): string => resolve(FIXTURES, rel);
