// Writes static/_headers (framing headers for static hosts that read such a file) from
// src/lib/framing/frame-policy.ts (run after changing the policy):
//   npx tsx scripts/headers-file.ts
import { writeFileSync } from 'node:fs';
import { headersFile } from '../src/lib/framing/frame-policy.ts';

writeFileSync('static/_headers', headersFile());
console.log('static/_headers written');
